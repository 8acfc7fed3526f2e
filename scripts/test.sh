#!/usr/bin/env bash
# Command 2: every test — formatting, clippy, Rust unit tests of the pure cores, #[pg_test]s
# in a throw-away server (run as the unprivileged user postgres), and the SQL regression
# tests (tests/pg_regress) against a throw-away cluster, and upgrade + dump/restore checks
# (tests/ecosystem), faults/concurrency/leaks (tests/hardening), attacks by lesser roles
# (tests/security), every real file against bcftools (tests/oracle), the companion CLI
# against an RDS-like server (tests/cli) and scale-out on a local Citus cluster (tests/citus).
# Ends with one summary line and a
# non-zero exit if anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
install_missing
cd "$REPO"

WORK=/tmp/vcf_pg_loader_test
as_root rm -rf "$WORK"
mkdir -p "$WORK/logs"
chmod 755 "$WORK"

# The tests install a dev build into the system PostgreSQL; put back what command 1 (or the
# user) had installed when they end, however they end.
INSTALLED="$WORK/installed"
mkdir -p "$INSTALLED/lib" "$INSTALLED/extension"
LIBDIR=$("$PG_CONFIG" --pkglibdir); EXTDIR=$("$PG_CONFIG" --sharedir)/extension
cp -p "$LIBDIR"/vcf_pg_loader.so "$INSTALLED/lib/" 2>/dev/null || true
cp -p "$EXTDIR"/vcf_pg_loader* "$INSTALLED/extension/" 2>/dev/null || true
restore_installation() {
    if [ -f "$INSTALLED/lib/vcf_pg_loader.so" ]; then
        # A copy and a rename: a running server that mapped the library keeps its file.
        as_root cp -p "$INSTALLED/lib/vcf_pg_loader.so" "$LIBDIR/.vcf_pg_loader.so.restore"
        as_root mv -f "$LIBDIR/.vcf_pg_loader.so.restore" "$LIBDIR/vcf_pg_loader.so"
        as_root rm -f "$EXTDIR"/vcf_pg_loader*
        as_root cp -p "$INSTALLED/extension/"* "$EXTDIR/"
    fi
}
trap restore_installation EXIT

PASSED=0
FAILED=0
STEPS_FAILED=()

# Steps to run: all, or those named as arguments (e.g. scripts/test.sh regress).
ONLY=" $* "
# run NAME CMD...: a step; its log is kept in $WORK/logs/NAME.log
run() {
    local name=$1; shift
    if [ "$ONLY" != "  " ] && [[ "$ONLY" != *" $name "* ]]; then return 0; fi
    say "$name"
    if "$@" 2>&1 | tee "$WORK/logs/$name.log"; then
        echo "--- $name: ok"
    else
        echo "--- $name: FAILED"
        STEPS_FAILED+=("$name")
    fi
}

count_cargo() { # sums "test result: ... N passed; M failed" lines of a log (none: a build failed)
    local p f
    p=$(grep -hoE 'test result: [A-Za-z]+\. [0-9]+ passed' "$1" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}') || true
    f=$(grep -hoE '[0-9]+ failed;' "$1" | awk '{s+=$1} END {print s+0}') || true
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
}

count_checks() { # sums the "ok …" / "FAIL …" lines of a shell suite's log (tests/checks.sh)
    PASSED=$((PASSED + $(grep -c '^ok ' "$1" || true)))
    FAILED=$((FAILED + $(grep -c '^FAIL ' "$1" || true)))
}

# --- static checks
run fmt cargo fmt --all -- --check
clippy() {
    cargo clippy --workspace --features "pg15 pg_test" --no-deps -- -D warnings &&
        # the pure core's and the CLI's tests and examples too
        cargo clippy -p vcf_pg_loader_core -p vcf-pg-loader --all-targets --no-deps -- -D warnings
}
run clippy clippy

# --- pure cores, no PostgreSQL
run unit cargo test -p vcf_pg_loader_core -p vcf-pg-loader
[ -f "$WORK/logs/unit.log" ] && count_cargo "$WORK/logs/unit.log"

