#!/usr/bin/env bash
# `imgsize fix` end to end with the Docker engine: for each naive image of
# benches/rebuilds.sh, imgsize writes its fixes into a copy of the naive build context,
# the engine builds the patched Dockerfile, and the rebuilt image's TRUE stored bytes
# (benches/stored.py) are set against what imgsize projected for it.
#
#   benches/fix.sh [build]    patch, build, save, smoke-test what is missing, then compare
#   benches/fix.sh compare    only the table, from what is saved
#
# Knobs: ONLY="py go" limits the run to those families (py node go rust java);
# VARIANTS="fixes" (or "multistage") limits the rows; FORCE=1
# patches and rebuilds rows already saved; OUT=dir (default bench-data/rebuilds, the
# naive images' folder); IMGSIZE=binary (default target/release/imgsize); KEEP_DOCKER=1
# keeps the daemon's data root.
#
# Two rows per family F (naive image F-naive, saved by benches/rebuilds.sh):
#   F-imgsize-fixes       imgsize fix --skip-rule multi-stage: every fix in place
#   F-imgsize-multistage  imgsize fix with its default rules: a build stage and a runtime
#                         stage when imgsize finds one applies (py: --runtime-base pyslim,
#                         since pyfull, py-naive's base, has no slim name imgsize derives)
# Each row:
#   1. the naive context (ctx_for F-naive) is copied to $OUT/work/ctx/F-imgsize-VARIANT
#      and `imgsize fix $OUT/F-naive.tar --dockerfile CTX/Dockerfile --context CTX
#      --write --format json` rewrites its Dockerfile (and .dockerignore) in place; the
#      JSON goes to $OUT/F-imgsize-VARIANT.fix.json and its diffs to the log;
#   2. the classic builder builds CTX with F-naive (loaded from its tar) as --cache-from,
#      the bases the Dockerfile names loaded from their tars; the image is saved to
#      $OUT/F-imgsize-VARIANT.tar (build and save time in build-times.tsv) and dropped
#      from the daemon (the naive image once its family is done);
#   3. smoke test: the image's entrypoint, command, working directory and user are the
#      naive image's, and the family's command of rebuilds.sh (smoke_family) runs in it;
#   4. truth: benches/stored.py on the tar (cached in $OUT/work/truth).
# A failed imgsize run, build or smoke test marks its row and the run goes on.
# Per-row outcomes are kept in $OUT/work/fix/NAME.status; `compare` writes the table to
# stdout and $OUT/fix-results.md (raw figures in $OUT/fix-results.tsv): projected
# stored bytes (the JSON's projected.stored_bytes) against the rebuilt image's, error =
# (projected − rebuilt) / rebuilt, rows outside ±10% flagged.
#
# The engine, the sources, the contexts, the bases and the smoke commands are
# rebuilds.sh's (sourced, its main not run): the same private dockerd (vfs, classic
# builder), stopped on exit. Needs the naive tars and their bases (benches/rebuilds.sh
# ONLY="debian-min pyfull pyslim py-naive ..."), root, docker, python3, and the network
# the naive builds needed (PyPI, npm, crates.io, the Debian archive) where a patched
# step misses the cache.
set -euo pipefail

# shellcheck source=benches/rebuilds.sh
source "$(dirname "${BASH_SOURCE[0]}")/rebuilds.sh"
MODE=${1:-build}
FAMILIES="py node go rust java"
VARIANTS=${VARIANTS:-fixes multistage}
FIXDIR=$WORK/fix                # per-row status
mkdir -p "$FIXDIR"

family_selected() { [ -z "${ONLY:-}" ] || case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

fix_args() { # FAMILY VARIANT: imgsize fix's rule flags for that row
  case $2 in
  fixes) echo "--skip-rule multi-stage" ;;
  multistage) [ "$1" != py ] || echo "--runtime-base pyslim" ;;
  esac
}

# A row is redone when FORCE=1, when its tar is missing, or when the naive tar is newer.
row_wanted() { # NAME NAIVE
  [ "${FORCE:-}" = 1 ] || ! saved "$1" || [ "$OUT/$2.tar" -nt "$OUT/$1.tar" ]
}

# The bases as rebuilds.sh saved them: loaded, never rebuilt here (FORCE=1 or not).
load_base() { # NAME
  local ONLY=- FORCE=''
  need_base "$1"
}

