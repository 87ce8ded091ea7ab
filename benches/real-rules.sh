#!/usr/bin/env bash
# Single-fix rebuilds: is each suggestion's projected saving what a rebuild with only
# that fix saves? On the debootstrap root of benches/real-packages.sh (run it first),
# builds with umoci:
#   1  RUN apt-get update && apt-get install --no-install-recommends python3-minimal
#                                                        (apt lists and archives left)
#   2  RUN rm -rf /var/lib/apt/lists/*                   (deleted one layer too late)
#   3  COPY app/ (a git checkout, .git included)
# then rebuilds layer 1 (or 3) with one fix each and compares the drop in stored bytes
# with the suggestion's `bytes`:
#   apt-lists      && rm -rf /var/lib/apt/lists/*  in layer 1 (layer 2 kept)
#   deleted-later  the same rebuild: the lists deleted in the RUN that made them
#   apt-archives   && apt-get clean  in layer 1
#   dockerignore   layer 3 without .git
# The reports are taken with --base-layers 1 (umoci writes no CMD step to tell the base
# by). pip-cache is not checked here: pip inside the chroot does not get through this
# machine's TLS interception with the host's CA bundle.
#   benches/real-rules.sh [WORKDIR]      (default: bench-data/debian-packages)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$ROOT/bench-data/debian-packages}
IMGSIZE=$ROOT/target/release/imgsize
(cd "$ROOT" && cargo build --release --quiet --bin imgsize)
[ -d "$WORK/rootfs" ] || { echo "run benches/real-packages.sh first" >&2; exit 2; }
cd "$WORK"
rm -rf R app && mkdir app
( cd app && git init -q && for i in $(seq 200); do head -c 20000 /dev/urandom > "f$i.bin"; done &&
  git add . && git -c user.email=a@b -c user.name=b commit -qm one && echo "print(1)" > main.py )
umoci init --layout R >/dev/null

. "$ROOT/benches/umoci-steps.sh"

# build TAG INSTALL_SUFFIX KEEP_GIT
build() {
  local tag=$1 suffix=$2 git=$3 d=u.$1
  umoci_base "R:$tag" "$d" rootfs "/bin/sh -c #(nop) ADD file:rootfs in / "
  umoci_step "R:$tag" "$d" "/bin/sh -c apt-get install python3-minimal$suffix" \
    in_chroot "apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-minimal$suffix" "build.$tag.log"
  umoci_step "R:$tag" "$d" "/bin/sh -c rm -rf /var/lib/apt/lists/*" \
    sh -c 'rm -rf "$ROOTFS"/var/lib/apt/lists/*'
  umoci_step "R:$tag" "$d" "/bin/sh -c #(nop) COPY dir:app in /app " \
    sh -c 'cp -a app "$ROOTFS/app" && { [ "$0" = yes ] || rm -rf "$ROOTFS/app/.git"; }' "$git"
  rm -rf "$d"
  "$IMGSIZE" report R --image "$tag" --base-layers 1 --format json --top 100000 >"rules.$tag.json"
}
build asis "" yes
build lists " && rm -rf /var/lib/apt/lists/*" yes
build archives " && apt-get clean" yes
build nogit "" no

python3 - <<'PY'
import json
load = lambda t: json.load(open(f"rules.{t}.json"))
a = load("asis")
stored = lambda d: d["totals"]["stored_bytes"]
print(f"{'rule':14} {'projected':>12} {'rebuild saves':>14} {'error':>8}")
worst = 0
for rule, tag in [("apt-lists", "lists"), ("deleted-later", "lists"),
                  ("apt-archives", "archives"), ("dockerignore", "nogit")]:
    proj = sum(f["bytes"] for f in a["findings"] if f["rule"] == rule)
    real = stored(a) - stored(load(tag))
    err = (proj - real) / real * 100 if real else float("nan")
    worst = max(worst, abs(err))
    print(f"{rule:14} {proj:>12} {real:>14} {err:>+7.2f}%")
print(f"projected total (all findings, incremental): {a['projected']['saved_bytes']}")
print("every projection within 10%" if worst <= 10 else "PROJECTION OFF BY MORE THAN 10%")
PY
