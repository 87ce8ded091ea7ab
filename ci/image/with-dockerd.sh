#!/bin/sh
# Runs a command beside a private Docker engine of its own, then stops the engine and
# removes everything it stored:
#
#   ci/image/with-dockerd.sh ci/image/build.sh
#
# The engine is Debian's `dockerd` with vfs storage and no networking set up
# (--iptables=false --bridge=none), its data, state and socket in a new temporary
# folder; the command sees it as DOCKER_HOST. Nothing is pulled. Needs root.
set -eu

[ $# -ge 1 ] || { echo "usage: with-dockerd.sh COMMAND [ARGS...]" >&2; exit 2; }
dockerd=$(command -v dockerd || echo /usr/sbin/dockerd)
[ -x "$dockerd" ] || { echo "with-dockerd.sh: no dockerd (apt-get install docker.io)" >&2; exit 2; }

dir=$(mktemp -d /tmp/imgsize-dockerd.XXXXXX)
"$dockerd" --storage-driver=vfs --iptables=false --bridge=none \
  --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/pid" \
  --host "unix://$dir/sock" > "$dir/log" 2>&1 &
pid=$!

stop() {
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null || true
  # What the engine mounted under its folders (network namespaces, container roots)
  # can outlive it: unmount them, deepest first, before removing the folder.
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r \
    | while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap stop EXIT INT TERM

export DOCKER_HOST="unix://$dir/sock"
i=0
until docker version >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 60 ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "with-dockerd.sh: dockerd did not start:" >&2
    tail -n 20 "$dir/log" >&2
    exit 2
  fi
  sleep 1
done

set +e
"$@"
code=$?
exit "$code"