# Fixtures read by the server: /tmp/vcf_pg_loader_regress/{keys,data,local}
fixtures() {
    local fx=/tmp/vcf_pg_loader_regress
    as_root rm -rf "$fx"
    as_root install -d -o postgres -g postgres -m 0755 "$fx" "$fx/keys"
    # Test keys derived from fixed labels (stable key ids in expected output; they protect
    # nothing), owned by the server user with mode 0600 as the contract demands.
    for k in a b; do
        as_root su postgres -c "umask 077; printf 'vcf_pg_loader regress key $k' | sha256sum | cut -c1-64 | xxd -r -p | base64 > $fx/keys/$k.keys"
    done
    as_root su postgres -c "umask 077; cat $fx/keys/b.keys $fx/keys/a.keys > $fx/keys/ba.keys"
    as_root su postgres -c "umask 077; printf 'not base64!\n' > $fx/keys/bad.keys"
    as_root su postgres -c "cp $fx/keys/a.keys $fx/keys/loose.keys; chmod 0644 $fx/keys/loose.keys"
    # Copies, not links: the server (user postgres) may not be able to traverse the clone's path.
    as_root cp -r "$DATA_DIR" "$fx/data"
    as_root cp -r "$REPO/tests/data" "$fx/local"
    # A symlink out of a load directory, to the key file (tests/pg_regress/sql/14_privileges.sql).
    as_root ln -sf "$fx/keys/a.keys" "$fx/local/key_link.vcf"
    # A file large enough that a load is still running when a short statement_timeout fires.
    as_root sh -c "{ sed -n '/^##/p' '$REPO/tests/data/small_cohort.vcf'; printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n';
        awk 'BEGIN { for (i = 1; i <= 200000; i++) printf \"chr1\t%d\t.\tA\tC,G\t50\tPASS\tDP=30;AF=0.1,0.2\tGT:AD:DP\t0/1:10,5,0:15\n\", i }'; } > $fx/local/big_generated.vcf"
    # A second load of that size (other content) beside it (tests/pg_regress/sql/18_unload_pages.sql).
    as_root sh -c "sed 's/^chr1\t/chr2\t/' $fx/local/big_generated.vcf > $fx/local/big_generated_chr2.vcf"
    as_root chmod -R a+rX "$fx/data" "$fx/local"
    # The malformed corpus (one file per defect; unreadable.vcf stays mode 000).
    as_root bash "$REPO/tests/malformed/make.sh" "$fx/malformed"
    # A self-signed server certificate for localhost, configured into the regress cluster, so
    # clients can use sslmode=verify-full against it (docs/security/tls-setup.md).
    as_root install -d -o postgres -g postgres -m 0755 "$fx/tls"
    as_root su postgres -c "umask 077; openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout $fx/tls/server.key -out $fx/tls/server.crt 2>/dev/null"
    as_root chmod 0644 "$fx/tls/server.crt"
}
fixtures

# --- #[pg_test]s: cargo-pgrx starts its own server as postgres (initdb refuses root)
pg_test() {
    local d=/var/lib/postgresql/vcf_pg_loader_pgrx_test
    as_root rm -rf "$d"
    as_root install -d -o postgres -g postgres -m 0700 "$d"
    library_aside
    cargo pgrx test pg15 --runas postgres --pgdata "$d"
}
run pg_test pg_test
[ -f "$WORK/logs/pg_test.log" ] && count_cargo "$WORK/logs/pg_test.log"

# --- SQL regression tests: install (dev build), fixtures, pg_regress in pg_virtualenv
regress() {
    library_aside
    cargo pgrx install --pg-config "$PG_CONFIG" | tail -1
    local out="$WORK/regress"
    mkdir -p "$out"; chmod 777 "$out"
    local tests
    tests=$(cd tests/pg_regress/sql && ls *.sql | sed 's/\.sql$//' | sort | tr '\n' ' ')
    pg_virtualenv -v 15 -o ssl=on -o ssl_cert_file=/tmp/vcf_pg_loader_regress/tls/server.crt \
        -o ssl_key_file=/tmp/vcf_pg_loader_regress/tls/server.key sh -c "cd '$REPO/tests/pg_regress' && /usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress --inputdir=. --outputdir='$out' --dbname=vcf_regress $tests"
}
run regress regress
if [ ! -f "$WORK/logs/regress.log" ]; then
    :
elif grep -qE 'All [0-9]+ tests passed' "$WORK/logs/regress.log"; then
    PASSED=$((PASSED + $(grep -oE 'All [0-9]+ tests passed' "$WORK/logs/regress.log" | grep -oE '[0-9]+')))
