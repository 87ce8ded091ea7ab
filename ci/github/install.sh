#!/bin/sh
# The install steps of imgsize's GitHub Action (action.yml).
#
#   install.sh key      writes `key` (a hash of the sources this action ships) and `root`
#                       (where that build is installed) to GITHUB_OUTPUT, for the cache
#   install.sh install  writes `bin`, the imgsize to run: INPUT_IMGSIZE_BIN when given,
#                       else ROOT/bin/imgsize, built with `cargo install --locked` from
#                       the action's own sources unless the cache restored it
set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
out=${GITHUB_OUTPUT:-/dev/null}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi
}

case ${1:-} in
  key)
    hash=$(cd "$src" && find Cargo.toml Cargo.lock src -type f | LC_ALL=C sort \
      | while IFS= read -r f; do sha256 < "$f"; done | sha256 | cut -c1-32)
    key="imgsize-$(uname -s)-$(uname -m)-$hash"
    root="${RUNNER_TOOL_CACHE:-${HOME:-/tmp}/.cache}/imgsize/$hash"
    { echo "key=$key"; echo "root=$root"; } >> "$out"
    ;;
  install)
    if [ -n "${INPUT_IMGSIZE_BIN:-}" ]; then
      bin=$INPUT_IMGSIZE_BIN
    else
      root=${IMGSIZE_ROOT:?install.sh install needs IMGSIZE_ROOT (from install.sh key)}
      bin=$root/bin/imgsize
      if [ ! -x "$bin" ]; then
        if ! command -v cargo >/dev/null 2>&1; then
          echo "::error title=imgsize::cargo is not on PATH: set up Rust first (dtolnay/rust-toolchain), or give the imgsize-bin input"
          exit 2
        fi
        cargo install --locked --path "$src" --root "$root" || exit 2
      fi
    fi
    if ! "$bin" --version >/dev/null 2>&1; then
      echo "::error title=imgsize::$bin does not run"
      exit 2
    fi
    echo "bin=$bin" >> "$out"
    "$bin" --version
    ;;
  *)
    echo "usage: install.sh key|install" >&2
    exit 2
    ;;
esac
