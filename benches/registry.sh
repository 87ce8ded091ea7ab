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
#   - imgsize report of a derived image sharing all but one layer, cache warm
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

# A derived image: the bench image's layers but the last, plus one small new layer
# (an application on a shared base). With the cache warm from the bench image, only
# its new layer is downloaded.
skopeo --insecure-policy copy --quiet "oci-archive:$ARCHIVE" "oci:$WORK/derived:1"
python3 - "$WORK/derived" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return f"sha256:{d}", len(data)
def read(digest):
    return open(f"{root}/blobs/sha256/{digest.split(':')[1]}", "rb").read()
index = json.load(open(f"{root}/index.json"))
manifest = json.loads(read(index["manifests"][0]["digest"]))
config = json.loads(read(manifest["config"]["digest"]))
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    data = b"print('hello')\n" * 4096
    info = tarfile.TarInfo("app/main.py"); info.size = len(data); info.mtime = 0
    t.addfile(info, io.BytesIO(data))
diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
digest, size = blob(gzip.compress(raw.getvalue(), mtime=0))
manifest["layers"] = manifest["layers"][:-1] + [{
    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size}]
config["rootfs"]["diff_ids"] = config["rootfs"]["diff_ids"][:-1] + [diff_id]
config.pop("history", None)
cd, cs = blob(json.dumps(config).encode())
manifest["config"].update(digest=cd, size=cs)
md, ms = blob(json.dumps(manifest).encode())
index["manifests"][0].update(digest=md, size=ms)
json.dump(index, open(f"{root}/index.json", "w"))
PY
DERIVED=127.0.0.1:$PORT/bench/$IMAGE-app:1
skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci:$WORK/derived:1" "docker://$DERIVED"

CACHE=$WORK/cache
"$BIN" report "$REF" --format json --no-progress --cache-dir "$CACHE" >/dev/null

declare -A CMDS=(
  [imgsize]="$BIN report $REF --format json --no-progress --no-cache"
  [imgsize-cached]="$BIN report $REF --format json --no-progress --cache-dir $CACHE"
  [imgsize-manifest]="$BIN report $REF --format json --no-progress --manifest-only --no-cache"
  [imgsize-local]="$BIN report $ARCHIVE --format json --no-progress"
  [imgsize-shared-base]="$BIN report $DERIVED --format json --no-progress --cache-dir $WORK/cache2"
  [skopeo]="skopeo --insecure-policy copy --quiet --src-tls-verify=false docker://$REF oci:$WORK/layout:1"
)
ORDER=(imgsize skopeo imgsize-cached imgsize-shared-base imgsize-manifest imgsize-local)

# Each shared-base run starts from a copy of the cache that holds the bench image only.
FRESH="rm -rf $WORK/layout $WORK/cache2 && cp -r $CACHE $WORK/cache2"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$WORK/times.json" \
  --prepare "$FRESH" --prepare "$FRESH" --prepare "$FRESH" --prepare "$FRESH" \
  --prepare "$FRESH" --prepare "$FRESH" \
  -n imgsize "${CMDS[imgsize]}" \
  -n skopeo "${CMDS[skopeo]}" \
  -n imgsize-cached "${CMDS[imgsize-cached]}" \
  -n imgsize-shared-base "${CMDS[imgsize-shared-base]}" \
  -n imgsize-manifest "${CMDS[imgsize-manifest]}" \
  -n imgsize-local "${CMDS[imgsize-local]}" >/dev/null

declare -A RSS
for k in "${ORDER[@]}"; do
  sh -c "$FRESH"
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
for name in ["imgsize", "skopeo", "imgsize-cached", "imgsize-shared-base", "imgsize-manifest", "imgsize-local"]:
    t = times[name]
    print(f"| {name} | {t['median']:.3f} s | {t['stddev'] or 0:.3f} s | {rss[name] / 1024:.0f} MB | {t['median'] / base:.2f} |")
EOF
cat "$OUT"
