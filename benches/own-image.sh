#!/usr/bin/env bash
# The Dockerfile's default target, built from source as users build it, on a machine
# that cannot pull: stand-ins for its two bases are made locally under the names the
# Dockerfile asks for, then `docker build .` runs every stage (the legacy builder runs
# `prebuilt` too, so ci/image/build.sh stages it first), and the result is compared
# with the prebuilt target CI gates.
#
#   benches/own-image.sh          # needs root, docker.io, skopeo, the debootstrap rootfs
#
# - rust:1.95-slim-bookworm: the debootstrap minbase rootfs of benches/rebuilds.sh,
#   gcc and libc6-dev from Debian, this machine's Rust toolchain (bin/ and lib/ only),
#   and the host's CA bundle for cargo as CARGO_HTTP_CAINFO (the image's own kept).
# - gcr.io/distroless/cc-debian12:nonroot: what distroless/cc holds, from the host, as
#   ci/image/stage.sh stages it without the binary: glibc, libm, libgcc_s, the loader,
#   the CA bundle, user 65532 and its home.
# Both are removed at the end, with the engine (ci/image/with-dockerd.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROOTFS_TAR=${ROOTFS_TAR:-$ROOT/bench-data/rebuilds/base/debootstrap-bookworm-minbase.tar}
TOOLCHAIN=${TOOLCHAIN:-$(rustc --print sysroot)}
OUT=$ROOT/bench-data/own-image
[ -f "$ROOTFS_TAR" ] || { echo "no rootfs at $ROOTFS_TAR (benches/rebuilds.sh base makes it)" >&2; exit 2; }
mkdir -p "$OUT"
cargo build --release --locked --quiet --bin imgsize
IMGSIZE=$ROOT/target/release/imgsize

if [ -z "${DOCKER_HOST:-}" ]; then
  exec ci/image/with-dockerd.sh "$0" "$@"
fi
export DOCKER_BUILDKIT=0
ctx=$(mktemp -d /tmp/imgsize-own.XXXXXX)
trap 'rm -rf "$ctx"' EXIT

echo "== the prebuilt target (ci/image/build.sh)"
ci/image/build.sh "$IMGSIZE" "$OUT/prebuilt.tar" > "$OUT/prebuilt-check.txt" || true

echo "== stand-in bases"
docker import "$ROOTFS_TAR" debian-min:bookworm >/dev/null
mkdir -p "$ctx/rust/toolchain"
cp -a "$TOOLCHAIN/bin" "$TOOLCHAIN/lib" "$ctx/rust/toolchain/"
cp -L /etc/ssl/certs/ca-certificates.crt "$ctx/rust/host-ca.crt"
cat > "$ctx/rust/Dockerfile" <<'EOF'
FROM debian-min:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY toolchain/ /usr/local/rust/
COPY host-ca.crt /usr/local/share/host-ca.crt
ENV PATH=/usr/local/rust/bin:$PATH CARGO_HOME=/usr/local/cargo \
    CARGO_HTTP_CAINFO=/usr/local/share/host-ca.crt
EOF
docker build --quiet --network host -t rust:1.95-slim-bookworm "$ctx/rust" >/dev/null

ci/image/stage.sh "$IMGSIZE" "$ctx/distroless/root" "$ctx/distroless/home" --libraries-only
cat > "$ctx/distroless/Dockerfile" <<'EOF'
FROM scratch
COPY root/ /
COPY --chown=65532:65532 home/nonroot/ /home/nonroot/
EOF
docker build --quiet -t gcr.io/distroless/cc-debian12:nonroot "$ctx/distroless" >/dev/null

echo "== docker build . (the default target, from source)"
start=$(date +%s)
docker build --network host -t imgsize:source . > "$OUT/build.log" 2>&1
echo "built in $(( $(date +%s) - start )) s"
docker save -o "$OUT/source.tar" imgsize:source
skopeo copy --quiet --dest-compress-format gzip "docker-archive:$OUT/source.tar" \
  "oci-archive:$OUT/source.oci.tar:imgsize:source"
docker run --rm --network none --volume "$ROOT/testdata:/data:ro" imgsize:source \
  report /data/sample.tar --format json --no-progress > "$OUT/source.sample.json"

echo "== the two images"
for img in prebuilt source; do
  "$IMGSIZE" report "$OUT/$img.oci.tar" --no-progress --width 110 > "$OUT/$img.report.txt"
  "$IMGSIZE" report "$OUT/$img.oci.tar" --no-progress --format json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); t=d["totals"]; print(sys.argv[1], "compressed", t["compressed_bytes"], "uncompressed", t["uncompressed_bytes"], "layers", len([l for l in d["layers"] if l.get("digest")]), "findings", [f["rule"] for f in d["findings"]])' "$img"
done
cmp <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"])' "$OUT/source.sample.json") \
    <("$IMGSIZE" report testdata/sample.tar --format json --no-progress | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"])') \
  && echo "the source-built image reports the sample as the host's imgsize does"
docker rmi -f imgsize:source rust:1.95-slim-bookworm gcr.io/distroless/cc-debian12:nonroot debian-min:bookworm >/dev/null
