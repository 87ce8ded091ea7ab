#!/usr/bin/env bash
# imgsize reading an image from a registry on 127.0.0.1, beside skopeo copying the same
# image to an OCI layout (the download alone, nothing analysed), in one run.
#
#   benches/registry.sh                  # the `big` bench image (2 GB of tar, gzip)
#   IMAGE=whiteouts RUNS=5 benches/registry.sh
#
# Starts Debian's docker-registry (the CNCF distribution registry) on a free loopback
# port with its storage in a temporary directory, pushes bench-data/$IMAGE-oci.tar into
# it with skopeo, then times with hyperfine:
#   - imgsize report REF --no-cache            (download, decompress, hash, walk)
#   - skopeo copy docker://REF oci:DIR         (download and write the blobs)
#   - imgsize report REF with a warm cache     (manifest and config, no layer)
#   - imgsize report REF --manifest-only
#   - imgsize report bench-data/$IMAGE-oci.tar (the same image from a local file)
# and the peak RSS of each (GNU time). Results: bench-data/registry.md.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-big}
RUNS=${RUNS:-3}
OUT=bench-data/registry.md
mkdir -p bench-data

need() { command -v "$1" >/dev/null 2>&1; }
if ! need docker-registry || ! need skopeo || ! need hyperfine || ! [ -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq docker-registry skopeo hyperfine time >/dev/null
fi

cargo build --release --locked --bin imgsize --example mkimage
BIN=$PWD/target/release/imgsize
ARCHIVE=bench-data/$IMAGE-oci.tar
[ -f "$ARCHIVE" ] || target/release/examples/mkimage "$IMAGE" "$ARCHIVE" --format oci-archive

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
trap 'kill $REGISTRY_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break
  sleep 0.2
done

REF=127.0.0.1:$PORT/bench/$IMAGE:1
skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci-archive:$ARCHIVE" "docker://$REF"
COMPRESSED=$("$BIN" report "$REF" --manifest-only --format json --no-cache | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["compressed_bytes"])')

CACHE=$WORK/cache
"$BIN" report "$REF" --format json --no-progress --cache-dir "$CACHE" >/dev/null

declare -A CMDS=(
  [imgsize]="$BIN report $REF --format json --no-progress --no-cache"
  [imgsize-cached]="$BIN report $REF --format json --no-progress --cache-dir $CACHE"
  [imgsize-manifest]="$BIN report $REF --format json --no-progress --manifest-only --no-cache"
  [imgsize-local]="$BIN report $ARCHIVE --format json --no-progress"
  [skopeo]="skopeo --insecure-policy copy --quiet --src-tls-verify=false docker://$REF oci:$WORK/layout:1"
)
ORDER=(imgsize skopeo imgsize-cached imgsize-manifest imgsize-local)

hyperfine --warmup 1 --runs "$RUNS" --export-json "$WORK/times.json" \
  --prepare "rm -rf $WORK/layout" \
  -n imgsize "${CMDS[imgsize]}" \
  -n skopeo "${CMDS[skopeo]}" \
  -n imgsize-cached "${CMDS[imgsize-cached]}" \
  -n imgsize-manifest "${CMDS[imgsize-manifest]}" \
  -n imgsize-local "${CMDS[imgsize-local]}" >/dev/null

declare -A RSS
for k in "${ORDER[@]}"; do
  rm -rf "$WORK/layout"
  RSS[$k]=$( { /usr/bin/time -f %M sh -c "${CMDS[$k]} >/dev/null" ; } 2>&1 | tail -1)
done

python3 - "$WORK/times.json" "$IMAGE" "$COMPRESSED" <<EOF >"$OUT"
import json, sys
times = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
image, compressed = sys.argv[2], int(sys.argv[3])
rss = {$(for k in "${ORDER[@]}"; do printf '"%s": %s, ' "$k" "${RSS[$k]}"; done)}
base = times["skopeo"]["median"]
print(f"Image \`{image}\` ({compressed / 1e6:.1f} MB compressed) from a registry on 127.0.0.1; "
      f"median of {len(times['imgsize']['times'])} runs (hyperfine), peak RSS from GNU time.\n")
print("| command | median wall | σ | peak RSS | wall / skopeo copy |")
print("|---|---:|---:|---:|---:|")
for name in ["imgsize", "skopeo", "imgsize-cached", "imgsize-manifest", "imgsize-local"]:
    t = times[name]
    print(f"| {name} | {t['median']:.3f} s | {t['stddev'] or 0:.3f} s | {rss[name] / 1024:.0f} MB | {t['median'] / base:.2f} |")
EOF
cat "$OUT"
