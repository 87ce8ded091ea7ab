#!/usr/bin/env bash
# Accuracy of the package table on a real Debian image, against dpkg and apt themselves.
#
# Builds a two-layer image without any registry or Docker engine:
#   0  debootstrap --variant=minbase bookworm
#   1  apt-get install --no-install-recommends gcc python3-minimal
# with umoci, then checks imgsize's package table:
#   - every dpkg package's visible bytes equal the sizes of the regular files `dpkg -L`
#     lists for it in the final root filesystem (a file counted for the first package
#     that lists it, in name order, as imgsize does);
#   - the build-only closure equals what apt itself would remove:
#     `apt-get -s --auto-remove purge <the build-only packages>` in the image.
#
# Needs root, network access to the Debian archive, debootstrap and umoci.
#   benches/real-packages.sh [WORKDIR]      (default: bench-data/debian-packages)
#   REUSE=1 benches/real-packages.sh        check again an image built before
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$ROOT/bench-data/debian-packages}
IMGSIZE=$ROOT/target/release/imgsize
(cd "$ROOT" && cargo build --release --quiet --bin imgsize)
for tool in debootstrap umoci; do
  command -v "$tool" >/dev/null || apt-get install -y -qq "$tool" >/dev/null
done
if [ "${REUSE:-}" = 1 ] && [ -d "$WORK/L" ] && [ -d "$WORK/b/rootfs" ]; then
  cd "$WORK"
else
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"

debootstrap --variant=minbase bookworm rootfs http://deb.debian.org/debian >debootstrap.log
. "$ROOT/benches/umoci-steps.sh"
umoci init --layout L
umoci_base L:app b rootfs
umoci_step L:app b "" in_chroot "apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc python3-minimal" apt.log
fi

"$IMGSIZE" report L --image app --format json --top 100000 >report.json
python3 - "$WORK" <<'PY'
import json, os, stat, subprocess, sys
work = sys.argv[1]
root = os.path.join(work, "b/rootfs")
doc = json.load(open(os.path.join(work, "report.json")))
pk = {p["name"]: p for p in doc["packages"] if p["manager"] == "dpkg"}
names = subprocess.run(["chroot", root, "dpkg-query", "-W", "-f", "${Package}\n"],
                       capture_output=True, text=True, check=True).stdout.split()
seen, bad = set(), 0
for name in sorted(names):
    out = subprocess.run(["chroot", root, "dpkg", "-L", name], capture_output=True, text=True).stdout
    total = 0
    for path in out.splitlines():
        full = root + path
        try:
            st = os.lstat(full)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_ino not in seen:
            seen.add(st.st_ino)
            total += st.st_size
    got = pk.get(name, {}).get("bytes")
    if got != total:
        bad += 1
        print(f"MISMATCH {name}: dpkg -L {total}, imgsize {got}")
print(f"packages: dpkg knows {len(names)}, imgsize lists {len(pk)}; "
      f"{len(names) - bad} of {len(names)} sizes equal")
build = sorted(n for n, p in pk.items() if p["build_only"])
sim = subprocess.run(["chroot", root, "apt-get", "-s", "--auto-remove", "purge", *build],
                     capture_output=True, text=True, check=True).stdout
apt = sorted(l.split()[1] for l in sim.splitlines() if l.startswith("Purg "))
ours = sorted(doc["build_only"]["closure"])
print(f"build-only: {len(build)} packages, {doc['build_only']['bytes']} bytes")
print(f"closure: apt removes {len(apt)}, imgsize says {len(ours)} "
      f"({doc['build_only']['closure_bytes']} bytes)")
print("only apt:", sorted(set(apt) - set(ours)))
print("only imgsize:", sorted(set(ours) - set(apt)))
print("closure matches apt" if apt == ours else "CLOSURE MISMATCH")
sys.exit(0 if apt == ours and bad == 0 else 1)
PY
