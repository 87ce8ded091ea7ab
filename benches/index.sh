#!/usr/bin/env bash
# imgsize against a registry index that has no image for this machine: how many
# requests it makes, how long it takes, how much memory it holds and how long its one
# error line is, for indexes of growing size (benches/index.py serves them on
# 127.0.0.1; child manifests answer 404, and in the last row they are served).
#
#   benches/index.sh                         # the release binary
#   IMGSIZE=/path/to/imgsize benches/index.sh
#
# Results: bench-data/index.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ -z "${IMGSIZE:-}" ]; then
  cargo build --release --locked --bin imgsize >/dev/null 2>&1
  IMGSIZE=$PWD/target/release/imgsize
fi
OUT=bench-data/index.md
mkdir -p bench-data
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

{
  echo "| entries | annotation bytes | index | requests (index, children) | seconds | peak RSS | error line |"
  echo "|---:|---:|---:|---|---:|---:|---:|"
} >"$OUT"
# name entries annotation-bytes serve-children minimal
for spec in "1k 1000 0 0 0" "100k 100002 0 0 0" "66MB 140000 200 0 0" \
  "100k-served 100002 0 1 0" "8-served 8 0 1 0" "760k-minimal 760000 0 0 1"; do
  set -- $spec
  MINIMAL=$5 SERVE_CHILDREN=$4 python3 benches/index.py "$2" "$3" "$WORK/counts.json" >"$WORK/port" &
  server=$!
  for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  port=$(cat "$WORK/port")
  start=$(date +%s.%N)
  /usr/bin/time -f %M -o "$WORK/rss" "$IMGSIZE" report "127.0.0.1:$port/app:1" --no-cache \
    --format json >/dev/null 2>"$WORK/err" || true
  end=$(date +%s.%N)
  kill -TERM "$server"; wait "$server" 2>/dev/null || true
  python3 - "$WORK" "$1" "$3" "$start" "$end" >>"$OUT" <<'PY'
import json, sys
work, name, pad, start, end = sys.argv[1:]
c = json.load(open(f"{work}/counts.json"))
rss = int(open(f"{work}/rss").read().split()[-1]) / 1024
err = open(f"{work}/err", "rb").read()
line = err.splitlines()[0] if err else b""
print(f"| {name} | {pad} | {c['index_bytes']/1e6:.1f} MB | {c['manifests']}, {c['children']} "
      f"| {float(end)-float(start):.2f} | {rss:.0f} MiB | {len(line):,} bytes |")
PY
  head -c 300 "$WORK/err"; echo
done
cat "$OUT"
