#!/usr/bin/env bash
# Real rebuilds with the Docker engine: naive images that stack the usual size mistakes,
# one rebuild per single fix, an all-fixes rebuild and a multi-stage rebuild. Every
# image is saved with `docker save` to bench-data/rebuilds/NAME.tar, and its TRUE stored
# bytes (Σ sizes of the regular-file entries of every layer tar; benches/stored.py,
# plain Python tarfile, no imgsize code) go to bench-data/rebuilds/truth.tsv:
#   image  stored_bytes  layers  per-layer stored bytes (comma-separated, bottom first)
#
#   benches/rebuilds.sh [build]     build and save what is missing, then truth.tsv
#   benches/rebuilds.sh truth       only (re)compute truth.tsv from the saved tars
#   benches/rebuilds.sh compare     imgsize's projections on the naive images against
#                                   the real savings (needs target/release/imgsize, or
#                                   IMGSIZE=/path/to/imgsize)
#   source benches/rebuilds.sh      its functions and settings only, nothing run
#                                   (benches/fix.sh builds on them)
# Knobs: FORCE=1 rebuilds images already saved; ONLY="py-naive py-fix-apt" limits the
# build to those images (bases they need are loaded from their tars, or built);
# KEEP_DOCKER=1 keeps the daemon's data root (vfs, big) after the run; OUT=dir;
# IMGSIZE=binary for `compare`.
#
# Needs root, docker (CLI + dockerd), debootstrap, python3, git, and network access to
# the Debian archive, PyPI, the npm registry and crates.io (its sparse index). No image
# is pulled: the base is a `debootstrap --variant=minbase bookworm` root, imported with
# `docker import`.
#
# The engine: a private dockerd (vfs storage driver, no iptables, no bridge) with its
# socket in /tmp/imgsize-rb, data root in bench-data/rebuilds/work/docker, stopped on
# exit. Debian's dockerd is 20.10 and no buildx plugin is installed, so the script uses
# the CLASSIC builder (DOCKER_BUILDKIT=0). The classic builder rejects `COPY/ADD
# --chmod` ("the --chmod option requires BuildKit"), so the chmod fix is written the
# other way a user would: the modes are set in the build context (`chmod -R g+w`)
# before `ADD`, and the ADD layer carries them (the classic builder keeps the context's
# modes; ADD/COPY files belong to root).
#
# vfs copies the whole filesystem for every layer, so images keep few layers, builds
# use --rm --force-rm, each rebuild is removed from the daemon once saved and the naive
# image of a family once the family is done (the data root peaked at ~23 GB during the
# Python family, when a family's images were all kept to its end; the saved tars take
# ~27 GB: have ~40 GB free). The builds of a full run from scratch take ~72 min on 2
# shared cores (Σ build-times.tsv: Python ~18, Node ~28, Rust ~16, Go ~6, Java ~3.5);
# a re-run with everything saved takes no time.
#
# The images (Dockerfiles in ctx_for below; each build prints its Dockerfile):
#   debian-min   debootstrap minbase root, apt lists and .debs removed as in the official
#                image, but WITHOUT its docker-clean apt hook (apt keeps its archives)
#   pyfull       + one RUN: python3 python3-pip python3-dev gcc g++ make libc6-dev git,
#                recommends included, apt lists and archives left (like python:3.x)
#   pyslim       + python3 --no-install-recommends, apt cleaned in the same RUN
#   py-naive     FROM pyfull; ADD . /app (app, requirements.txt, ~3.4 MB .git);
#                pip install (pip's cache left: docopt is an sdist, so its built wheel
#                stays in ~/.cache/pip/wheels); apt-get install curl vim-tiny (no
#                cleanup); RUN chmod -R g+w /app; RUN rm -rf /app/.git
#   py-fix-*     one fix each: pipcache (ENV PIP_NO_CACHE_DIR=1), apt (apt-get clean &&
#                rm -rf /var/lib/apt/lists/* in the apt RUN), chmod (modes set in the
#                context, no chmod RUN), dockerignore (.git in .dockerignore, the rm RUN
#                kept); py-fix-all: the four together
#   py-multistage build stage as py-naive (then rm .git, chmod); runtime FROM pyslim with
#                the same apt packages (cleaned), dist-packages, /usr/local/bin, /app
#   node-naive   FROM debian-min; apt-get install nodejs npm build-essential (no
#                cleanup); COPY . /app (app, ~3.4 MB .git); ONE RUN: npm install &&
#                npm run build (tsc; devDependencies typescript, eslint, jest, @types
#                and ~/.npm left)
#   node-fix-*   one fix each, in the same RUN: npmcache (&& npm cache clean --force),
#                devdeps (&& npm prune --omit=dev: install, build and prune in one RUN,
#                the only difference from node-naive); apt (apt cleanup in the apt
#                RUN); dockerignore (.git in .dockerignore)
#   node-multistage build stage as node-naive + RUN npm prune --omit=dev && rm -rf .git;
#                runtime FROM debian-min + nodejs --no-install-recommends (apt-get clean
#                and lists removed in the RUN) + COPY --from=build /app
#   go-naive     FROM debian-min; apt-get install golang-go git ca-certificates (no
#                cleanup); COPY . /src; go build (standard library only; the build
#                cache /root/.cache/go-build is left, ~0.5 MB)
#   go-fix-apt (apt cleanup), go-fix-gocache (&& go clean -cache in the build RUN),
#                go-multistage (runtime FROM debian-min + the binary)
#   rust-naive   FROM debian-min; apt-get install cargo (rustc 1.63, no cleanup); COPY .
#                /src; cargo build --release (serde, serde_derive, serde_json from
#                crates.io, every crate pinned) && cp the binary to /usr/local/bin:
#                /src/target and /root/.cargo/registry left
#   rust-fix-*   one fix each, in the same RUN: target (&& rm -rf /src/target),
#                cargocache (&& rm -rf /root/.cargo/registry); apt (apt cleanup)
#   rust-multistage build stage as rust-naive; runtime FROM debian-min + the binary
#   java-naive   FROM debian-min; apt-get install default-jdk-headless (no cleanup);
#                COPY . /src; javac + jar (JDK only, no Maven) -> /app/app.jar
#   java-fix-apt (apt cleanup in the apt RUN)
#   java-fix-jre a JDK build stage builds the jar; the final stage is java-naive with
#                default-jre-headless in place of default-jdk-headless (no cleanup),
#                the same COPY . /src, and COPY --from=build of /src/out and the jar:
#                it differs from java-naive by the JDK only
#   java-multistage runtime FROM debian-min + default-jre-headless
#                --no-install-recommends (apt cleaned in the RUN) + the jar
# Not rebuilt here: the maven-cache rule (~/.m2) has no real rebuild (Maven Central is
# not used); its fixtures in the tests cover it.
# Sources are generated once, deterministically (fixed seed, fixed git dates), in
# $OUT/work/src; pip and npm versions are pinned (npm's transitive ones by its registry).
# Two runs from scratch gave the same stored bytes for every Python, Node (revision 1)
# and Go image but the npm layers (npm's debug log in ~/.npm/_logs varies by a few
# bytes); the Rust, Java and Node revision 2 images were built once so far.
# Stored bytes (truth.tsv): node-naive 1,519,767,552 (build-essential adds nothing:
# npm recommends it), rust-naive 1,901,441,856 (target 113.8 MB, registry 6.6 MB),
# java-naive 787,361,360, go-naive 1,361,328,938 (go-build cache 0.5 MB).
set -euo pipefail
umask 022

