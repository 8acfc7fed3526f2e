#!/usr/bin/env bash
# Bounded fuzzing of the pure core (not part of `make test`: it needs a nightly toolchain and
# minutes per target). Seeds come from ../shared/data/vcf; fuzz/regressions/<target>/ holds
# inputs that once failed and are replayed first. Prints executions per target.
#   bash fuzz/run.sh [SECONDS_PER_TARGET=60]
set -euo pipefail
SECS=${1:-60}
cd "$(dirname "$0")"
DATA="${VCF_DATA_DIR:-../../shared/data/vcf}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
TARGETS=(record_to_rows file_to_rows envelope_open)
for t in "${TARGETS[@]}"; do mkdir -p "corpus/$t" "regressions/$t" logs; done
for f in "$DATA"/*; do
    n=$(basename "$f")
    cp "$f" "corpus/file_to_rows/$n"
    zcat -f "$f" | grep -v '^#' | head -40 > "corpus/record_to_rows/$n.lines" || true
    zcat -f "$f" | grep -v '^#' | head -3 | cut -c1-64 > "corpus/envelope_open/$n.bytes" || true
done
for t in "${TARGETS[@]}"; do
    echo "==> $t ($SECS s)"
    if cargo +nightly fuzz run "$t" "corpus/$t" "regressions/$t" -- -max_total_time="$SECS" \
        -rss_limit_mb=2048 -timeout=10 > "logs/$t.log" 2>&1; then
        echo "    $(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "logs/$t.log" | tail -1), no failure"
    else
        echo "    FAILED: see fuzz/logs/$t.log and fuzz/artifacts/$t/ (copy the input to fuzz/regressions/$t/ once fixed)"
        tail -30 "logs/$t.log"
        exit 1
    fi
done
