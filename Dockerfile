# imgsize's own image: the imgsize binary, the C libraries it links, CA certificates
# for registries, and an unprivileged user; no shell, no package manager.
#
#   docker build -t imgsize .
#   docker run --rm -v "$PWD:/work" -w /work imgsize report app.tar
#   docker run --rm -v /var/run/docker.sock:/var/run/docker.sock imgsize report docker-daemon:app:1
#
# Two targets end in the same runtime. `runtime` (the default) builds imgsize from these
# sources in a Rust image. `prebuilt` takes a binary built outside Docker, staged with
# its libraries by ci/image/build.sh; it is the target CI builds and gates with
# `imgsize check` (ci/image/imgsize.toml). It comes first so that a builder without
# BuildKit, which runs every stage before the target, needs no base image for it.

ARG RUST_VERSION=1.95

FROM scratch AS prebuilt
COPY ci/image/rootfs/ /
COPY --chown=65532:65532 ci/image/home/nonroot/ /home/nonroot/
ENV HOME=/home/nonroot
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/imgsize"]
CMD ["--help"]

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY benches/walk.rs benches/walk.rs
COPY src src
RUN cargo build --release --locked --bin imgsize \
 && objcopy --strip-all target/release/imgsize /usr/local/bin/imgsize

# distroless/cc: glibc, libgcc, CA certificates and a `nonroot` user (65532), as the
# prebuilt target stages them.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /usr/local/bin/imgsize /usr/local/bin/imgsize
ENV HOME=/home/nonroot
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/imgsize"]
CMD ["--help"]