# ---------------------------------------------------------------------------------------
# The fixes and the imgsize rules whose findings project them: the ONE place to edit.
#   rebuild image        naive image   rules (comma-separated; RULE means the findings of
#                                      that rule with scope `yours`, RULE@base those
#                                      with scope `base`, RULE@any both; `fixes` is the
#                                      headline projected.fixes: every edit of yours
#                                      together, each byte once)
FIXES='
py-fix-pipcache      py-naive      pip-cache
py-fix-apt           py-naive      apt-lists,apt-archives
py-fix-chmod         py-naive      chmod-duplicate
py-fix-dockerignore  py-naive      dockerignore
py-fix-all           py-naive      fixes
py-multistage        py-naive      multi-stage
node-fix-npmcache    node-naive    npm-cache
node-fix-apt         node-naive    apt-lists,apt-archives
node-fix-devdeps     node-naive    dev-dependencies
node-fix-dockerignore node-naive   dockerignore
node-multistage      node-naive    multi-stage
go-fix-apt           go-naive      apt-lists,apt-archives
go-fix-gocache       go-naive      go-cache
go-multistage        go-naive      multi-stage
rust-fix-target      rust-naive    build-tree
rust-fix-cargocache  rust-naive    cargo-cache
rust-fix-apt         rust-naive    apt-lists,apt-archives
rust-multistage      rust-naive    multi-stage
java-fix-apt         java-naive    apt-lists,apt-archives
java-fix-jre         java-naive    jdk-runtime
java-multistage      java-naive    multi-stage
'
# ---------------------------------------------------------------------------------------

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$ROOT/bench-data/rebuilds}
WORK=$OUT/work                  # sources, contexts, daemon data root, truth cache
RUNDIR=/tmp/imgsize-rb          # socket, pidfile, exec root: short paths
IMGSIZE=${IMGSIZE:-$ROOT/target/release/imgsize}
STORED=$ROOT/benches/stored.py
ROOTFS_TAR=$OUT/base/debootstrap-bookworm-minbase.tar
MODE=${1:-build}

BASES="debian-min pyfull pyslim"
PY_IMAGES="py-naive py-fix-pipcache py-fix-apt py-fix-chmod py-fix-dockerignore py-fix-all py-multistage"
NODE_IMAGES="node-naive node-fix-npmcache node-fix-apt node-fix-devdeps node-fix-dockerignore node-multistage"
GO_IMAGES="go-naive go-fix-apt go-fix-gocache go-multistage"
RUST_IMAGES="rust-naive rust-fix-target rust-fix-cargocache rust-fix-apt rust-multistage"
JAVA_IMAGES="java-naive java-fix-apt java-fix-jre java-multistage"
ALL_IMAGES="$BASES $PY_IMAGES $NODE_IMAGES $GO_IMAGES $RUST_IMAGES $JAVA_IMAGES"

mkdir -p "$OUT/logs" "$OUT/base" "$WORK/truth"
export DOCKER_HOST=unix://$RUNDIR/docker.sock
export DOCKER_BUILDKIT=0

say() { printf '%s\n' "$*"; }
human() { numfmt --to=iec-i --suffix=B "$1" 2>/dev/null || echo "$1"; }

# ----------------------------------------------------------------------------- daemon --
STARTED_DAEMON=
daemon_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
start_daemon() {
  daemon_up && return 0
  mkdir -p "$RUNDIR/exec" "$WORK/docker"
  if [ -f "$RUNDIR/dockerd.pid" ] && kill -0 "$(cat "$RUNDIR/dockerd.pid")" 2>/dev/null; then
    say "!! a dockerd with pidfile $RUNDIR/dockerd.pid runs but does not answer" >&2; exit 1
  fi
  say "== starting dockerd (vfs, data root $WORK/docker, socket $RUNDIR/docker.sock, log $OUT/logs/dockerd.log)"
  dockerd --storage-driver=vfs --iptables=false --bridge=none \
    --data-root "$WORK/docker" --exec-root "$RUNDIR/exec" \
    --pidfile "$RUNDIR/dockerd.pid" --host "unix://$RUNDIR/docker.sock" \
    >>"$OUT/logs/dockerd.log" 2>&1 &
  STARTED_DAEMON=$!
  trap stop_daemon EXIT
  for _ in $(seq 120); do daemon_up && break; sleep 0.5; done
  daemon_up || { say "!! dockerd did not come up, see $OUT/logs/dockerd.log" >&2; exit 1; }
  say "   dockerd $(docker version --format '{{.Server.Version}}') up (pid $STARTED_DAEMON), classic builder"
}
stop_daemon() {
  [ -n "$STARTED_DAEMON" ] || return 0
  say "== stopping dockerd (pid $STARTED_DAEMON)"
  kill "$STARTED_DAEMON" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$STARTED_DAEMON" 2>/dev/null || break; sleep 0.5; done
  STARTED_DAEMON=
  if [ "${KEEP_DOCKER:-}" != 1 ] && [ -d "$WORK/docker" ]; then
    say "   removing the daemon's data root $WORK/docker (KEEP_DOCKER=1 keeps it; the tars are kept)"
    rm -rf "$WORK/docker"
  fi
}

# ---------------------------------------------------------------------------- sources --
# Deterministic sources, generated once into $WORK/src (delete it to regenerate).
SEED=20240601
GIT_ENV=(env GIT_CONFIG_GLOBAL="$WORK/src/empty.gitconfig" GIT_CONFIG_NOSYSTEM=1
  GIT_AUTHOR_NAME=dev GIT_AUTHOR_EMAIL=dev@example.com GIT_COMMITTER_NAME=dev
  GIT_COMMITTER_EMAIL=dev@example.com)

# A .git folder with history: the sources, then ~3 MB of random "assets" (fixed seed,
# incompressible, so git's zlib keeps them at full size) committed and later removed:
# the working tree does not have them, the loose objects in .git do.
make_git() { # DIR
  local d=$1
  : >"$WORK/src/empty.gitconfig"   # no user or system git config (not /dev/null: it may be a file)
  ( cd "$d"
    "${GIT_ENV[@]}" git init -q -b main .
    "${GIT_ENV[@]}" git add -A
    GIT_AUTHOR_DATE='2024-01-01T10:00:00Z' GIT_COMMITTER_DATE='2024-01-01T10:00:00Z' \
      "${GIT_ENV[@]}" git commit -qm 'initial import'
    mkdir assets
    python3 - "$SEED" <<'PY'
import random, sys
rng = random.Random(int(sys.argv[1]))
for i in range(6):
    with open(f"assets/blob{i}.bin", "wb") as f:
        f.write(rng.randbytes(512 * 1024))
PY
    "${GIT_ENV[@]}" git add assets
    GIT_AUTHOR_DATE='2024-01-02T10:00:00Z' GIT_COMMITTER_DATE='2024-01-02T10:00:00Z' \
      "${GIT_ENV[@]}" git commit -qm 'add assets'
    "${GIT_ENV[@]}" git rm -rqf assets
    GIT_AUTHOR_DATE='2024-01-03T10:00:00Z' GIT_COMMITTER_DATE='2024-01-03T10:00:00Z' \
      "${GIT_ENV[@]}" git commit -qm 'move assets to the CDN' )
}

