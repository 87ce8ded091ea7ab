#!/usr/bin/env bash
# Single-fix rebuilds: is each suggestion's projected saving what a rebuild with only
# that fix saves? On the debootstrap root of benches/real-packages.sh (run it first),
# builds with umoci two images, then the same images with one fix each, branching from
# the shared layers (`umoci tag`), and compares the drop in stored bytes with the
# suggestion's `bytes`.
#
# Image A (python3-minimal and an app):
#   0  the debootstrap root
#   1  RUN apt-get update && apt-get install --no-install-recommends python3-minimal
#   2  RUN rm -rf /var/lib/apt/lists/*                   (deleted one layer too late)
#   3  COPY app/ /app                                    (a git checkout, .git included)
#   4  RUN chmod -R 755 /app                             (re-adds every file of /app)
# fixes:
#   apt-lists        layer 1 ends with && rm -rf /var/lib/apt/lists/*
#   deleted-later    the same rebuild: the lists deleted in the RUN that made them
#   apt-archives     layer 1 ends with && apt-get clean
#   docs-locales     layer 1 starts by writing the dpkg path-exclude filter
#   dockerignore     layer 3 without .git
#   chmod-duplicate  layer 3 sets the mode itself (COPY --chmod), no layer 4
#
# Image B (pip and a C build):
#   0  the debootstrap root
#   1  RUN apt-get install python3-pip (lists and archives cleaned)
#   2  RUN pip install requests docopt                   (pip's cache left)
#   3  RUN apt-get update && apt-get install gcc libc6-dev && gcc -o /usr/local/bin/hello
# fixes:
#   pip-cache        layer 2 with ENV PIP_NO_CACHE_DIR=1 (compared before layer 3)
#   bytecode         layer 2 with pip install --no-compile (compared before layer 3)
#   multi-stage      layer 3 replaced by COPY --from=build of the built binary
#
# The reports are taken with --base-layers 1 (umoci writes no CMD step to tell the base
# by). pip in the chroot reaches PyPI with the host's CA bundle bind-mounted at
# /run/host-ca.crt and PIP_CERT pointing at it (the image's own bundle is left alone).
#   benches/real-rules.sh [WORKDIR]      (default: bench-data/debian-packages)
#   PARTS=b benches/real-rules.sh        rebuild image B only (A's reports kept)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$ROOT/bench-data/debian-packages}
IMGSIZE=$ROOT/target/release/imgsize
(cd "$ROOT" && cargo build --release --quiet --bin imgsize)
[ -d "$WORK/rootfs" ] || { echo "run benches/real-packages.sh first" >&2; exit 2; }
cd "$WORK"
PARTS=${PARTS:-a b}
case " $PARTS " in *" a "*) rm -rf R ;; esac
rm -rf app hello.c && mkdir app
( cd app && git init -q && for i in $(seq 200); do head -c 20000 /dev/urandom > "f$i.bin"; done &&
  git add . && git -c user.email=a@b -c user.name=b commit -qm one && echo "print(1)" > main.py )
printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' > hello.c
[ -d R ] || umoci init --layout R >/dev/null

. "$ROOT/benches/umoci-steps.sh"

NODOC='path-exclude=/usr/share/doc/*\npath-include=/usr/share/doc/*/copyright\npath-exclude=/usr/share/man/*\npath-exclude=/usr/share/info/*\npath-exclude=/usr/share/locale/*\npath-include=/usr/share/locale/locale.alias\n'
APT_PY="apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-minimal"

# Run pip in the image with the host's CA bundle mounted for the duration, in a clean
# environment (the host's REQUESTS_CA_BUNDLE or PIP_* would point pip elsewhere).
in_chroot_ca() { # CMD LOG
  local ca=$ROOTFS/run/host-ca.crt
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  touch "$ca" && mount --bind /etc/ssl/certs/ca-certificates.crt "$ca"
  local rc=0
  chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root \
    PIP_CERT=/run/host-ca.crt /bin/sh -c "$1" >"$2" 2>&1 || rc=$?
  umount "$ca" && rm -f "$ca"
  return $rc
}

report() { "$IMGSIZE" report R --image "$1" --base-layers 1 --format json --top 100000 >"rules.$1.json"; }
branch() { umoci tag --image "R:$1" "$2"; }