# The images a Dockerfile's FROM lines name (stages it defines left out).
from_images() { # DOCKERFILE
  awk 'toupper($1) == "FROM" {
         img = ""; stage = ""
         for (i = 2; i <= NF; i++) {
           if ($i ~ /^--/) continue
           if (img == "") img = $i
           else if (toupper($i) == "AS" && i < NF) stage = $(i + 1)
         }
         if (img != "") froms[++n] = img
         if (stage != "") stages[tolower(stage)] = 1
       }
       END { for (i = 1; i <= n; i++) if (!(tolower(froms[i]) in stages)) print froms[i] }' "$1" | awk '!seen[$0]++'
}

# What in the image's config starts its app.
start_config() { # IMAGE
  docker image inspect -f 'entrypoint={{json .Config.Entrypoint}} cmd={{json .Config.Cmd}} workdir={{.Config.WorkingDir}} user={{.Config.User}}' "$1"
}

# The row's outcome, one tab-separated line: fix, fix seconds, build, build seconds, smoke.
R_FIX='' R_FIX_S='' R_BUILD='' R_BUILD_S='' R_SMOKE=''
row_start() { # FIX-OUTCOME: a row not run further than that
  R_FIX=$1 R_FIX_S='' R_BUILD="not run" R_BUILD_S='' R_SMOKE="not run"
}
write_status() { # NAME
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$R_FIX" "$R_FIX_S" "$R_BUILD" "$R_BUILD_S" "$R_SMOKE" \
    "$(date -u +%FT%TZ)" >"$FIXDIR/$1.status"
}

# The steps set R_* and return 0 either way (called plainly, so that set -e still stops
# the script on what is not the row's failure: a full disk, a daemon gone).

# Step 1: the patched context; R_FIX=ok, or why not.
patch_ctx() { # FAMILY VARIANT NAME
  local fam=$1 variant=$2 name=$3 naive=$1-naive c=$WORK/ctx/$3 t0=$SECONDS rc=0 args
  read -ra args <<<"$(fix_args "$fam" "$variant")"
  ctx_for "$naive"
  rm -rf "$c" && cp -a "$WORK/ctx/$naive" "$c"
  say "== imgsize fix $naive -> $name ${args[*]}"
  say "   $IMGSIZE fix $OUT/$naive.tar --dockerfile $c/Dockerfile --context $c --write ${args[*]}${args[*]:+ }--format json"
  "$IMGSIZE" fix "$OUT/$naive.tar" --dockerfile "$c/Dockerfile" --context "$c" --write "${args[@]}" \
    --format json >"$OUT/$name.fix.json.part" 2>"$OUT/logs/$name.fix.err" || rc=$?
  R_FIX_S=$((SECONDS - t0))
  if [ "$rc" != 0 ]; then
    R_FIX="exit $rc"
    say "!! imgsize fix exited $rc on $naive ($variant); last lines of $OUT/logs/$name.fix.err:" >&2
    tail -n 15 "$OUT/logs/$name.fix.err" >&2
    rm -f "$OUT/$name.fix.json.part"
    return 0
  fi
  mv -f "$OUT/$name.fix.json.part" "$OUT/$name.fix.json"
  if ! python3 - "$OUT/$name.fix.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
p = doc["projected"]
print(f"   stored {doc['stored_bytes']:,} -> projected {p['stored_bytes']:,} (saves {p['saved_bytes']:,})")
for h in doc.get("hunks", []):
    print(f"   {h['file']}:{h['line']}: {', '.join(h['rules'])} ({h.get('saved_bytes', 0):,} bytes)")
for l in doc.get("left_out", []):
    print(f"   left out: {l['rule']} (layer {l.get('layer')}): {l.get('reason', '')}")
for f in doc.get("files", []):
    print(f"   {f['path']}{' (created)' if f.get('created') else ''}:")
    for line in f.get("diff", "").splitlines():
        print(f"   | {line}")
PY
  then
    R_FIX="bad json"
    say "!! $OUT/$name.fix.json is not the JSON of imgsize fix" >&2
    return 0
  fi
  R_FIX=ok
  say "   imgsize fix took $R_FIX_S s"
}

# Step 2: build and save; R_BUILD=ok or failed (the log's tail printed).
build_patched() { # FAMILY NAME
  local naive=$1-naive name=$2 c=$WORK/ctx/$2 t0 log=$OUT/logs/$2.build.log b
  start_daemon
  for b in $(from_images "$c/Dockerfile"); do
    case " $BASES " in
    *" $b "*) load_base "$b" ;;
    *) in_daemon "$b" || say "   $b (named by FROM) is not a base of rebuilds.sh: the build pulls it or fails" ;;
    esac
  done
  if ! in_daemon "$naive"; then
    say "   loading $naive from $OUT/$naive.tar as cache source"
    docker load -q -i "$OUT/$naive.tar" >/dev/null
  fi
  t0=$SECONDS
  say "== building $name   (context $c, cache from $naive, log $log)"
  if ! docker build --network host --rm --force-rm --cache-from "$naive" -t "$name" "$c" 2>&1 |
      tee "$log" | grep --line-buffered -E '^(Step |Successfully built| ---> Using cache)' | sed -u 's/^/     /'; then
    R_BUILD=failed
    R_BUILD_S=$((SECONDS - t0))
    say "!! docker build $name failed; last lines of $log:" >&2
    tail -n 25 "$log" >&2
    return 0
  fi
  save_image "$name"
  R_BUILD=ok
  R_BUILD_S=$((SECONDS - t0))
  record_time "$name" "$R_BUILD_S"
  say "   $name built and saved in $R_BUILD_S s"
}

