#!/usr/bin/env bash
# Accuracy check on a real image, against the filesystem itself.
#
# Builds a three-layer Debian image without any registry or Docker engine:
#   0  debootstrap --variant=minbase bookworm
#   1  apt-get install python3-minimal (leaves apt lists and .deb files behind)
#   2  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin (too late: shipped anyway)
# with umoci (which writes real whiteouts for deleted files), then compares imgsize's
# figures with the unpacked final root filesystem (regular files, hardlinks counted
# once, symlinks, directories) and with Python's tarfile over the layer blobs, and
# prints dive's and diving's waste figures beside imgsize's.
#
# Needs root, network access to the Debian archive, debootstrap, umoci and skopeo.
#   benches/real-debian.sh [WORKDIR]      (default: bench-data/debian)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$ROOT/bench-data/debian}
export IMGSIZE=$ROOT/target/release/imgsize
(cd "$ROOT" && cargo build --release --quiet --bin imgsize)
for tool in debootstrap umoci skopeo; do
  command -v "$tool" >/dev/null || apt-get install -y -qq "$tool" >/dev/null
done
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"

debootstrap --variant=minbase bookworm rootfs http://deb.debian.org/debian >debootstrap.log
. "$ROOT/benches/umoci-steps.sh"
umoci init --layout L
umoci_base L:py b rootfs
umoci_step L:py b "" in_chroot "apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-minimal" apt.log
umoci_step L:py b "" sh -c 'rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin'
skopeo --insecure-policy copy -q oci:L:py docker-archive:py.tar:debian/py:1

python3 - <<'PY'
import json, os, stat, subprocess, tarfile
seen, content, files, links, dirs = set(), 0, 0, 0, 0
for d, dn, fn in os.walk("b/rootfs"):
    for n in dn + fn:
        st = os.lstat(os.path.join(d, n))
        if stat.S_ISLNK(st.st_mode):
            links += 1
        elif stat.S_ISDIR(st.st_mode):
            dirs += 1
        elif stat.S_ISREG(st.st_mode):
            files += 1
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                content += st.st_size
idx = json.load(open("L/index.json"))
man = json.load(open("L/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
stored = sum(m.size for l in man["layers"]
             for m in tarfile.open("L/blobs/sha256/" + l["digest"][7:]).getmembers() if m.isreg())
truth = dict(stored_bytes=stored, content_bytes=content, wasted_bytes=stored - content,
             files=files, symlinks=links, dirs=dirs)
out = subprocess.run([os.environ.get("IMGSIZE", "imgsize"), "report", "L", "--image", "py",
                      "--format", "json"], capture_output=True, check=True, text=True).stdout
got = json.loads(out)["totals"]
print(f"{'figure':14} {'filesystem':>12} {'imgsize':>12}")
ok = True
for k, v in truth.items():
    print(f"{k:14} {v:>12} {got[k]:>12}{'' if got[k] == v else '  MISMATCH'}")
    ok &= got[k] == v
print("imgsize matches the filesystem" if ok else "MISMATCH")
PY
echo "-- waste as each tool reports it (docker-archive copy)"
echo "imgsize: $("$IMGSIZE" report py.tar --format json | python3 -c 'import json,sys;print(json.load(sys.stdin)["totals"]["wasted_bytes"])')"
if command -v dive >/dev/null; then
  echo "dive:    $(dive --source docker-archive py.tar --ci --lowestEfficiency=0 --highestUserWastedPercent=disabled --highestWastedBytes=disabled 2>&1 | sed -n 's/.*wastedBytes: \([0-9]*\).*/\1/p')"
fi
if command -v diving >/dev/null; then
  diving "file://$WORK/py.tar" --output-file diving.json >/dev/null 2>&1 &&
    echo "diving:  $(python3 -c 'import json;print(json.load(open("diving.json"))["wastedSize"])')"
fi
