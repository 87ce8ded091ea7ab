#!/bin/sh
# Stages the runtime of imgsize's image from this machine, as distroless/cc holds it:
# the shared libraries BINARY links and the loader, at the paths the binary asks for;
# the CA bundle; users root and nonroot (65532); a /tmp for everyone. ROOTFS is copied
# to / and HOME/nonroot, owned by 65532, to /home/nonroot. Unless --libraries-only,
# the binary itself too, stripped, at /usr/local/bin/imgsize.
#
#   ci/image/stage.sh BINARY ROOTFS HOME [--libraries-only]
#
# Both folders are emptied first. Exit 2 when something cannot be staged.
set -eu

fail() {
  echo "ci/image/stage.sh: $*" >&2
  exit 2
}

[ $# -ge 3 ] || fail "usage: stage.sh BINARY ROOTFS HOME [--libraries-only]"
bin=$1 root=$2 home=$3
[ -x "$bin" ] || fail "no program at $bin"
rm -rf "$root" "$home"
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home" "$home/nonroot"

if [ "${4:-}" != --libraries-only ]; then
  mkdir -p "$root/usr/local/bin"
  strip -o "$root/usr/local/bin/imgsize" "$bin" || fail "cannot strip $bin"
  chmod 0755 "$root/usr/local/bin/imgsize"
fi

libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || fail "ldd lists no library for $bin"
for lib in $libs; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" \
  || fail "no CA bundle at /etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
  > "$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$root/etc/group"
chmod 1777 "$root/tmp"
