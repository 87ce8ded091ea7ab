#!/usr/bin/env bash
# imgsize reading an image from a registry on 127.0.0.1, beside skopeo copying the same
# image to an OCI layout (the download alone, nothing analysed) and diving analysing it
# from the registry, in one run.
#
#   benches/registry.sh                  # the `big` bench image (2 GB of tar, gzip)
#   IMAGE=whiteouts RUNS=5 benches/registry.sh
#
# Starts Debian's docker-registry (the CNCF distribution registry) on a free loopback
# port, with TLS (a CA made here; diving speaks only https) and its storage in a
# temporary directory, pushes bench-data/$IMAGE-oci.tar into it with skopeo, then times
# with hyperfine:
#   - imgsize report REF --no-cache            (download, decompress, hash, walk)
#   - skopeo copy docker://REF oci:DIR         (download and write the blobs)
#   - imgsize report REF with a warm cache     (manifest and config, no layer)
#   - imgsize report of a derived image sharing all but one layer, cache warm
#   - imgsize report REF --manifest-only
#   - imgsize report bench-data/$IMAGE-oci.tar (the same image from a local file)
#   - diving REF, cold (its layer cache emptied) and warm
# and the peak RSS of each (GNU time). Results: bench-data/registry.md.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-big}
RUNS=${RUNS:-3}
OUT=bench-data/registry.md
mkdir -p bench-data

need() { command -v "$1" >/dev/null 2>&1; }
if ! need docker-registry || ! need skopeo || ! need hyperfine || ! need openssl || ! [ -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq docker-registry skopeo hyperfine openssl time >/dev/null
fi
need diving || cargo install --locked diving

cargo build --release --locked --bin imgsize --example mkimage
BIN=$PWD/target/release/imgsize
ARCHIVE=bench-data/$IMAGE-oci.tar
[ -f "$ARCHIVE" ] || target/release/examples/mkimage "$IMAGE" "$ARCHIVE" --format oci-archive

WORK=$(mktemp -d)
# A CA and a server certificate for 127.0.0.1; diving finds the CA through
# SSL_CERT_FILE, skopeo through a cert directory, imgsize through --ca-cert.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
  -keyout "$WORK/server.key" -out "$WORK/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$WORK/san"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" \
  -CAcreateserial -days 2 -extfile "$WORK/san" -out "$WORK/server.crt" 2>/dev/null
mkdir -p "$WORK/certs" "$WORK/home"
cp "$WORK/ca.crt" "$WORK/certs/"
cat /etc/ssl/certs/ca-certificates.crt "$WORK/ca.crt" >"$WORK/bundle.pem"
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
  tls:
    certificate: $WORK/server.crt
    key: $WORK/server.key
EOF
docker-registry serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
trap 'kill $REGISTRY_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do
  curl -fs --cacert "$WORK/ca.crt" "https://127.0.0.1:$PORT/v2/" >/dev/null && break
  sleep 0.2
done

REF=127.0.0.1:$PORT/bench/$IMAGE:1
skopeo --insecure-policy copy --quiet --dest-cert-dir "$WORK/certs" "oci-archive:$ARCHIVE" "docker://$REF"
export IMGSIZE_CA_CERT=$WORK/ca.crt
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
skopeo --insecure-policy copy --quiet --dest-cert-dir "$WORK/certs" "oci:$WORK/derived:1" "docker://$DERIVED"

CACHE=$WORK/cache
"$BIN" report "$REF" --format json --no-progress --cache-dir "$CACHE" >/dev/null

declare -A CMDS=(
  [imgsize]="$BIN report $REF --format json --no-progress --no-cache"
  [imgsize-cached]="$BIN report $REF --format json --no-progress --cache-dir $CACHE"
  [imgsize-manifest]="$BIN report $REF --format json --no-progress --manifest-only --no-cache"
  [imgsize-local]="$BIN report $ARCHIVE --format json --no-progress"
  [imgsize-shared-base]="$BIN report $DERIVED --format json --no-progress --cache-dir $WORK/cache2"
  [skopeo]="skopeo --insecure-policy copy --quiet --src-cert-dir $WORK/certs docker://$REF oci:$WORK/layout:1"
  [diving]="env HOME=$WORK/home SSL_CERT_FILE=$WORK/bundle.pem diving $REF -o $WORK/diving.json"
  [diving-warm]="env HOME=$WORK/home-warm SSL_CERT_FILE=$WORK/bundle.pem diving $REF -o $WORK/diving.json"
)
ORDER=(imgsize skopeo diving imgsize-cached diving-warm imgsize-shared-base imgsize-manifest imgsize-local)

# diving's warm runs share one home whose cache an earlier run filled.
mkdir -p "$WORK/home-warm"
sh -c "${CMDS[diving-warm]}" >/dev/null 2>&1
# Each shared-base run starts from a copy of the cache that holds the bench image only;
# each cold diving run from an empty home.
FRESH="rm -rf $WORK/layout $WORK/cache2 $WORK/home/.diving && cp -r $CACHE $WORK/cache2"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$WORK/times.json" \
  --prepare "$FRESH" --prepare "$FRESH" --prepare "$FRESH" --prepare "$FRESH" \
  --prepare "$FRESH" --prepare "$FRESH" --prepare "$FRESH" --prepare "$FRESH" \
  -n imgsize "${CMDS[imgsize]}" \
  -n skopeo "${CMDS[skopeo]}" \
  -n diving "${CMDS[diving]}" \
  -n diving-warm "${CMDS[diving-warm]}" \
  -n imgsize-cached "${CMDS[imgsize-cached]}" \
  -n imgsize-shared-base "${CMDS[imgsize-shared-base]}" \
  -n imgsize-manifest "${CMDS[imgsize-manifest]}" \
  -n imgsize-local "${CMDS[imgsize-local]}" >/dev/null

declare -A RSS
for k in "${ORDER[@]}"; do
  sh -c "$FRESH"
  RSS[$k]=$( { /usr/bin/time -f %M sh -c "${CMDS[$k]} >/dev/null 2>&1" ; } 2>&1 | tail -1)
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
for name in ["imgsize", "skopeo", "diving", "imgsize-cached", "diving-warm", "imgsize-shared-base", "imgsize-manifest", "imgsize-local"]:
    t = times[name]
    print(f"| {name} | {t['median']:.3f} s | {t['stddev'] or 0:.3f} s | {rss[name] / 1024:.0f} MB | {t['median'] / base:.2f} |")
m = lambda n: times[n]["median"]
print(f"\nimgsize / diving: cold {m('imgsize') / m('diving'):.2f}x wall, "
      f"{rss['imgsize'] / rss['diving']:.2f}x memory; warm {m('imgsize-cached') / m('diving-warm'):.2f}x wall, "
      f"{rss['imgsize-cached'] / rss['diving-warm']:.2f}x memory")
EOF
cat "$OUT"