else
    f=$(grep -oE '[0-9]+ of [0-9]+ tests failed' "$WORK/logs/regress.log" | head -1)
    if [ -n "$f" ]; then
        nf=$(echo "$f" | awk '{print $1}'); nt=$(echo "$f" | awk '{print $3}')
        PASSED=$((PASSED + nt - nf)); FAILED=$((FAILED + nf))
        [ -f "$WORK/regress/regression.diffs" ] && head -200 "$WORK/regress/regression.diffs"
    fi
fi

# --- the shell suites (tests/<name>/run.sh OUT [LOG]), each in a throw-away cluster started
# with the given pg_virtualenv options; they use the build the regress step installed. The
# server log is passed to the suites that search it.
SERVER_LOG=/var/log/postgresql/postgresql-15-regress.log
suite() { # suite NAME [pg_virtualenv options...] [-- extra run.sh arguments]
    local name=$1; shift
    local opts=() extra=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ "${1:-}" = -- ] && { shift; extra=("$@"); }
    local out="$WORK/$name"
    mkdir -p "$out"; chmod 777 "$out"
    pg_virtualenv -v 15 "${opts[@]}" bash "$REPO/tests/$name/run.sh" "$out" "${extra[@]}"
}
shell_suite() { # shell_suite NAME ARGS...: a step counted by its ok/FAIL lines
    run "$1" suite "$@"
    if [ -f "$WORK/logs/$1.log" ]; then count_checks "$WORK/logs/$1.log"; fi
}
# Install scripts of earlier releases (cargo pgrx install copies only update scripts).
[[ "$ONLY" == "  " || "$ONLY" == *" ecosystem "* ]] &&
    as_root cp "$REPO"/sql/released/vcf_pg_loader--*.sql "$("$PG_CONFIG" --sharedir)/extension/"
# upgrade from the releases and pg_dump/pg_restore
shell_suite ecosystem
# faults (kill -9), concurrency and leak search, in a cluster that logs every statement and
# collects pg_stat_statements
shell_suite hardening -o shared_preload_libraries=pg_stat_statements -o log_statement=all \
    -o log_min_duration_statement=0 -- "$SERVER_LOG"
# attacks on every entry point by lesser roles, each over its own connection (CONTRACT §8,
# §9), with the library preloaded (prepared transactions on, so the audit's refusal of PREPARE
# is tested)
shell_suite security -o shared_preload_libraries=vcf_pg_loader -o max_prepared_transactions=5 -- "$SERVER_LOG"
# every real file compared field by field against htslib (bcftools norm -m-any, +split-vep,
# query): rows, site fields, Number=A/R INFO, dosages, A/R/G FORMAT, genes
shell_suite oracle -o shared_preload_libraries=vcf_pg_loader
# the CLI against an RDS-like server of its own (TLS only, scram, a non-superuser master user,
# no extension in its database) and against the extension (interop)
cli_suite() {
    cargo build -p vcf-pg-loader 2>&1 | tail -1
    bash "$REPO/tests/cli/run.sh" "$WORK/cli" "$CARGO_TARGET_DIR/debug/vcf-pg-loader"
}
run cli cli_suite
[ -f "$WORK/logs/cli.log" ] && count_checks "$WORK/logs/cli.log"

# scale-out on Citus: a coordinator and two workers of its own (scripts/citus.sh builds Citus
# 13.0.5 from ../shared/vendor when it is missing); "SKIP citus: why" when it cannot be built
citus_suite() {
    bash "$REPO/tests/citus/run.sh" "$WORK/citus" "$CARGO_TARGET_DIR/debug/vcf-pg-loader"
}
run citus citus_suite
SKIPPED=()
if [ -f "$WORK/logs/citus.log" ]; then
    count_checks "$WORK/logs/citus.log"
    grep -q '^SKIP ' "$WORK/logs/citus.log" && SKIPPED+=("$(grep -m1 '^SKIP ' "$WORK/logs/citus.log")")
fi

say "summary"
for s in "${SKIPPED[@]}"; do echo "skipped: ${s#SKIP }"; done
for s in "${STEPS_FAILED[@]}"; do echo "failed step: $s (log: $WORK/logs/$s.log)"; done
if [ ${#STEPS_FAILED[@]} -gt 0 ] && [ "$FAILED" = 0 ]; then FAILED=${#STEPS_FAILED[@]}; fi
echo "vcf_pg_loader: $PASSED passed, $FAILED failed${SKIPPED:+, ${#SKIPPED[@]} suite(s) skipped}"
[ ${#STEPS_FAILED[@]} -eq 0 ] && [ "$FAILED" = 0 ]