normalize_modes() { # DIR: dirs 755, files 644, outside .git (git sets its own modes)
  find "$1" -path "$1/.git" -prune -o -type d -exec chmod 755 {} + -o -type f -exec chmod 644 {} +
}

make_py_src() {
  local d=$WORK/src/py
  [ -f "$d/.done" ] && return 0
  say "== generating the Python app sources in $d (seed $SEED)"
  rm -rf "$d" && mkdir -p "$d"
  python3 - "$d" "$SEED" <<'PY'
import os, random, sys
out, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
words = ("account order item price cart user session token invoice report export "
         "import queue worker cache index search filter page batch stock store "
         "payment refund address country region tax total status event").split()
def ident():
    return "_".join(rng.choice(words) for _ in range(rng.randint(2, 3)))
os.makedirs(f"{out}/shop/handlers")
os.makedirs(f"{out}/shop/models")
os.makedirs(f"{out}/shop/services")
modules = []
size = 0
n = 0
while size < 195_000:
    pkg = ("handlers", "models", "services")[n % 3]
    name = f"{ident()}_{n}"
    lines = [f'"""{pkg[:-1].capitalize()} module {name}: generated for the imgsize benchmark."""',
             "import json", "import logging", "from dataclasses import dataclass, field", "",
             "log = logging.getLogger(__name__)", ""]
    cls = "".join(w.capitalize() for w in name.split("_")[:-1]) + str(n)
    lines += ["@dataclass", f"class {cls}:"]
    for _ in range(rng.randint(3, 7)):
        lines.append(f"    {ident()}: int = {rng.randint(0, 1000)}")
    lines.append(f"    tags: list = field(default_factory=list)")
    lines.append("")
    for _ in range(rng.randint(6, 12)):
        fn = ident()
        a, b = ident(), ident()
        lines += [f"def {fn}({a}, {b}=None):",
                  f'    """Compute {fn.replace("_", " ")} from {a} and {b}."""',
                  f"    result = {{}}",
                  f"    for i, value in enumerate({a} or []):",
                  f"        if {b} is not None and value == {b}:",
                  f"            log.debug('skip %s at %d', value, i)",
                  f"            continue",
                  f"        result[str(i)] = value * {rng.randint(2, 97)} % {rng.randint(101, 997)}",
                  f"    log.info('{fn}: %d entries', len(result))",
                  f"    return json.dumps(result, sort_keys=True)", ""]
    text = "\n".join(lines) + "\n"
    with open(f"{out}/shop/{pkg}/{name}.py", "w") as f:
        f.write(text)
    modules.append((pkg, name))
    size += len(text)
    n += 1
for pkg in ("handlers", "models", "services"):
    with open(f"{out}/shop/{pkg}/__init__.py", "w") as f:
        f.write("".join(f"from . import {m}\n" for p, m in modules if p == pkg))
with open(f"{out}/shop/__init__.py", "w") as f:
    f.write('"""The shop app."""\nfrom . import handlers, models, services\n')
with open(f"{out}/main.py", "w") as f:
    f.write('''"""Shop server.

Usage:
  main.py [--port=PORT] [--debug]

Options:
  --port=PORT  Port to listen on [default: 8000].
  --debug      Debug mode.
"""
from docopt import docopt
from flask import Flask, jsonify
import requests
import shop

app = Flask(__name__)


@app.get("/health")
def health():
    return jsonify(status="ok", modules=len(shop.handlers.__dict__))


@app.get("/upstream")
def upstream():
    return jsonify(code=requests.get("https://example.com", timeout=5).status_code)


if __name__ == "__main__":
    args = docopt(__doc__)
    app.run(host="0.0.0.0", port=int(args["--port"]), debug=args["--debug"])
''')
with open(f"{out}/README.md", "w") as f:
    f.write("# shop\n\nA small Flask service used by the imgsize rebuild benchmark.\n")
print(f"   {n} modules, {size} bytes of generated Python")
PY
  # pinned like a pip-compile output, so rebuilds install the same bytes; docopt is an
  # sdist only: pip builds a wheel and keeps it in its wheel cache (~/.cache/pip/wheels;
  # pip's HTTP cache stays empty here, the egress proxy marks downloads not cacheable)
  cat >"$d/requirements.txt" <<'EOF'
requests==2.32.3
urllib3==2.2.3
idna==3.10
charset-normalizer==3.4.0
certifi==2024.8.30
flask==3.0.3
werkzeug==3.0.6
jinja2==3.1.4
markupsafe==3.0.2
itsdangerous==2.2.0
click==8.1.7
blinker==1.9.0
docopt==0.6.2
EOF
  cp /etc/ssl/certs/ca-certificates.crt "$d/host-ca.crt"
  normalize_modes "$d"
  make_git "$d"
  say "   app $(du -sb --exclude=.git "$d" | cut -f1) bytes, .git $(du -sb "$d/.git" | cut -f1) bytes"
  touch "$d/.done"
}

# A family's sources carry a revision in their .done marker; when the generator below
# changes what it writes, bump the revision: the sources are regenerated and the family's
# saved tars (built from the older sources) are removed, so that the next build redoes them.
src_current() { # DIR REV
  [ "$(cat "$1/.done" 2>/dev/null)" = "$2" ]
}
src_done() { # DIR REV IMAGES...: mark DIR as generated at REV, drop tars built from older sources
  local d=$1 rev=$2 i
  shift 2
  for i in "$@"; do
    if saved "$i"; then say "   $OUT/$i.tar was built from older sources: removed"; rm -f "$OUT/$i.tar"; fi
  done
  echo "$rev" >"$d/.done"
}

NODE_SRC_REV=2   # 2: jest in devDependencies, a .git with history in the context
make_node_src() {
  local d=$WORK/src/node
  src_current "$d" "$NODE_SRC_REV" && return 0
  say "== generating the Node app sources in $d (revision $NODE_SRC_REV)"
  rm -rf "$d" && mkdir -p "$d/src"
  cat >"$d/package.json" <<'EOF'
{
  "name": "shop-api",
  "version": "1.0.0",
  "private": true,
  "main": "dist/server.js",
  "scripts": {
    "build": "tsc -p .",
    "lint": "eslint src",
    "test": "jest",
    "start": "node dist/server.js"
  },
  "dependencies": {
    "express": "4.21.1",
    "morgan": "1.10.0"
  },
  "devDependencies": {
    "@types/express": "4.17.21",
    "@types/morgan": "1.9.9",
    "@types/node": "18.19.64",
    "eslint": "8.57.1",
    "jest": "29.7.0",
    "typescript": "5.6.3"
  }
}
EOF
  cat >"$d/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "target": "ES2020",
    "module": "commonjs",
    "outDir": "dist",
    "rootDir": "src",
    "esModuleInterop": true,
    "strict": true,
    "skipLibCheck": true
  },
  "include": ["src"]
}
EOF
  cat >"$d/src/routes.ts" <<'EOF'