# Step 3: the patched image starts the naive image's app.
smoke_patched() { # FAMILY NAME
  local naive=$1-naive name=$2 want got
  want=$(start_config "$naive")
  got=$(start_config "$name")
  R_SMOKE=ok
  if [ "$want" != "$got" ]; then
    say "!! $name does not start like $naive:" >&2
    say "     $naive: $want" "     $name: $got" >&2
    R_SMOKE="failed (config)"
  fi
  smoke_family "$1" "$name" || R_SMOKE="failed (command)"
}

fix_row() { # FAMILY VARIANT
  local fam=$1 variant=$2 name=$1-imgsize-$2
  row_start "not run"
  rm -f "$OUT/$name.tar" "$OUT/$name.fix.json"
  patch_ctx "$fam" "$variant" "$name"
  [ "$R_FIX" != ok ] || build_patched "$fam" "$name"
  if [ "$R_BUILD" = ok ]; then
    smoke_patched "$fam" "$name"
    truth_row "$name" | awk -F'\t' '{ printf "   stored bytes (benches/stored.py): %s in %s layers\n", $2, $3 }'
    note_disk
    remove_images "$name"
  fi
  write_status "$name"
}

fix_family() { # FAMILY
  local fam=$1 naive=$1-naive v todo=()
  for v in $VARIANTS; do
    if row_wanted "$fam-imgsize-$v" "$naive"; then todo+=("$v"); else say "= $fam-imgsize-$v: $OUT/$fam-imgsize-$v.tar exists, skipped (FORCE=1 redoes it)"; fi
  done
  [ ${#todo[@]} -gt 0 ] || return 0
  "make_${fam}_src"
  if ! saved "$naive"; then
    say "!! $OUT/$naive.tar missing: ONLY=$naive benches/rebuilds.sh builds it; $fam skipped" >&2
    for v in "${todo[@]}"; do
      row_start "no $naive"
      write_status "$fam-imgsize-$v"
    done
    return 0
  fi
  for v in "${todo[@]}"; do fix_row "$fam" "$v"; done
  if daemon_up; then
    note_disk
    remove_images "$naive"
  fi
}

# ---------------------------------------------------------------------------- compare --
fix_compare() {
  local fam v name rows=()
  for fam in $FAMILIES; do
    ! saved "$fam-naive" || truth_row "$fam-naive" >/dev/null
    for v in $VARIANTS; do
      name=$fam-imgsize-$v
      [ -s "$FIXDIR/$name.status" ] || [ -s "$OUT/$name.fix.json" ] || continue
      ! saved "$name" || truth_row "$name" >/dev/null
      rows+=("$fam $v $name")
    done
  done
  ROWS=$(printf '%s\n' "${rows[@]}") python3 - "$OUT" "$WORK" <<'PY' | tee "$OUT/fix-results.md"
import json, os, sys
out, work = sys.argv[1], sys.argv[2]
rows = [l.split() for l in os.environ["ROWS"].splitlines() if l.strip()]
FLAGS = {"fixes": "--skip-rule multi-stage", "multistage": ""}

def truth(name):
    try:
        return int(open(f"{work}/truth/{name}.row").read().split("\t")[1])
    except (OSError, IndexError, ValueError):
        return None

def status(name):
    try:
        f = open(f"{work}/fix/{name}.status").read().rstrip("\n").split("\t")
        return dict(zip(["fix", "fix_seconds", "build", "build_seconds", "smoke", "date"], f))
    except OSError:
        return {}

def num(b):
    return "" if b is None else f"{b:,}"

print("### imgsize fix, rebuilt\n")
if not rows:
    print("Nothing yet: run benches/fix.sh.")
    sys.exit(0)
print("| image | patch (variant) | rules written | projected stored bytes | rebuilt stored bytes | error % | builds | smoke |")
print("|---|---|---|---:|---:|---:|---|---|")
tsv = ["\t".join(["image", "variant", "name", "rules", "projected_stored_bytes",
                  "rebuilt_stored_bytes", "error_pct", "naive_stored_bytes",
                  "imgsize_stored_bytes", "projected_saved_bytes", "real_saved_bytes",
                  "fix", "fix_seconds", "build", "build_seconds", "smoke", "left_out"])]
outside, unsmoked = [], []
for fam, variant, name in rows:
    naive = f"{fam}-naive"
    st = status(name)
    try:
        doc = json.load(open(f"{out}/{name}.fix.json"))
    except (OSError, ValueError):
        doc = None
    rules, left = [], []
    proj = stored = None
    if doc:
        for h in doc.get("hunks", []):
            rules += [r for r in h["rules"] if r not in rules]
        left = [l["rule"] for l in doc.get("left_out", [])]
        proj = doc["projected"]["stored_bytes"]
        stored = doc["stored_bytes"]
    flags = FLAGS[variant] + (" --runtime-base pyslim" if fam == "py" and variant == "multistage" else "")
    patch = f"{variant}" + (f" (`{flags.strip()}`)" if flags.strip() else "")
    base = truth(naive)
    rebuilt = truth(name) if st.get("build") == "ok" else None
    err = err_s = ""
    if proj is not None and rebuilt:
        err = (proj - rebuilt) / rebuilt * 100
        err_s = f"{err:+.1f}%"
        if abs(err) > 10:
            outside.append(f"{name} ({err_s})")
            err_s = f"**{err_s}**"
    fix = st.get("fix", "not run" if doc is None else "ok")
    if fix.startswith("no "):
        builds = f"no: {fix[3:]}.tar missing"
    elif fix != "ok":
        builds = f"no: imgsize fix {fix}"
    elif st.get("build") == "ok":
        builds = f"yes, {st.get('build_seconds', '?')} s"
    else:
        builds = st.get("build", "not run")
    smoke = st.get("smoke", "not run")
    if st.get("build") == "ok" and smoke != "ok":
        unsmoked.append(name)
    print(f"| {naive} | {patch} | {', '.join(rules) or '(none)'} | {num(proj)} | "
          f"{num(rebuilt) if rebuilt is not None else '(not built)'} | {err_s} | {builds} | {smoke} |")
    tsv.append("\t".join(str(x) for x in [
        naive, variant, name, ",".join(rules), "" if proj is None else proj,
        "" if rebuilt is None else rebuilt, "" if err == "" else f"{err:.2f}",
        "" if base is None else base, "" if stored is None else stored,
        "" if proj is None or stored is None else stored - proj,
        "" if base is None or rebuilt is None else base - rebuilt,
        fix, st.get("fix_seconds", ""), st.get("build", ""), st.get("build_seconds", ""),
        smoke, ",".join(left)]))
print()
print("Projected: imgsize fix's projected.stored_bytes for the naive image; rebuilt: the stored")
print("bytes of the patched image as built (benches/stored.py); error = (projected − rebuilt) / rebuilt.")
print("builds: the seconds of the patched build and its docker save, with the naive image as cache.")
if outside:
    print(f"\nOutside ±10%: {', '.join(outside)}.")
if unsmoked:
    print(f"\nSmoke test failed: {', '.join(unsmoked)}: the patched image does not start the app,")
    print("so its stored bytes are not those of a working fix.")
with open(f"{out}/fix-results.tsv", "w") as f:
    f.write("\n".join(tsv) + "\n")
PY
}

# ------------------------------------------------------------------------------- main --
for f in ${ONLY:-}; do
  case " $FAMILIES " in *" $f "*) ;; *) say "!! ONLY names families ($FAMILIES), not $f" >&2; exit 2 ;; esac
done
case $MODE in
build)
  [ -x "$IMGSIZE" ] || { say "!! $IMGSIZE missing: cargo build --release, or IMGSIZE=/path/to/imgsize" >&2; exit 2; }
  T0=$SECONDS
  say "== imgsize fix benchmark: out $OUT, imgsize $IMGSIZE, FORCE=${FORCE:-0}${ONLY:+, ONLY=$ONLY}"
  mkdir -p "$WORK/src/empty"
  for fam in $FAMILIES; do
    if family_selected "$fam"; then fix_family "$fam"; fi
  done
  if [ -n "$STARTED_DAEMON" ]; then
    read -ra bases <<<"$BASES"
    remove_images "${bases[@]}"
    note_disk
  fi
  stop_daemon
  say "== done in $((SECONDS - T0)) s"
  fix_compare
  ;;
compare) fix_compare ;;
*) say "usage: benches/fix.sh [build|compare]" >&2; exit 2 ;;
esac
