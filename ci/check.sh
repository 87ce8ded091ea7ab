#!/bin/sh
# imgsize's size gate for any CI, or none: checks IMAGE against the budgets and leaves
# every report format in one folder.
#
#   ci/check.sh IMAGE [more `imgsize check` arguments, e.g. --limit compressed=200MB]
#
# IMAGE is anything `imgsize check` reads: a `docker save` archive, an OCI layout or
# archive, a registry reference, docker-daemon:NAME or containers-storage:NAME.
#
# Environment (every variable is optional):
#   IMGSIZE             the imgsize program (default: imgsize on PATH)
#   IMGSIZE_BUDGET      the budget file (default: ./imgsize.toml when there is one);
#                       imgsize reads this variable itself
#   IMGSIZE_DOCKERFILE  the Dockerfile that built the image: failures and suggestions
#                       then name its lines
#   IMGSIZE_BASELINE    an earlier `imgsize report --format json`, for growth limits
#   IMGSIZE_FORMAT      what the log shows: table (default), markdown, json, junit, sarif
#   IMGSIZE_OUT         the folder for the reports (default: imgsize-out): imgsize.json,
#                       imgsize.md, imgsize.xml (JUnit) and imgsize.sarif
#
# Exit status is imgsize check's: 0 every budget holds, 1 a budget failed, 2 the image
# could not be checked (the reports may then be missing).
set -u

if [ $# -lt 1 ] || [ -z "$1" ]; then
  echo "usage: ci/check.sh IMAGE [imgsize check arguments...]" >&2
  exit 2
fi
image=$1
shift

imgsize=${IMGSIZE:-imgsize}
if ! command -v "$imgsize" >/dev/null 2>&1; then
  echo "ci/check.sh: cannot find imgsize (\"$imgsize\"): install it (cargo install --locked --path .) or set IMGSIZE" >&2
  exit 2
fi

out=${IMGSIZE_OUT:-imgsize-out}
if ! mkdir -p "$out"; then
  echo "ci/check.sh: cannot create the report folder $out" >&2
  exit 2
fi
# An empty IMGSIZE_BUDGET (a CI variable left blank) means the default budget file
# (imgsize itself reads an empty variable as unset; older builds did not).
[ -z "${IMGSIZE_BUDGET:-}" ] && unset IMGSIZE_BUDGET
rm -f "$out/imgsize.json" "$out/imgsize.md" "$out/imgsize.xml" "$out/imgsize.sarif"

if [ -n "${IMGSIZE_DOCKERFILE:-}" ]; then
  set -- "$@" --dockerfile "$IMGSIZE_DOCKERFILE"
fi
if [ -n "${IMGSIZE_BASELINE:-}" ]; then
  set -- "$@" --baseline "$IMGSIZE_BASELINE"
fi

"$imgsize" check "$image" --no-progress --format "${IMGSIZE_FORMAT:-table}" \
  --json "$out/imgsize.json" --markdown "$out/imgsize.md" \
  --junit "$out/imgsize.xml" --sarif "$out/imgsize.sarif" "$@"
code=$?

case $code in
  0) echo "imgsize: every budget holds; reports in $out/" >&2 ;;
  1) echo "imgsize: a budget failed; reports in $out/" >&2 ;;
  *) echo "imgsize: the image could not be checked (exit $code)" >&2 ;;
esac
exit "$code"