import { Router, Request, Response } from "express";

export interface Item { id: number; name: string; price: number }

const items: Item[] = Array.from({ length: 50 }, (_, i) => ({
  id: i + 1, name: `item ${i + 1}`, price: Math.round((i * 7.3 + 3) * 100) / 100,
}));

export const routes = Router();

routes.get("/items", (_req: Request, res: Response) => { res.json(items); });
routes.get("/items/:id", (req: Request, res: Response) => {
  const item = items.find((it) => it.id === Number(req.params.id));
  if (!item) { res.status(404).json({ error: "not found" }); return; }
  res.json(item);
});
routes.get("/total", (_req: Request, res: Response) => {
  res.json({ total: items.reduce((sum, it) => sum + it.price, 0) });
});
EOF
  cat >"$d/src/server.ts" <<'EOF'
import express from "express";
import morgan from "morgan";
import { routes } from "./routes";

const app = express();
app.use(morgan("combined"));
app.use(express.json());
app.get("/health", (_req, res) => { res.json({ status: "ok" }); });
app.use("/api", routes);

const port = Number(process.env.PORT || 3000);
app.listen(port, () => console.log(`listening on ${port}`));
EOF
  cat >"$d/.eslintrc.json" <<'EOF'
{ "root": true, "env": { "node": true, "es2020": true }, "extends": "eslint:recommended" }
EOF
  cp /etc/ssl/certs/ca-certificates.crt "$d/host-ca.crt"
  normalize_modes "$d"
  make_git "$d"
  say "   app $(du -sb --exclude=.git "$d" | cut -f1) bytes, .git $(du -sb "$d/.git" | cut -f1) bytes"
  src_done "$d" "$NODE_SRC_REV" $NODE_IMAGES
}

