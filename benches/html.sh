#!/usr/bin/env bash
# The HTML report on images of growing size: how long imgsize takes to write the page
# (and to write the JSON, for comparison), its peak memory, the page's size and tree,
# and how long headless chromium takes from navigation to an interactive page
# (body[data-ready], the first treemap drawn with every handler in place). Beside it,
# diving's web mode on the same archive: the time its server takes to answer the
# analysis its page loads (/api/analyze), and the bytes that page downloads.
#
#   benches/html.sh                       # sample, python (1 GB, 30k files), big if built
#   IMAGES="python" RUNS=3 benches/html.sh
#
# Needs hyperfine, GNU time, node with tests/browser's modules (npm ci --prefix
# tests/browser) and /usr/bin/chromium; diving (cargo install diving) and curl
# for its row, skipped when absent. Images are written to bench-data/ (gitignored)
# by the mkimage example.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-5}
IMAGES=${IMAGES:-"sample python big"}
cargo build --release --quiet --bin imgsize --example mkimage
IMGSIZE=$ROOT/target/release/imgsize
mkdir -p bench-data
[ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser --silent
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"; [ -n "${DIVING_PID:-}" ] && kill "$DIVING_PID" 2>/dev/null || true' EXIT

image() {
  case $1 in
    sample) echo "$ROOT/testdata/sample.tar" ;;
    python)
      [ -f bench-data/python.tar ] || target/release/examples/mkimage python bench-data/python.tar >&2
      echo "$ROOT/bench-data/python.tar" ;;
    big)
      # The 2 GB, 200k-file image of compare.sh; only when it has been built.
      for f in big.tar big-oci.tar; do [ -f "bench-data/$f" ] && { echo "$ROOT/bench-data/$f"; break; }; done ;;
  esac
}

if command -v diving >/dev/null && command -v curl >/dev/null; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  HOME=$OUT diving -m web -l "127.0.0.1:$PORT" >"$OUT/diving.log" 2>&1 &
  DIVING_PID=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/ping" >/dev/null && break; sleep 0.1; done
  # What diving's page downloads before any analysis: its index and assets.
  # (What the index references, gzip-compressed as served; chunks loaded later are not
  # counted, so this is a lower bound.)
  DIVING_ASSETS=$({ curl -s "http://127.0.0.1:$PORT/" | grep -oE '(src|href)="\.?/[^"]+"' || true; } \
    | sed -E 's/^(src|href)="\.?//; s/"$//' | sort -u \
    | while read -r p; do curl -s --compressed -o /dev/null -w '%{size_download}\n' "http://127.0.0.1:$PORT$p"; done \
    | awk '{s+=$1} END {print s+0}')
fi

printf '| image | files | tool | write ms | peak MB | page bytes | tree nodes | pruned | ready ms |\n'
printf '|---|---:|---|---:|---:|---:|---:|---:|---:|\n'
for name in $IMAGES; do
  img=$(image "$name") || true
  [ -n "$img" ] || { echo "note: $name skipped (not built)" >&2; continue; }
  cat "$img" >/dev/null # page cache
  hyperfine -N -w1 -r "$RUNS" --output=null --export-json "$OUT/hf.json" \
    -n html "$IMGSIZE report $img --format html --no-progress" \
    -n json "$IMGSIZE report $img --format json --no-progress" >/dev/null 2>&1
  "$IMGSIZE" report "$img" --format html --no-progress >"$OUT/page.html"
  for f in html json; do
    /usr/bin/time -f %M -o "$OUT/$f.mem" "$IMGSIZE" report "$img" --format "$f" --no-progress >/dev/null
  done
  for _ in $(seq "$RUNS"); do
    node tests/browser/drive.mjs "$OUT/page.html" "$OUT/shot.png" --timing-only \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["ready_ms"])'
  done >"$OUT/ready"
  diving_row=""
  if [ -n "${DIVING_PID:-}" ]; then
    url="http://127.0.0.1:$PORT/api/analyze?image=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote("file://"+sys.argv[1]))' "$img")"
    status=$(curl -s -o "$OUT/dv.body" -w '%{http_code}' "$url" || echo 000)
    if [ "$status" != 200 ]; then
      msg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("message","")[:70].replace("|","/"))' "$OUT/dv.body" 2>/dev/null || echo "HTTP $status")
      diving_row="| $name | | diving web | fails: $msg | | | | | |"
    else
      hyperfine -N -w1 -r "$RUNS" --export-json "$OUT/dv.json" -n diving "curl -sf -o /dev/null $url" >/dev/null 2>&1 || true
      payload=$(curl -s --compressed -o /dev/null -w '%{size_download}' "$url" || echo 0)
      rss=$(awk '/VmHWM/ {print $2}' "/proc/$DIVING_PID/status")
      diving_row=$(python3 - "$OUT/dv.json" "$payload" "${DIVING_ASSETS:-0}" "$rss" "$name" <<'PY'
import json, sys
try:
    ms = json.load(open(sys.argv[1]))["results"][0]["median"] * 1000
except Exception:
    ms = float("nan")
payload, assets, rss, name = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print(f"| {name} | | diving web | {ms:.0f} (analysis API) | {rss/1000:.0f} (server, peak so far) | {payload + assets} ({payload} analysis + {assets} assets, gzip) | | | needs its server |")
PY
)
    fi
  fi
  python3 - "$OUT" "$name" <<'PY'
import gzip, json, statistics, sys
out, name = sys.argv[1], sys.argv[2]
hf = {r["command"]: r["median"] * 1000 for r in json.load(open(f"{out}/hf.json"))["results"]}
mem = {f: int(open(f"{out}/{f}.mem").read().split()[-1]) / 1000 for f in ("html", "json")}
page = open(f"{out}/page.html", encoding="utf-8").read()
start = page.index('id="imgsize-data"')
start = page.index(">", start) + 1
doc = json.loads(page[start:page.index("</script>", start)])
t = doc["tree"]
ready = [float(x) for x in open(f"{out}/ready").read().split() if x != "None"]
files = doc["totals"]["files"]
pruned = f'{t["pruned_entries"]} entries, {t["pruned_bytes"]/1e6:.1f} MB'
gz = len(gzip.compress(page.encode(), 6, mtime=0))
print(f"| {name} | {files} | imgsize html | {hf['html']:.0f} | {mem['html']:.1f} | {len(page.encode())} ({gz} gzip) | {t['nodes']} | {pruned} | {statistics.median(ready):.0f} |")
print(f"| {name} | {files} | imgsize json | {hf['json']:.0f} | {mem['json']:.1f} | | | | |")
PY
  if [ -n "$diving_row" ]; then echo "$diving_row"; fi
done
