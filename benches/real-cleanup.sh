#!/usr/bin/env bash
# Do the category figures predict what a real cleanup saves? Rebuilds the image of
# benches/real-packages.sh (run that first: it leaves the debootstrap root and the
# report in its WORKDIR) with the apt cleanup in the same RUN:
#   apt-get install --no-install-recommends gcc python3-minimal \
#     && apt-get clean && rm -rf /var/lib/apt/lists/*
# and compares the drop in the layer's stored bytes with the apt-lists + apt-archives
# bytes imgsize attributed to that layer in the first build.
#   benches/real-cleanup.sh [WORKDIR]      (default: bench-data/debian-packages)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$ROOT/bench-data/debian-packages}
IMGSIZE=$ROOT/target/release/imgsize
[ -d "$WORK/rootfs" ] && [ -f "$WORK/report.json" ] || { echo "run benches/real-packages.sh first" >&2; exit 2; }
cd "$WORK"
. "$ROOT/benches/umoci-steps.sh"
rm -rf C c
umoci init --layout C
umoci_base C:clean c rootfs
umoci_step C:clean c "" in_chroot "apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc python3-minimal && apt-get clean && rm -rf /var/lib/apt/lists/*" apt-clean.log
"$IMGSIZE" report C --image clean --format json --top 100000 >report-clean.json
python3 - <<'PY'
import json
a = json.load(open("report.json")); b = json.load(open("report-clean.json"))
layer = lambda d: [l for l in d["layers"] if l["index"] == 1][0]
def cat(d, name):
    for c in d["categories"]:
        if c["category"] == name:
            return sum(l["content_bytes"] + l["wasted_bytes"] for l in c["layers"] if l["index"] == 1)
    return 0
projected = cat(a, "apt-lists") + cat(a, "apt-archives")
found = {f["rule"]: f for f in a["findings"] if f["layer"] == 1}
suggested = found["apt-lists"]["bytes"] + found["apt-archives"]["bytes"]
print(f"suggestions apt-lists + apt-archives on layer 1: {suggested}")
real = layer(a)["added_bytes"] - layer(b)["added_bytes"]
print(f"layer 1 stored: {layer(a)['added_bytes']} -> {layer(b)['added_bytes']}")
print(f"projected (apt-lists + apt-archives of layer 1): {projected}")
print(f"real saving: {real}  ({(projected - real) / real * 100:+.2f}%)")
PY