make_go_src() {
  local d=$WORK/src/go
  [ -f "$d/.done" ] && return 0
  say "== generating the Go app sources in $d (standard library only)"
  rm -rf "$d" && mkdir -p "$d"
  printf 'module example.com/shop\n\ngo 1.19\n' >"$d/go.mod"
  cat >"$d/main.go" <<'EOF'
package main

import (
	"encoding/json"
	"flag"
	"html/template"
	"log"
	"net/http"
	"strconv"
	"sync"
	"time"
)

type item struct {
	ID    int     `json:"id"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

var (
	mu    sync.RWMutex
	items = map[int]item{}
	page  = template.Must(template.New("index").Parse(
		`<html><body><h1>Shop</h1><ul>{{range .}}<li>{{.Name}}: {{.Price}}</li>{{end}}</ul></body></html>`))
)

func listItems(w http.ResponseWriter, r *http.Request) {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]item, 0, len(items))
	for _, it := range items {
		out = append(out, it)
	}
	if r.URL.Query().Get("format") == "html" {
		_ = page.Execute(w, out)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func getItem(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.URL.Query().Get("id"))
	if err != nil {
		http.Error(w, "bad id", http.StatusBadRequest)
		return
	}
	mu.RLock()
	it, ok := items[id]
	mu.RUnlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	_ = json.NewEncoder(w).Encode(it)
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()
	for i := 1; i <= 50; i++ {
		items[i] = item{ID: i, Name: "item " + strconv.Itoa(i), Price: float64(i) * 1.5}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/items", listItems)
	mux.HandleFunc("/item", getItem)
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
EOF
  normalize_modes "$d"
  touch "$d/.done"
}

# Rust: serde, serde_derive and serde_json, every crate of the graph pinned with `=` to
# versions that Debian bookworm's rustc 1.63 / cargo 0.66 build. cargo 0.66 reads
# crates.io's git index from github.com by default; the sparse index (index.crates.io)
# is unstable there, enabled by `[unstable] sparse-registry = true` in .cargo/config.toml
# (Debian's cargo accepts unstable options without RUSTC_BOOTSTRAP).
RUST_SRC_REV=1
make_rust_src() {
  local d=$WORK/src/rust
  src_current "$d" "$RUST_SRC_REV" && return 0
  say "== generating the Rust app sources in $d (revision $RUST_SRC_REV)"
  rm -rf "$d" && mkdir -p "$d/src" "$d/.cargo"
  cat >"$d/Cargo.toml" <<'EOF'
[package]
name = "app"
version = "0.1.0"
edition = "2021"

# the whole dependency graph, pinned (rustc 1.63: no newer proc-macro2, syn, serde)
[dependencies]
serde = { version = "=1.0.188", features = ["derive"] }
serde_derive = "=1.0.188"
serde_json = "=1.0.107"
proc-macro2 = "=1.0.69"
quote = "=1.0.33"
syn = "=2.0.38"
unicode-ident = "=1.0.12"
itoa = "=1.0.9"
ryu = "=1.0.15"
EOF
  printf '[unstable]\nsparse-registry = true\n' >"$d/.cargo/config.toml"
  cat >"$d/src/catalog.rs" <<'EOF'
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Item {
    pub id: u32,
    pub name: String,
    pub price_cents: u64,
    #[serde(default)]
    pub tags: Vec<String>,
}

pub fn sample(n: u32) -> Vec<Item> {
    (1..=n)
        .map(|i| Item {
            id: i,
            name: format!("item {}", i),
            price_cents: u64::from(i) * 150 + 99,
            tags: if i % 3 == 0 { vec!["sale".into()] } else { vec![] },
        })
        .collect()
}

pub fn total(items: &[Item]) -> u64 {
    items.iter().map(|it| it.price_cents).sum()
}
EOF
  cat >"$d/src/main.rs" <<'EOF'
mod catalog;

use serde_json::json;

fn main() {
    let items = catalog::sample(50);
    let text = serde_json::to_string(&items).expect("serialize");
    let back: Vec<catalog::Item> = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, items);
    let on_sale = back.iter().filter(|it| it.tags.iter().any(|t| t == "sale")).count();
    println!("{}", json!({ "items": back.len(), "on_sale": on_sale, "total_cents": catalog::total(&back) }));
}
EOF
  cp /etc/ssl/certs/ca-certificates.crt "$d/host-ca.crt"
  normalize_modes "$d"
  src_done "$d" "$RUST_SRC_REV" $RUST_IMAGES
}

# Java: a few classes in packages, the JDK only (no Maven: Maven Central is not used).
JAVA_SRC_REV=1
JAVA_MAIN=com.example.shop.Main
make_java_src() {
  local d=$WORK/src/java p
  src_current "$d" "$JAVA_SRC_REV" && return 0
  say "== generating the Java app sources in $d (revision $JAVA_SRC_REV)"
  p=$d/src/com/example/shop
  rm -rf "$d" && mkdir -p "$p/model" "$p/service" "$p/util"
  cat >"$p/model/Item.java" <<'EOF'
package com.example.shop.model;

public final class Item {
    private final int id;
    private final String name;
    private final long priceCents;

    public Item(int id, String name, long priceCents) {
        this.id = id;
        this.name = name;
        this.priceCents = priceCents;
    }

    public int id() { return id; }
    public String name() { return name; }
    public long priceCents() { return priceCents; }
}
EOF
  cat >"$p/util/Money.java" <<'EOF'
package com.example.shop.util;

public final class Money {
    private Money() {}

    public static String format(long cents) {
        return String.format("%d.%02d", cents / 100, cents % 100);
    }
}
EOF
  cat >"$p/util/Json.java" <<'EOF'
package com.example.shop.util;

import java.util.List;
import java.util.stream.Collectors;

import com.example.shop.model.Item;

public final class Json {
    private Json() {}

    public static String item(Item it) {
        return "{\"id\":" + it.id() + ",\"name\":\"" + it.name().replace("\"", "\\\"")
            + "\",\"price\":" + Money.format(it.priceCents()) + "}";
    }

    public static String items(List<Item> items) {
        return items.stream().map(Json::item).collect(Collectors.joining(",", "[", "]"));
    }
}
EOF
  cat >"$p/service/Catalog.java" <<'EOF'
package com.example.shop.service;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import com.example.shop.model.Item;

public final class Catalog {
    private final List<Item> items = new ArrayList<>();

    public static Catalog sample(int n) {
        Catalog c = new Catalog();
        for (int i = 1; i <= n; i++) {
            c.items.add(new Item(i, "item " + i, i * 150L + 99));
        }
        return c;
    }

    public List<Item> all() { return Collections.unmodifiableList(items); }

    public Optional<Item> find(int id) {
        return items.stream().filter(it -> it.id() == id).findFirst();
    }

    public long totalCents() {
        return items.stream().mapToLong(Item::priceCents).sum();
    }
}
EOF
  cat >"$p/Main.java" <<'EOF'
package com.example.shop;

import com.example.shop.service.Catalog;
import com.example.shop.util.Json;
import com.example.shop.util.Money;

public final class Main {
    public static void main(String[] args) {
        Catalog catalog = Catalog.sample(50);
        System.out.println("items: " + catalog.all().size() + ", total " + Money.format(catalog.totalCents()));
        System.out.println(Json.item(catalog.find(7).orElseThrow()));
        if (args.length > 0 && args[0].equals("--all")) {
            System.out.println(Json.items(catalog.all()));
        }
    }
}
EOF
  normalize_modes "$d"
  src_done "$d" "$JAVA_SRC_REV" $JAVA_IMAGES
}

# --------------------------------------------------------------------------- contexts --
# Each image gets its own context $WORK/ctx/NAME: a copy of the sources (modes and
# mtimes kept), its Dockerfile and a .dockerignore that keeps the Dockerfile and itself
# out of `ADD .`, so that every variant adds exactly the same app bytes (and the
# classic builder's cache shares the layers a rebuild does not change).
new_ctx() { # NAME SRC [EXTRA-IGNORE...]  -> prints the context dir
  local c=$WORK/ctx/$1 src=$2
  shift 2
  rm -rf "$c" && mkdir -p "$WORK/ctx" && cp -a "$src" "$c" && rm -f "$c/.done"
  printf '%s\n' Dockerfile .dockerignore "$@" >"$c/.dockerignore"
  echo "$c"
}

APT_CLEAN='apt-get clean && rm -rf /var/lib/apt/lists/*'
PIP_RUN='PIP_CERT=/app/host-ca.crt pip install --break-system-packages -r requirements.txt'
RUST_BUILD='cd /src && CARGO_HTTP_CAINFO=/src/host-ca.crt cargo build --release && cp target/release/app /usr/local/bin/app'
JAVA_BUILD="cd /src && javac -d out \$(find src -name '*.java' | sort) && mkdir -p /app && jar cfe /app/app.jar $JAVA_MAIN -C out ."

ctx_for() { # NAME -> writes the context and Dockerfile of image NAME
  local name=$1 c pipenv="" aptclean="" chmodrun=1 ign=()
  case $name in
  pyfull)
    c=$(new_ctx "$name" "$WORK/src/empty")
    # like python:3.x: compilers, headers, -dev packages, apt lists and archives left
    cat >"$c/Dockerfile" <<'EOF'
FROM debian-min
RUN apt-get update && apt-get install -y python3 python3-pip python3-dev gcc g++ make libc6-dev git
CMD ["python3"]
EOF
    ;;
  pyslim)
    c=$(new_ctx "$name" "$WORK/src/empty")
    cat >"$c/Dockerfile" <<EOF
FROM debian-min
RUN apt-get update && apt-get install -y --no-install-recommends python3 && $APT_CLEAN
CMD ["python3"]
EOF
    ;;
  py-naive|py-fix-pipcache|py-fix-apt|py-fix-chmod|py-fix-dockerignore|py-fix-all)
    case $name in py-fix-pipcache|py-fix-all) pipenv=1 ;; esac
    case $name in py-fix-apt|py-fix-all) aptclean=" && $APT_CLEAN" ;; esac
    case $name in py-fix-chmod|py-fix-all) chmodrun= ;; esac
    case $name in py-fix-dockerignore|py-fix-all) ign=(.git) ;; esac
    c=$(new_ctx "$name" "$WORK/src/py" "${ign[@]}")
    {
      echo "FROM pyfull"
      [ -n "$chmodrun" ] || echo "# classic builder: no ADD --chmod, so the modes are set in the build context (chmod -R g+w) before ADD"
      echo "ADD . /app"
      echo "WORKDIR /app"
      [ -z "$pipenv" ] || echo "ENV PIP_NO_CACHE_DIR=1"
      echo "RUN $PIP_RUN"
      echo "RUN apt-get update && apt-get install -y curl vim-tiny$aptclean"
      [ -z "$chmodrun" ] || echo "RUN chmod -R g+w /app"
      echo "RUN rm -rf /app/.git"
      echo 'CMD ["python3", "main.py"]'
    } >"$c/Dockerfile"
    [ -n "$chmodrun" ] || chmod -R g+w "$c"
    ;;
  py-multistage)
    c=$(new_ctx "$name" "$WORK/src/py")
    # the build stage repeats py-naive's first steps (so the builder's cache serves
    # them), then drops .git and sets the modes the app wants; the runtime stage starts
    # from pyslim and gets the installed packages, their scripts and the app
    cat >"$c/Dockerfile" <<EOF
FROM pyfull AS build
ADD . /app
WORKDIR /app
RUN $PIP_RUN
RUN rm -rf /app/.git && chmod -R g+w /app

FROM pyslim
RUN apt-get update && apt-get install -y curl vim-tiny && $APT_CLEAN
COPY --from=build /usr/local/lib/python3.11/dist-packages /usr/local/lib/python3.11/dist-packages
COPY --from=build /usr/local/bin /usr/local/bin
COPY --from=build /app /app
WORKDIR /app
CMD ["python3", "main.py"]
EOF
    ;;
  node-naive|node-fix-npmcache|node-fix-apt|node-fix-devdeps|node-fix-dockerignore)
    # install and build in ONE RUN, so that node-fix-devdeps differs by the prune only
    # (a later RUN cannot take back the devDependencies the install layer holds)
    local npmafter=""
    case $name in
    node-fix-npmcache) npmafter=" && npm cache clean --force" ;;
    node-fix-devdeps) npmafter=" && NODE_EXTRA_CA_CERTS=/app/host-ca.crt npm prune --omit=dev" ;;
    node-fix-apt) aptclean=" && $APT_CLEAN" ;;
    node-fix-dockerignore) ign=(.git) ;;
    esac
    c=$(new_ctx "$name" "$WORK/src/node" "${ign[@]}")
    cat >"$c/Dockerfile" <<EOF
FROM debian-min
RUN apt-get update && apt-get install -y nodejs npm build-essential$aptclean
COPY . /app
WORKDIR /app
RUN NODE_EXTRA_CA_CERTS=/app/host-ca.crt npm install && npm run build$npmafter
CMD ["node", "dist/server.js"]
EOF
    ;;
  node-multistage)
    c=$(new_ctx "$name" "$WORK/src/node")
    # build stage as node-naive (the builder's cache serves it), then the prune and .git
    # dropped; runtime: nodejs only (no npm, no recommends), apt cleaned in the same RUN
    # (apt-get clean too: debian-min has no docker-clean apt hook, unlike debian:bookworm)
    cat >"$c/Dockerfile" <<EOF
FROM debian-min AS build
RUN apt-get update && apt-get install -y nodejs npm build-essential
COPY . /app
WORKDIR /app
RUN NODE_EXTRA_CA_CERTS=/app/host-ca.crt npm install && npm run build
RUN NODE_EXTRA_CA_CERTS=/app/host-ca.crt npm prune --omit=dev && rm -rf /app/.git

FROM debian-min
RUN apt-get update && apt-get install -y --no-install-recommends nodejs && $APT_CLEAN
COPY --from=build /app /app
WORKDIR /app
CMD ["node", "dist/server.js"]
EOF
    ;;
  go-naive|go-fix-apt|go-fix-gocache)
    local goafter=""
    [ "$name" != go-fix-apt ] || aptclean=" && $APT_CLEAN"
    [ "$name" != go-fix-gocache ] || goafter=" && go clean -cache"   # /root/.cache/go-build
    c=$(new_ctx "$name" "$WORK/src/go")
    cat >"$c/Dockerfile" <<EOF
FROM debian-min
RUN apt-get update && apt-get install -y golang-go git ca-certificates$aptclean
COPY . /src
RUN cd /src && go build -o /usr/local/bin/app .$goafter
CMD ["app"]
EOF
    ;;
  go-multistage)
    c=$(new_ctx "$name" "$WORK/src/go")
    cat >"$c/Dockerfile" <<'EOF'
FROM debian-min AS build
RUN apt-get update && apt-get install -y golang-go git ca-certificates
COPY . /src
RUN cd /src && go build -o /usr/local/bin/app .

FROM debian-min
COPY --from=build /usr/local/bin/app /usr/local/bin/app
CMD ["app"]
EOF
    ;;
  rust-naive|rust-fix-target|rust-fix-cargocache|rust-fix-apt)
    # the build leaves /src/target (release tree, deps, incremental data) and cargo's
    # registry (/root/.cargo/registry: index cache, .crate files, unpacked sources)
    local rustafter=""
    case $name in
    rust-fix-target) rustafter=" && rm -rf /src/target" ;;
    rust-fix-cargocache) rustafter=" && rm -rf /root/.cargo/registry" ;;
    rust-fix-apt) aptclean=" && $APT_CLEAN" ;;
    esac
    c=$(new_ctx "$name" "$WORK/src/rust")
    cat >"$c/Dockerfile" <<EOF
FROM debian-min
RUN apt-get update && apt-get install -y cargo$aptclean
COPY . /src
RUN $RUST_BUILD$rustafter
CMD ["app"]
EOF
    ;;
  rust-multistage)
    c=$(new_ctx "$name" "$WORK/src/rust")
    cat >"$c/Dockerfile" <<EOF
FROM debian-min AS build
RUN apt-get update && apt-get install -y cargo
COPY . /src
RUN $RUST_BUILD

FROM debian-min
COPY --from=build /usr/local/bin/app /usr/local/bin/app
CMD ["app"]
EOF
    ;;
  java-naive|java-fix-apt)
    [ "$name" != java-fix-apt ] || aptclean=" && $APT_CLEAN"
    c=$(new_ctx "$name" "$WORK/src/java")
    cat >"$c/Dockerfile" <<EOF
FROM debian-min
RUN apt-get update && apt-get install -y default-jdk-headless$aptclean
COPY . /src
RUN $JAVA_BUILD
CMD ["java", "-jar", "/app/app.jar"]
EOF
    ;;
  java-fix-jre)
    # the JDK builds in a stage of its own; the final stage is java-naive with the JRE
    # in place of the JDK (same apt style, no cleanup), the same sources, and the
    # build's outputs (/src/out, the jar) copied in: it differs by the JDK only
    c=$(new_ctx "$name" "$WORK/src/java")
    cat >"$c/Dockerfile" <<EOF
FROM debian-min AS build
RUN apt-get update && apt-get install -y default-jdk-headless
COPY . /src
RUN $JAVA_BUILD

FROM debian-min
RUN apt-get update && apt-get install -y default-jre-headless
COPY . /src
COPY --from=build /src/out /src/out
COPY --from=build /app/app.jar /app/app.jar
CMD ["java", "-jar", "/app/app.jar"]
EOF
    ;;
  java-multistage)
    c=$(new_ctx "$name" "$WORK/src/java")
    cat >"$c/Dockerfile" <<EOF
FROM debian-min AS build
RUN apt-get update && apt-get install -y default-jdk-headless
COPY . /src
RUN $JAVA_BUILD

FROM debian-min
RUN apt-get update && apt-get install -y --no-install-recommends default-jre-headless && $APT_CLEAN
COPY --from=build /app/app.jar /app/app.jar
CMD ["java", "-jar", "/app/app.jar"]
EOF
    ;;
  *) say "!! no context for $name" >&2; exit 1 ;;
  esac
}

# ----------------------------------------------------------------------------- images --
selected() { [ -z "${ONLY:-}" ] || case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
saved() { [ -s "$OUT/$1.tar" ]; }
wanted() { selected "$1" && { [ "${FORCE:-}" = 1 ] || ! saved "$1"; }; }
in_daemon() { docker image inspect "$1" >/dev/null 2>&1; }

record_time() { # NAME SECONDS
  local f=$OUT/build-times.tsv
  { [ -f "$f" ] && grep -v "^$1"$'\t' "$f" || true; printf '%s\t%s\t%s\n' "$1" "$2" "$(date -u +%FT%TZ)"; } >"$f.new"
  mv "$f.new" "$f"
}

save_image() { # NAME
  say "   docker save $1 -> $OUT/$1.tar"
  docker save -o "$OUT/$1.tar.part" "$1"
  chmod 644 "$OUT/$1.tar.part" && mv -f "$OUT/$1.tar.part" "$OUT/$1.tar"
  say "   saved $(human "$(stat -c %s "$OUT/$1.tar")")"
}

# Build image NAME from its context, with the naive image of its family as extra cache
# source (its layers are the shared prefix of a single-fix rebuild).
build_image() { # NAME [CACHE-FROM-IMAGE]
  local name=$1 t0=$SECONDS log=$OUT/logs/$1.build.log cache=()
  ctx_for "$name"
  if [ -n "${2:-}" ]; then
    if ! in_daemon "$2" && saved "$2"; then
      say "   loading $2 from $OUT/$2.tar as cache source"
      docker load -q -i "$OUT/$2.tar" >/dev/null
    fi
    ! in_daemon "$2" || cache=(--cache-from "$2")
  fi
  say "== building $name   (context $WORK/ctx/$name, log $log)"
  sed 's/^/   | /' "$WORK/ctx/$name/Dockerfile"
  if ! docker build --network host --rm --force-rm "${cache[@]}" -t "$name" "$WORK/ctx/$name" 2>&1 |
      tee "$log" | grep --line-buffered -E '^(Step |Successfully built| ---> Using cache)' | sed -u 's/^/     /'; then
    say "!! docker build $name failed; last lines of $log:" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
  save_image "$name"
  record_time "$name" $((SECONDS - t0))
  say "   $name done in $((SECONDS - t0)) s"
}

# Make sure base image NAME is in the daemon: built if wanted (once per run), else
# the daemon's copy, else loaded from its tar, else built.
BUILT=" "
need_base() { # NAME
  local name=$1
  case $BUILT in *" $name "*) return 0 ;; esac
  if ! wanted "$name"; then
    in_daemon "$name" && return 0
    if saved "$name"; then
      say "== loading base $name from $OUT/$name.tar"
      docker load -q -i "$OUT/$name.tar" >/dev/null
      return 0
    fi
  fi
  if [ "$name" = debian-min ]; then
    make_rootfs
    local t0=$SECONDS
    say "== docker import $ROOTFS_TAR -> debian-min"
    docker import "$ROOTFS_TAR" debian-min >/dev/null
    save_image debian-min
    record_time debian-min $((SECONDS - t0))
  else
    need_base debian-min
    build_image "$name"
  fi
  BUILT="$BUILT$name "
}

# The debootstrap root, kept as a tarball. Like the official debian image, the
# tarball has no apt lists and no .deb files (debootstrap leaves ~49 MB of lists and
# ~31 MB of .debs); unlike it, no /etc/apt/apt.conf.d/docker-clean hook is added, so
# apt in the images keeps its archives unless told otherwise.
make_rootfs() {
  [ -s "$ROOTFS_TAR" ] && return 0
  local r=$WORK/rootfs t0=$SECONDS
  say "== debootstrap --variant=minbase bookworm (log $OUT/logs/debootstrap.log)"
  rm -rf "$r"
  debootstrap --variant=minbase bookworm "$r" http://deb.debian.org/debian >"$OUT/logs/debootstrap.log" 2>&1
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin
  mkdir -p "$r/var/lib/apt/lists/partial"
  tar --numeric-owner -C "$r" -cf "$ROOTFS_TAR.part" . && mv "$ROOTFS_TAR.part" "$ROOTFS_TAR"
  rm -rf "$r"
  say "   $ROOTFS_TAR: $(human "$(stat -c %s "$ROOTFS_TAR")") in $((SECONDS - t0)) s"
}

smoke() { # IMAGE CMD...: the rebuilt image still runs the app's imports (status 1 if not)
  local img=$1
  shift
  if docker run --rm --network none "$img" "$@" >"$OUT/logs/$img.smoke.log" 2>&1; then
    say "   smoke test $img: ok ($*)"
  else
    say "!! smoke test $img failed ($*), see $OUT/logs/$img.smoke.log" >&2
    return 1
  fi
}

smoke_family() { # FAMILY IMAGE: smoke IMAGE with the command of FAMILY (py node go rust java)
  case $1 in
  py) smoke "$2" python3 -c 'import flask, requests, docopt, shop; print(flask.__version__)' ;;
  node) smoke "$2" node -e 'require("express"); require("morgan"); require("/app/dist/routes.js")' ;;
  go) smoke "$2" app -h ;;
  rust) smoke "$2" app ;;
  java) smoke "$2" java -jar /app/app.jar ;;
  *) say "!! no smoke test for family $1" >&2; return 1 ;;
  esac
}

remove_images() { # NAME...: drop what is saved, and the builder's leftovers
  local present=()
  for i in "$@"; do ! in_daemon "$i" || present+=("$i"); done
  [ ${#present[@]} -eq 0 ] || { say "== removing saved images from the daemon: ${present[*]}"; docker rmi -f "${present[@]}" >/dev/null; }
  docker image prune -f >/dev/null
  docker container prune -f >/dev/null
}

DISK_PEAK=0
note_disk() { # the data root's size now (vfs: every layer a full copy)
  [ -d "$WORK/docker" ] || return 0
  local b
  b=$(du -sb "$WORK/docker" 2>/dev/null | cut -f1)
  [ "$b" -le "$DISK_PEAK" ] || DISK_PEAK=$b
  say "   daemon data root now $(human "$b")"
}

family() { # BASES -- IMAGES...: build the wanted images of one family, naive first
  local bases=() imgs=() todo=() seen_sep= i
  for i in "$@"; do
    if [ "$i" = -- ]; then seen_sep=1; elif [ -z "$seen_sep" ]; then bases+=("$i"); else imgs+=("$i"); fi
  done
  for i in "${imgs[@]}"; do wanted "$i" && todo+=("$i"); done
  if [ ${#todo[@]} -eq 0 ]; then
    for i in "${imgs[@]}"; do saved "$i" && say "= $i: $OUT/$i.tar exists, skipped (FORCE=1 rebuilds)"; done
    return 0
  fi
  start_daemon
  for i in "${bases[@]}"; do need_base "$i"; done
  for i in "${imgs[@]}"; do
    wanted "$i" || ! saved "$i" || say "= $i: $OUT/$i.tar exists, skipped"
  done
  local naive=${imgs[0]}
  for i in "${todo[@]}"; do
    if [ "$i" = "$naive" ]; then build_image "$i"; else build_image "$i" "$naive"; fi
    case $i in
    py-multistage|node-fix-devdeps|node-multistage|go-multistage|rust-multistage|java-fix-jre|java-multistage)
      smoke_family "${i%%-*}" "$i" || true ;;
    esac
    # only the naive image serves as cache to the others: drop each rebuild once saved
    # (vfs: each of its layers is a full copy of its filesystem)
    if [ "$i" != "$naive" ]; then note_disk; remove_images "$i"; fi
  done
  note_disk
  remove_images "${imgs[@]}"
}

# ------------------------------------------------------------------------------ truth --
truth_row() { # NAME: prints the truth.tsv row of saved image NAME (cached in $WORK/truth)
  local name=$1 t=$WORK/truth/$1.row
  if [ ! -s "$t" ] || [ "$OUT/$name.tar" -nt "$t" ]; then
    python3 "$STORED" --tsv "$name" "$OUT/$name.tar" >"$t.part" && mv "$t.part" "$t"
  fi
  cat "$t"
}

truth() {
  local rows=$OUT/truth.tsv.part name
  say "== true stored bytes (benches/stored.py) -> $OUT/truth.tsv"
  printf 'image\tstored_bytes\tlayers\tlayer_stored_bytes\n' >"$rows"
  for name in $ALL_IMAGES; do
    saved "$name" || continue
    truth_row "$name" >>"$rows"
  done
  mv "$rows" "$OUT/truth.tsv"
  awk -F'\t' '{ printf "   %-20s %14s %7s  %s\n", $1, $2, $3, $4 }' "$OUT/truth.tsv"
}

# ---------------------------------------------------------------------------- compare --
compare() {
  [ -x "$IMGSIZE" ] || { say "!! $IMGSIZE missing: cargo build --release" >&2; exit 2; }
  [ -s "$OUT/truth.tsv" ] || truth
  local naive rc
  for naive in $(printf '%s\n' "$FIXES" | awk 'NF {print $2}' | awk '!seen[$0]++'); do
    saved "$naive" || { say "!! $OUT/$naive.tar missing: run benches/rebuilds.sh first" >&2; exit 2; }
    say "== imgsize report $OUT/$naive.tar --format json --top 100000 > $OUT/$naive.report.json"
    rc=0
    "$IMGSIZE" report "$OUT/$naive.tar" --format json --top 100000 >"$OUT/$naive.report.json" 2>"$OUT/logs/$naive.report.err" || rc=$?
    [ "$rc" = 0 ] || say "!! imgsize exited $rc on $naive (see $OUT/logs/$naive.report.err)" >&2
  done
  FIXES="$FIXES" python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
truth = {}
with open(f"{out}/truth.tsv") as f:
    next(f)
    for line in f:
        name, stored, layers, per = line.rstrip("\n").split("\t")
        truth[name] = int(stored)
fixes = [l.split() for l in os.environ["FIXES"].splitlines() if l.strip()]
def mib(b):
    return f"{b:,}"
by_naive = {}
for fix, naive, rules in fixes:
    by_naive.setdefault(naive, []).append((fix, rules.split(",")))
for naive, rows in by_naive.items():
    try:
        doc = json.load(open(f"{out}/{naive}.report.json"))
    except Exception as e:
        print(f"\n### {naive}: no report ({e})\n")
        continue
    stored = doc["totals"]["stored_bytes"]
    print(f"\n### {naive}\n")
    print(f"- imgsize totals.stored_bytes: {stored:,} (truth {truth.get(naive, 0):,}"
          f"{', equal' if stored == truth.get(naive) else ', DIFFERENT'}); complete: {doc.get('complete')}")
    print(f"- projected: {json.dumps(doc.get('projected'))}")
    print()
    print("| fix | real saving (stored(naive) − stored(rebuild)) | imgsize projection (Σ bytes of the rules' findings) | error % |")
    print("|---|---:|---:|---:|")
    for fix, rules in rows:
        want = []
        for r in rules:
            rule, _, scope = r.partition("@")
            want.append((rule, scope or "yours"))
        if rules == ["fixes"]:
            proj = doc["projected"]["fixes"]["saved_bytes"]
        else:
            proj = sum(f["bytes"] for f in doc["findings"]
                       if any(f["rule"] == r and (s == "any" or f["scope"] == s) for r, s in want))
        if fix in truth and naive in truth:
            real = truth[naive] - truth[fix]
            err = f"{(proj - real) / real * 100:+.1f}%" if real else ("0.0%" if proj == 0 else "n/a")
            real_s = mib(real)
        else:
            real_s, err = "(not built)", ""
        print(f"| {fix} ({', '.join(rules)}) | {real_s} | {mib(proj)} | {err} |")
    print()
    print("All findings (rule, scope, layer, bytes, incremental_bytes, compressed_bytes):")
    print()
    print("| rule | scope | layer | bytes | incremental | compressed |")
    print("|---|---|---:|---:|---:|---:|")
    for f in doc["findings"]:
        print(f"| {f['rule']} | {f['scope']} | {f['layer']} | {mib(f['bytes'])} | "
              f"{mib(f['incremental_bytes'])} | {mib(f['compressed_bytes'])} |")
if any("," in rules for _, _, rules in fixes):
    print()
    print("Rows with several rules sum each rule's `bytes` (what that fix alone saves), so bytes that")
    print("two of the rules both claim count twice there.")
if any(rules == "fixes" for _, _, rules in fixes):
    print()
    print("`fixes` rows compare the headline 'after your fixes' (projected.fixes), which counts every")
    print("edit imgsize suggests in your layers: on py-naive also `bytecode` and `docs-locales`, which")
    print("py-fix-all does not apply (their `bytes` are in the findings table above).")
PY
}

# ------------------------------------------------------------------------------- main --
# Only when run; `source benches/rebuilds.sh` defines the above and returns here.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
case $MODE in
build)
  T0=$SECONDS
  say "== rebuild benchmark: out $OUT, FORCE=${FORCE:-0}${ONLY:+, ONLY=$ONLY}"
  mkdir -p "$WORK/src/empty"
  make_py_src
  make_node_src
  make_go_src
  make_rust_src
  make_java_src
  # bases first (saved for reference), then one family at a time, pruned once saved
  for b in $BASES; do
    if wanted "$b"; then start_daemon; need_base "$b"; else saved "$b" && say "= $b: $OUT/$b.tar exists, skipped"; fi
  done
  family debian-min pyfull pyslim -- $PY_IMAGES
  family debian-min -- $NODE_IMAGES
  family debian-min -- $GO_IMAGES
  family debian-min -- $RUST_IMAGES
  family debian-min -- $JAVA_IMAGES
  if [ -n "$STARTED_DAEMON" ]; then
    remove_images $BASES
    note_disk
  fi
  stop_daemon
  truth
  say "== done in $((SECONDS - T0)) s"
  say "   tars: $(du -sh "$OUT"/*.tar 2>/dev/null | awk '{print $1}' | paste -sd+ | sed 's/+/ + /g') ; all of $OUT: $(du -sh "$OUT" | cut -f1)"
  [ "$DISK_PEAK" = 0 ] || say "   daemon data root peaked at about $(human "$DISK_PEAK") (measured at the end of each family, before pruning)"
  ;;
truth) truth ;;
compare) compare ;;
*) say "usage: benches/rebuilds.sh [build|truth|compare]" >&2; exit 2 ;;
esac
fi
