#!/usr/bin/env bash
# A fleet scan against the download of its distinct blobs: 100 images on 3 shared bases
# in a registry on 127.0.0.1, read by `imgsize scan` with a layer cache shared in Redis.
#
#   benches/fleet.sh                      # 100 images, best of 3 (about 4 minutes)
#   RUNS=5 SLOW_RUNS=3 benches/fleet.sh   # as in docs/performance.md
#   IMAGES=30 RUNS=1 LINK=0 benches/fleet.sh
#
# Writes the fleet once into bench-data/fleet/ (examples/mkfleet.rs: one OCI layout,
# 3 base families of about 30/60/90 MB of gzip shared 40/35/25, 1-3 layers of its own
# per image; remove the folder to write it again), starts Debian's docker-registry
# (plain http, storage in a temporary directory, info log: one `response completed`
# line with `http.response.written` per request) and a redis-server on free loopback
# ports, pushes the images with skopeo as 127.0.0.1:PORT/fleet/appNNN:v1, then times:
#   a. the distinct blobs downloaded once each with curl (every manifest, config and
#      layer digest once): PAR parallel transfers (default 4, as imgsize fetches up to
#      4 layers of an image at once), and one at a time;
#   b. imgsize scan --images LIST --cache redis://... , Redis emptied first;
#   c. the same as 3 workers at once (--shard 0/3, 1/3, 2/3) on one emptied Redis;
#   d. imgsize report NAME --format json --no-cache, once per image, one after another;
#   e. the scan again with the cache warm (manifests and configs only);
#   f. the scan of the same 100 images from the local OCI layout (oci:DIR:appNNN), one
#      emptied Redis: the decompression and walk with no registry in the way;
#   g. imgsize scan --manifest-only --no-cache: the per-image round trips alone;
#   a', b', c': a, b and c again through a link of LINK MB/s (default 100; 0 skips
#      them): a small proxy in front of the registry that sends what the registry
#      answers no faster than that, all connections sharing the rate (no latency
#      added), as a registry in the same region would be reached.
# Each is the best wall time of RUNS (default 3); b, c, d and f of SLOW_RUNS (default
# RUNS).
# For each: the bytes the registry served and the GET requests (from its log, for that
# run), the peak RSS (GNU time %M; the largest worker or report), the CPU time of the
# measured processes and of the registry (/proc). Results: bench-data/fleet.md, raw
# figures in bench-data/fleet.tsv. The servers and the proxy are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGES=${IMAGES:-100}
RUNS=${RUNS:-3}
SLOW_RUNS=${SLOW_RUNS:-$RUNS}
PAR=${PAR:-4}
LINK=${LINK:-100}
DATA=${BENCH_DATA:-bench-data}
FLEET=$DATA/fleet
LAYOUT=$FLEET/oci-$IMAGES
OUT=$DATA/fleet.md
TSV=$DATA/fleet.tsv
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$FLEET"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need docker-registry || ! need skopeo || ! need redis-server || ! need redis-cli \
  || ! need curl || ! need python3 || ! [ -x /usr/bin/time ]; then
  apt-get update -qq
  apt-get install -y -qq docker-registry skopeo redis-server redis-tools curl python3 time >/dev/null
fi

cargo build --release --locked --bin imgsize --example mkfleet
BIN=$(realpath "$TARGET/release/imgsize")
if ! [ -f "$LAYOUT/index.json" ]; then
  "$TARGET/release/examples/mkfleet" "$LAYOUT" --images "$IMAGES"
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
WORK=$(mktemp -d)
REGISTRY_PID=
REDIS_PID=
LINK_PID=
cleanup() {
  [ -z "$LINK_PID" ] || kill "$LINK_PID" 2>/dev/null || true
  [ -z "$REGISTRY_PID" ] || kill "$REGISTRY_PID" 2>/dev/null || true
  [ -z "$REDIS_PID" ] || kill "$REDIS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(free_port)
LOG=$WORK/registry.log
cat >"$WORK/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$WORK/config.yml" >"$LOG" 2>&1 &
REGISTRY_PID=$!
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
  >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null \
    && redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break
  sleep 0.2
done
REDIS=redis://127.0.0.1:$RPORT/0
HOST=127.0.0.1:$PORT

# The link: a TCP proxy whose downloads (registry to client) share LINK MB/s, each
# chunk sent when the link is free; requests pass as they come.
cat >"$WORK/link.py" <<'PY'
import asyncio, sys
listen, target, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) * 1e6
free_at = 0.0
async def take(n):
    global free_at
    now = asyncio.get_running_loop().time()
    # A bucket 20 ms deep: a late wake-up does not lose the link's time.
    free_at = max(now - 0.02, free_at) + n / rate
    if free_at > now:
        await asyncio.sleep(free_at - now)
