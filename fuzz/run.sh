#!/usr/bin/env bash
# Fuzz every target (or the TARGETs named) for MINUTES each (default 5) and print
# target | minutes | executions | crashes. Stable without a sanitizer by default;
# FUZZ_SANITIZER=address builds on nightly with AddressSanitizer (debug assertions,
# and with them overflow checks, are on in both builds).
#
#   fuzz/run.sh [MINUTES [TARGET...]]
#   FUZZ_SANITIZER=address fuzz/run.sh 30 tar_entries merge
#
# The byte-level layer targets run with tar.dict (header magics, PAX keys, GNU long
# names, whiteouts, compression magics).
#
# Seeds are regenerated into fuzz/corpus/<target>/ (gitignored) first; what libFuzzer
# adds to the corpus stays there for the next run until the seeds are regenerated.
# Crashes, leaks, out-of-memory (-rss_limit_mb=2048) and slow inputs (-timeout=10)
# land in fuzz/artifacts/<target>/. With AddressSanitizer, on nightly:
#
#   cd fuzz && RUSTUP_TOOLCHAIN=nightly cargo fuzz run TARGET -- -rss_limit_mb=2048 -timeout=10
#
# Not part of .ci/run: it takes MINUTES x 7.
set -euo pipefail

minutes="${1:-5}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
targets=(layer_walk merge documents budget dockerfile registry tar_entries)
if [ $# -gt 0 ]; then targets=("$@"); fi
sanitizer="${FUZZ_SANITIZER:-none}"
if [ "$sanitizer" != none ]; then export RUSTUP_TOOLCHAIN=nightly; fi
logs="$here/artifacts/logs"

python3 "$here/seeds.py" "${targets[@]}"
cargo fuzz build -s "$sanitizer"
mkdir -p "$logs"

seconds=$(awk "BEGIN { printf \"%d\", $minutes * 60 }")
rows=()
for t in "${targets[@]}"; do
    mkdir -p "artifacts/$t" "corpus/$t"
    before=$(find "artifacts/$t" -maxdepth 1 -type f | wc -l)
    echo "fuzz: $t for $minutes min" >&2
    # A finding stops libFuzzer with a non-zero status; the table reports it.
    dict=()
    case "$t" in layer_walk | merge | documents) dict=(-dict="$here/tar.dict") ;; esac
    cargo fuzz run -s "$sanitizer" "$t" "corpus/$t" -- \
        -rss_limit_mb=2048 -timeout=10 -max_total_time="$seconds" "${dict[@]}" \
        -print_final_stats=1 >"$logs/$t-$sanitizer.log" 2>&1 || true
    after=$(find "artifacts/$t" -maxdepth 1 -type f | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$logs/$t-$sanitizer.log" | tail -1)
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$logs/$t-$sanitizer.log" | tail -1)
    fi
    rows+=("$t|$minutes|${execs:-?}|$((after - before))")
    grep -E '^#[0-9]+[[:space:]]+DONE' "$logs/$t-$sanitizer.log" | tail -1 | sed "s/^/$t: /" >&2 || true
done

printf '%-12s | %7s | %12s | %7s\n' target minutes executions crashes
printf '%-12s-+-%7s-+-%12s-+-%7s\n' ------------ ------- ------------ -------
for r in "${rows[@]}"; do
    IFS='|' read -r t m e c <<<"$r"
    printf '%-12s | %7s | %12s | %7s\n' "$t" "$m" "$e" "$c"
done
rm -f /dev/shm/imgsize-fuzz-documents-*.tar "${TMPDIR:-/tmp}"/imgsize-fuzz-documents-*.tar
echo "logs: $logs" >&2
