#!/bin/sh
# Builds imgsize's own image from a binary built on the host (the Dockerfile's
# `prebuilt` target), saves it and gates it with imgsize itself.
#
#   ci/image/build.sh [BINARY [OUT.tar]]
#
# BINARY defaults to target/release/imgsize, OUT.tar to target/imgsize-image.tar (as
# `docker save` writes it; OUT.oci.tar is the same image with gzip layers, as a
# registry holds it). ci/image/stage.sh stages the binary, stripped, in
# ci/image/rootfs with the shared libraries `ldd` names, the CA bundle and an
# unprivileged user (its home in ci/image/home); `docker` (DOCKER_HOST) builds the image, skopeo copies it, and
# `imgsize check` judges the copy against ci/image/imgsize.toml. Exit status is the
# check's (0 within budget, 1 a budget failed, 2 could not check) or 2 when staging or
# the build fails.
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$repo/target/release/imgsize}
out=${2:-$repo/target/imgsize-image.tar}
tag=${IMGSIZE_IMAGE_TAG:-imgsize:ci}
root=$repo/ci/image/rootfs
home=$repo/ci/image/home

fail() {
  echo "ci/image/build.sh: $*" >&2
  exit 2
}

[ -x "$bin" ] || fail "no imgsize binary at $bin (cargo build --release first)"
"$repo/ci/image/stage.sh" "$bin" "$root" "$home" || exit 2

docker build --quiet --target prebuilt --tag "$tag" "$repo" >/dev/null \
  || fail "docker build --target prebuilt failed"
mkdir -p "$(dirname "$out")"
docker save --output "$out" "$tag" || fail "docker save $tag failed"
# The container reads an image as its unprivileged user, with no network.
docker run --rm --network none --volume "$repo/testdata:/data:ro" "$tag" \
  report /data/sample.tar --format json --no-progress > "${out%.tar}.sample.json" \
  || fail "the image cannot report on testdata/sample.tar"

# docker save writes the layers uncompressed; the registry copy is what a pull takes.
oci=${out%.tar}.oci.tar
rm -f "$oci"
skopeo copy --quiet --dest-compress-format gzip "docker-archive:$out" "oci-archive:$oci:$tag" \
  || fail "skopeo cannot copy $out to an OCI archive"

set +e
"$bin" check "$oci" --no-progress --budget "$repo/ci/image/imgsize.toml" \
  --dockerfile "$repo/Dockerfile"
code=$?
exit "$code"