async def pipe(r, w, limited):
    try:
        while data := await r.read(65536):
            if limited:
                await take(len(data))
            w.write(data)
            await w.drain()
    except OSError:
        pass
    finally:
        w.close()
async def handle(cr, cw):
    try:
        sr, sw = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        cw.close()
        return
    await asyncio.gather(pipe(cr, sw, False), pipe(sr, cw, True))
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
if [ "$LINK" != 0 ]; then
  LPORT=$(free_port)
  python3 "$WORK/link.py" "$LPORT" "$PORT" "$LINK" >"$WORK/link.log" 2>&1 &
  LINK_PID=$!
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$LPORT/v2/" >/dev/null && break; sleep 0.2; done
fi

# The images, the curl list of the distinct blobs and the fleet's figures, from the
# layout: every manifest, every config and every layer digest once, each fetched from
# the first image that has it.
python3 - "$LAYOUT" "$HOST" "$WORK" <<'PY'
import json, sys
layout, host, work = sys.argv[1:]
def blob(d):
    return json.load(open(f"{layout}/blobs/sha256/{d.split(':')[1]}"))
index = json.load(open(f"{layout}/index.json"))
names, urls, seen = [], [], set()
distinct = {"manifest": 0, "config": 0, "layer": 0}
fleet = 0
bases = {}
for m in index["manifests"]:
    ann = m["annotations"]
    name = ann["org.opencontainers.image.ref.name"]
    names.append(name)
    bases[ann["io.imgsize.fleet.base"]] = bases.get(ann["io.imgsize.fleet.base"], 0) + 1
    repo = f"http://{host}/v2/fleet/{name}"
    urls.append(f"{repo}/manifests/v1")
    distinct["manifest"] += m["size"]
    fleet += m["size"]
    man = blob(m["digest"])
    for kind, d in [("config", man["config"])] + [("layer", l) for l in man["layers"]]:
        fleet += d["size"]
        if d["digest"] not in seen:
            seen.add(d["digest"])
            distinct[kind] += d["size"]
            urls.append(f"{repo}/blobs/{d['digest']}")
open(f"{work}/names", "w").write("".join(n + "\n" for n in names))
open(f"{work}/images.txt", "w").write("".join(f"{host}/fleet/{n}:v1\n" for n in names))
open(f"{work}/local.txt", "w").write("".join(f"oci:{layout}:{n}\n" for n in names))
open(f"{work}/curl.cfg", "w").write(
    "".join(f'url = "{u}"\noutput = "/dev/null"\n' for u in urls))
layers = len([u for u in urls if "/blobs/" in u]) - len(names)
json.dump({"images": len(names), "bases": bases, "distinct": distinct, "fleet_bytes": fleet,
           "distinct_layers": layers, "requests": len(urls)},
          open(f"{work}/fleet.json", "w"))
PY

# Push: the first image of each base alone (skopeo's blob cache then mounts the base
# into the other repositories instead of uploading it again), then the rest 4 at a time.
push() {
  skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
    "oci:$LAYOUT:$1" "docker://$HOST/fleet/$1:v1"
}
export -f push
export LAYOUT HOST
start=$EPOCHREALTIME
python3 -c '
import json, sys
firsts = {}
for m in json.load(open(sys.argv[1]))["manifests"]:
    firsts.setdefault(m["annotations"]["io.imgsize.fleet.base"], m["annotations"]["org.opencontainers.image.ref.name"])
print("\n".join(firsts.values()))' "$LAYOUT/index.json" >"$WORK/firsts"
while read -r name; do push "$name"; done <"$WORK/firsts"
grep -vxF -f "$WORK/firsts" "$WORK/names" | xargs -P 4 -I{} bash -c 'push {}'
echo "fleet: pushed $IMAGES images in $(python3 -c "print(f'{$EPOCHREALTIME - $start:.0f}')") s" >&2