# Image A, layer 1 by variant, then layers 2-4 (or their fixed forms).
a_layer1() { # TAG APT_COMMAND
  umoci_base "R:$1" "u.$1" rootfs "/bin/sh -c #(nop) ADD file:rootfs in / "
  umoci_step "R:$1" "u.$1" "/bin/sh -c $2" in_chroot "$2" "build.$1.log"
}
a_rm_lists() {
  umoci_step "R:$1" "u.$1" "/bin/sh -c rm -rf /var/lib/apt/lists/*" \
    sh -c 'rm -rf "$ROOTFS"/var/lib/apt/lists/*'
}
a_copy() { # TAG GIT(yes|no) CHMOD_IN_COPY(yes|no)
  umoci_step "R:$1" "u.$1" "/bin/sh -c #(nop) COPY dir:app in /app " \
    sh -c 'cp -a app "$ROOTFS/app" && { [ "$0" = yes ] || rm -rf "$ROOTFS/app/.git"; } &&
           { [ "$1" = no ] || chmod -R 755 "$ROOTFS/app"; }' "$2" "$3"
}
a_chmod() {
  umoci_step "R:$1" "u.$1" "/bin/sh -c chmod -R 755 /app" sh -c 'chmod -R 755 "$ROOTFS/app"'
}
a_rest() { # TAG
  a_rm_lists "$1"; a_copy "$1" yes no; a_chmod "$1"; report "$1"
}
if [[ " $PARTS " == *" a "* ]]; then
a_layer1 asis "$APT_PY"; a_rm_lists asis; branch asis a2
a_copy asis yes no; a_chmod asis; report asis
a_layer1 lists "$APT_PY && rm -rf /var/lib/apt/lists/*"; a_rest lists
a_layer1 archives "$APT_PY && apt-get clean"; a_rest archives
a_layer1 nodoc "printf '$NODOC' > /etc/dpkg/dpkg.cfg.d/01-nodoc && $APT_PY"; a_rest nodoc
branch a2 nogit; a_copy nogit no no; a_chmod nogit; report nogit
branch a2 nochmod; a_copy nochmod yes yes; report nochmod
fi

# Image B.
if [[ " $PARTS " == *" b "* ]]; then
for t in pip nocache nocompile multi; do umoci rm --image "R:$t" 2>/dev/null || true; done
APT_PIP="apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-pip && apt-get clean && rm -rf /var/lib/apt/lists/*"
# docopt has only an sdist: pip builds its wheel and keeps it in its wheel cache, which
# does not depend on HTTP cache headers (this machine's egress proxy forbids caching
# downloads, so pip's HTTP cache stays empty here).
PIP="pip install -q --break-system-packages requests docopt"
BUILD="apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev && gcc -O2 -o /usr/local/bin/hello /tmp/hello.c"
umoci_base R:pip u.pip rootfs "/bin/sh -c #(nop) ADD file:rootfs in / "
umoci_step R:pip u.pip "/bin/sh -c $APT_PIP" in_chroot "$APT_PIP" build.pip.log
branch pip nocache
branch pip nocompile
umoci_step R:pip u.pip "/bin/sh -c $PIP" in_chroot_ca "$PIP" build.pip2.log
umoci_step R:nocache u.nocache "/bin/sh -c PIP_NO_CACHE_DIR=1 $PIP" in_chroot_ca "PIP_NO_CACHE_DIR=1 $PIP" build.nocache.log
report nocache
umoci_step R:nocompile u.nocompile "/bin/sh -c ${PIP/install/install --no-compile}" \
  in_chroot_ca "${PIP/install/install --no-compile}" build.nocompile.log
report nocompile
branch pip multi
build_hello() {
  cp hello.c "$ROOTFS/tmp/hello.c"
  in_chroot "$BUILD" build.gcc.log
  rm "$ROOTFS/tmp/hello.c"
  cp "$ROOTFS/usr/local/bin/hello" hello.bin
}
umoci_step R:pip u.pip "/bin/sh -c $BUILD" build_hello
report pip && mv rules.pip.json rules.build.json
umoci_step R:multi u.multi "/bin/sh -c #(nop) COPY --from=build /usr/local/bin/hello /usr/local/bin/" \
  sh -c 'cp hello.bin "$ROOTFS/usr/local/bin/hello"'
report multi
fi
rm -rf u.*

python3 - <<'PY'
import json
load = lambda t: json.load(open(f"rules.{t}.json"))
stored = lambda d: d["totals"]["stored_bytes"]
def pip_only(d):  # the pip image as it was before the build layer: drop layer 3
    return sum(l["added_bytes"] for l in d["layers"] if not l["empty_layer"] and l["index"] < 3)
print(f"{'rule':16} {'projected':>12} {'rebuild saves':>14} {'error':>8}  limit")
worst = {}
rows = [
    ("apt-lists", "asis", "lists", stored), ("deleted-later", "asis", "lists", stored),
    ("apt-archives", "asis", "archives", stored), ("docs-locales", "asis", "nodoc", stored),
    ("dockerignore", "asis", "nogit", stored), ("chmod-duplicate", "asis", "nochmod", stored),
    ("pip-cache", "build", "nocache", pip_only), ("bytecode", "build", "nocompile", pip_only),
    ("multi-stage", "build", "multi", stored),
]
for rule, asis, fixed, size in rows:
    a = load(asis)
    proj = sum(f["bytes"] for f in a["findings"] if f["rule"] == rule and f["scope"] == "yours")
    real = size(a) - size(load(fixed))
    err = (proj - real) / real * 100 if real else float("nan")
    limit = 20 if rule == "multi-stage" else 10
    ok = abs(err) <= limit
    worst[rule] = ok
    print(f"{rule:16} {proj:>12} {real:>14} {err:>+7.2f}%  ±{limit}% {'ok' if ok else 'OFF'}")
for t in ("asis", "build"):
    d = load(t)
    print(f"{t}: stored {stored(d)}, projected after yours {d['projected']['stored_bytes']}")
print("every projection within its limit" if all(worst.values()) else "A PROJECTION IS OFF")
PY
