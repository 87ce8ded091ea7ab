#!/usr/bin/env bash
# Fuzz every target for MINUTES each (default 5) on the stable toolchain, without a
# sanitizer, and print target | minutes | executions | crashes.
#
#   fuzz/run.sh [MINUTES]
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
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
targets=(layer_walk merge documents budget dockerfile registry tar_entries)
logs="$here/artifacts/logs"

python3 "$here/seeds.py"
cargo fuzz build -s none
mkdir -p "$logs"

seconds=$(awk "BEGIN { printf \"%d\", $minutes * 60 }")
rows=()
for t in "${targets[@]}"; do
    mkdir -p "artifacts/$t" "corpus/$t"
    before=$(find "artifacts/$t" -maxdepth 1 -type f | wc -l)
    echo "fuzz: $t for $minutes min" >&2
    # A finding stops libFuzzer with a non-zero status; the table reports it.
    cargo fuzz run -s none "$t" "corpus/$t" -- \
        -rss_limit_mb=2048 -timeout=10 -max_total_time="$seconds" \
        -print_final_stats=1 >"$logs/$t.log" 2>&1 || true
    after=$(find "artifacts/$t" -maxdepth 1 -type f | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$logs/$t.log" | tail -1)
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$logs/$t.log" | tail -1)
    fi
    rows+=("$t|$minutes|${execs:-?}|$((after - before))")
done

printf '%-12s | %7s | %12s | %7s\n' target minutes executions crashes
printf '%-12s-+-%7s-+-%12s-+-%7s\n' ------------ ------- ------------ -------
for r in "${rows[@]}"; do
    IFS='|' read -r t m e c <<<"$r"
    printf '%-12s | %7s | %12s | %7s\n' "$t" "$m" "$e" "$c"
done
rm -f /dev/shm/imgsize-fuzz-documents-*.tar "${TMPDIR:-/tmp}"/imgsize-fuzz-documents-*.tar
echo "logs: $logs" >&2