TICKS=$(getconf CLK_TCK)
cpu_of() { awk -v t="$TICKS" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
flush() { redis-cli -p "$RPORT" flushall >/dev/null; }
nothing() { :; }
# What the registry served since byte OFFSET of its log: bytes, blob GETs, manifest GETs.
served() {
  sleep 0.3 # the last request's line is written after its response
  tail -c +"$(($1 + 1))" "$LOG" | python3 -c '
import re, sys
total = blobs = manifests = 0
for line in sys.stdin:
    if "response completed" not in line or "http.request.method=GET" not in line:
        continue
    m = re.search(r"http\.response\.written=(\d+)", line)
    total += int(m.group(1)) if m else 0
    blobs += "/blobs/" in line
    manifests += "/manifests/" in line
print(total, blobs, manifests)'
}
# A run's own figures: the run function writes "RSS_KB CPU_S" of its processes to
# $WORK/usage (GNU time of each, largest RSS, summed CPU) and checks its output.
usage_of() { # the GNU time files given: largest %M, summed %U+%S
  awk 'NF == 3 && $1 ~ /^[0-9]+$/ { if ($1 + 0 > m) m = $1 + 0; c += $2 + $3 } END { printf "%d %.2f\n", m, c }' "$@" >"$WORK/usage"
}
records_ok() { # FILE...: every image once, each an `image` record read whole
  python3 - "$IMAGES" "$@" <<'PY'
import json, sys
want, files = int(sys.argv[1]), sys.argv[2:]
recs = [json.loads(l) for f in files for l in open(f) if l.strip()]
good = {r["name"] for r in recs if r.get("kind") == "image" and r.get("complete")}
if len(recs) != want or len(good) != want:
    bad = [r for r in recs if r.get("kind") != "image" or not r.get("complete")][:3]
    sys.exit(f"{len(recs)} records, {len(good)} complete images (want {want}): {bad}")
PY
}

# The curl list and the image list the runs read: the registry's, or the link's.
CFG=$WORK/curl.cfg
LIST=$WORK/images.txt
run_xfer() {
  /usr/bin/time -f '%M %U %S' -o "$WORK/t.0" curl -sfZ --parallel-max "$PAR" \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' -K "$CFG" 2>"$WORK/err.0"
  usage_of "$WORK/t.0"
}
run_xfer1() {
  /usr/bin/time -f '%M %U %S' -o "$WORK/t.0" curl -sf \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' -K "$WORK/curl.cfg" 2>"$WORK/err.0"
  usage_of "$WORK/t.0"
}
run_scan() {
  # shellcheck disable=SC2086 # SCAN_JOBS adds two words or none
  /usr/bin/time -f '%M %U %S' -o "$WORK/t.0" "$BIN" scan --images "$LIST" \
    --cache "$REDIS" --no-progress ${SCAN_JOBS:+--jobs $SCAN_JOBS} >"$WORK/records.0" 2>"$WORK/err.0"
  usage_of "$WORK/t.0"
  records_ok "$WORK/records.0"
}
run_local() {
  /usr/bin/time -f '%M %U %S' -o "$WORK/t.0" "$BIN" scan --images "$WORK/local.txt" \
    --cache "$REDIS" --no-progress >"$WORK/records.0" 2>"$WORK/err.0"
  usage_of "$WORK/t.0"
  records_ok "$WORK/records.0"
}
run_manifests() {
  /usr/bin/time -f '%M %U %S' -o "$WORK/t.0" "$BIN" scan --images "$WORK/images.txt" \
    --manifest-only --no-cache --no-progress >"$WORK/records.0" 2>"$WORK/err.0"
  usage_of "$WORK/t.0"
  [ "$(wc -l <"$WORK/records.0")" = "$IMAGES" ]
}
run_shards() {
  local pids=() i rc=0
  for i in 0 1 2; do
    /usr/bin/time -f '%M %U %S' -o "$WORK/t.$i" "$BIN" scan --images "$LIST" \
      --cache "$REDIS" --no-progress --shard "$i/3" >"$WORK/records.$i" 2>"$WORK/err.$i" &
    pids+=($!)
  done
  for i in 0 1 2; do wait "${pids[$i]}" || rc=$?; done
  usage_of "$WORK/t.0" "$WORK/t.1" "$WORK/t.2"
  [ "$rc" = 0 ] && records_ok "$WORK/records.0" "$WORK/records.1" "$WORK/records.2"
}
run_reports() {
  local name n=0 failed=0
  rm -f "$WORK/t.r"
  while read -r name; do
    /usr/bin/time -a -f '%M %U %S' -o "$WORK/t.r" "$BIN" report "$name" --format json \
      --no-cache --no-progress >"$WORK/report.json" 2>"$WORK/err.r" || failed=$((failed + 1))
    n=$((n + 1))
  done <"$WORK/images.txt"
  usage_of "$WORK/t.r"
  [ "$n" = "$IMAGES" ] && [ "$failed" = 0 ]
}

# measure KEY RUNS PREPARE RUN: the best wall time of RUNS runs of the function RUN,
# each after PREPARE (not timed); the bytes, requests and CPU of that best run.
: >"$TSV.tmp"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
measure() {
  local key=$1 runs=$2 prepare=$3 run=$4 r best="" line status
  for r in $(seq "$runs"); do
    "$prepare"
    local off reg0 t0 t1 reg1
    off=$(stat -c %s "$LOG")
    reg0=$(cpu_of "$REGISTRY_PID")
    t0=$EPOCHREALTIME
    status=ok
    "$run" || status=failed
    t1=$EPOCHREALTIME
    reg1=$(cpu_of "$REGISTRY_PID")
    line="$(python3 -c "print(f'{$t1 - $t0:.3f}')") $(served "$off") $(cat "$WORK/usage") $(python3 -c "print(f'{$reg1 - $reg0:.2f}')") $status"
    echo "fleet: $key run $r: wall bytes blob-gets manifest-gets rss-kB cpu-s registry-cpu-s: $line" >&2
    if [ "$status" != ok ]; then
      cat "$WORK"/err.* 2>/dev/null | head -5 >&2 || true
    fi
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(not ${line%% *} < ${best%% *})"; then
      best=$line
    fi
  done
  printf '%s %s\n' "$key" "$best" >>"$TSV.tmp"
}

measure xfer "$RUNS" nothing run_xfer
measure xfer1 "$RUNS" nothing run_xfer1
measure scan "$SLOW_RUNS" flush run_scan
SCAN_JOBS=1 measure scan1 "$SLOW_RUNS" flush run_scan
REDIS_BYTES=$(redis-cli -p "$RPORT" info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
REDIS_KEYS=$(redis-cli -p "$RPORT" dbsize)
measure warm "$RUNS" nothing run_scan
measure shards "$SLOW_RUNS" flush run_shards
measure reports "$SLOW_RUNS" nothing run_reports
measure local "$SLOW_RUNS" flush run_local
measure manifests "$RUNS" nothing run_manifests
if [ "$LINK" != 0 ]; then
  sed "s|$HOST/|127.0.0.1:$LPORT/|" "$WORK/curl.cfg" >"$WORK/curl-link.cfg"
  sed "s|^$HOST/|127.0.0.1:$LPORT/|" "$WORK/images.txt" >"$WORK/images-link.txt"
  CFG=$WORK/curl-link.cfg
  LIST=$WORK/images-link.txt
  measure xfer_link "$RUNS" nothing run_xfer
  measure scan_link "$SLOW_RUNS" flush run_scan
  SCAN_JOBS=1 measure scan1_link "$SLOW_RUNS" flush run_scan
  measure shards_link "$SLOW_RUNS" flush run_shards
fi
mv "$TSV.tmp" "$TSV"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$TSV" "$WORK/fleet.json" "$RUNS" "$SLOW_RUNS" "$PAR" "$REDIS_BYTES" "$REDIS_KEYS" "$(nproc)" \
  "$LOAD_BEFORE" "$LOAD_AFTER" "$LINK" <<'PY' >"$OUT"
import json, sys
tsv, fleet_json, runs, slow, par, redis_bytes, redis_keys, cores, load0, load1, link = sys.argv[1:]
f = json.load(open(fleet_json))
rows = {}
for line in open(tsv):
    k, wall, b, bg, mg, rss, cpu, reg, status = line.split()
    rows[k] = dict(wall=float(wall), bytes=int(b), blobs=int(bg), manifests=int(mg),
                   rss=int(rss), cpu=float(cpu), reg=float(reg), status=status)
d = f["distinct"]
distinct = sum(d.values())
mb = lambda n: f"{n / 1e6:.1f} MB"
print(f"{f['images']} images on 3 bases ({', '.join(f'{k} {v}' for k, v in f['bases'].items())}), "
      f"{f['distinct_layers']} distinct layers; distinct blobs {mb(distinct)} "
      f"(layers {mb(d['layer'])}, configs {mb(d['config'])}, manifests {mb(d['manifest'])}), "
      f"{mb(f['fleet_bytes'])} summed over the images. Registry and Redis on 127.0.0.1, "
      f"{cores} cores (load average {load0} before the runs, {load1} after). "
      f"Best of {runs} runs (a, e, g), of {slow} (b, c, d, f).\n")
labels = [
    ("xfer", f"a. distinct blobs once, curl, {par} parallel transfers"),
    ("xfer1", "a1. distinct blobs once, curl, one at a time"),
    ("scan", "b. `imgsize scan --cache redis://…`, cold cache (2 images at a time, the default)"),
    ("scan1", "b1. as b, one image at a time (`--jobs 1`)"),
    ("shards", "c. 3 workers `--shard I/3`, one cold cache (slowest; RSS of the largest)"),
    ("reports", f"d. `imgsize report NAME --no-cache`, {f['images']} one after another"),
    ("warm", "e. `imgsize scan --cache redis://…`, warm cache"),
    ("local", "f. as b, the images read from the local OCI layout (no registry)"),
    ("manifests", "g. `imgsize scan --manifest-only --no-cache`"),
]
a = rows["xfer"]["wall"]
print("| run | wall | / a | bytes served | / distinct | blob GETs | manifest GETs | peak RSS | CPU (its processes) | registry CPU | status |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for k, label in labels:
    r = rows[k]
    print(f"| {label} | {r['wall']:.2f} s | {r['wall'] / a:.2f} | {mb(r['bytes'])} | "
          f"{r['bytes'] / distinct:.2f} | {r['blobs']} | {r['manifests']} | {r['rss'] / 1024:.0f} MB | "
          f"{r['cpu']:.1f} s | {r['reg']:.1f} s | {r['status']} |")
b, c, dd = rows["scan"]["wall"], rows["shards"]["wall"], rows["reports"]["wall"]
print(f"\nRatios: b/a {b / a:.2f}, c/a {c / a:.2f}, d/a {dd / a:.2f}, d/b {dd / b:.2f} "
      f"(goal: b/a within 1.3). Bytes served over distinct bytes: "
      f"b {rows['scan']['bytes'] / distinct:.3f}, c {rows['shards']['bytes'] / distinct:.3f}, "
      f"d {rows['reports']['bytes'] / distinct:.2f}. "
      f"Redis after the cold scan: {redis_keys} keys, {int(redis_bytes) / 1e6:.1f} MB used.")
if "xfer_link" in rows:
    print(f"\nThrough a {link} MB/s link (a proxy in front of the registry; no latency added):\n")
    print("| run | wall | / a′ | bytes served | blob GETs | peak RSS | CPU (its processes) | registry CPU | status |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    al = rows["xfer_link"]["wall"]
    for k, label in [("xfer_link", f"a′. distinct blobs once, curl, {par} parallel transfers"),
                     ("scan_link", "b′. `imgsize scan --cache redis://…`, cold cache"),
                     ("scan1_link", "b1′. as b′, `--jobs 1`"),
                     ("shards_link", "c′. 3 workers `--shard I/3`, one cold cache")]:
        r = rows[k]
        print(f"| {label} | {r['wall']:.2f} s | {r['wall'] / al:.2f} | {mb(r['bytes'])} | {r['blobs']} | "
              f"{r['rss'] / 1024:.0f} MB | {r['cpu']:.1f} s | {r['reg']:.1f} s | {r['status']} |")
    print(f"\nRatios through the link: b′/a′ {rows['scan_link']['wall'] / al:.2f}, "
          f"c′/a′ {rows['shards_link']['wall'] / al:.2f}.")
PY
cat "$OUT"
