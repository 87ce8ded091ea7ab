# Sourced by the benches/real-*.sh scripts: build an OCI image one layer at a time with
# umoci, from a root filesystem on disk, without a registry or a Docker engine.
#
#   umoci_base REF DIR ROOTFS [CREATED_BY]   new image REF (LAYOUT:TAG) whose first layer
#                                            is a copy of ROOTFS
#   umoci_step REF DIR CREATED_BY CMD...     unpack REF into DIR, run CMD with $ROOTFS set
#                                            to DIR/rootfs, repack it as the next layer
# CREATED_BY is the history entry's created_by ("" leaves umoci's default). DIR holds
# the last unpacked state afterwards, for checks against the filesystem.

umoci_repack() { # REF DIR CREATED_BY
  if [ -n "$3" ]; then
    umoci repack --history.created_by "$3" --image "$1" "$2"
  else
    umoci repack --image "$1" "$2"
  fi
}

umoci_base() {
  local ref=$1 dir=$2 rootfs=$3 by=${4:-}
  umoci new --image "$ref"
  rm -rf "$dir" && umoci unpack --image "$ref" "$dir" >/dev/null
  rm -rf "$dir/rootfs" && cp -a "$rootfs" "$dir/rootfs"
  umoci_repack "$ref" "$dir" "$by"
}

umoci_step() {
  local ref=$1 dir=$2 by=$3
  shift 3
  rm -rf "$dir" && umoci unpack --image "$ref" "$dir" >/dev/null
  ROOTFS=$dir/rootfs "$@"
  umoci_repack "$ref" "$dir" "$by"
  rm -rf "$dir" && umoci unpack --image "$ref" "$dir" >/dev/null
}

# A command in the image: resolv.conf from the host, then sh -c CMD in a chroot.
in_chroot() { # CMD [LOG]
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  chroot "$ROOTFS" /bin/sh -c "$1" >"${2:-/dev/null}" 2>&1
}
