#!/usr/bin/env bash
# Faults, concurrency and leaks, against a real server (scripts/test.sh runs this inside a
# throw-away cluster started with log_statement=all, log_min_duration_statement=0 and
# pg_stat_statements). One line per check; exits non-zero if any fails.
#   1. kill -9 of the backend running vcf_load, and of the one running phi_rotate_key_online:
#      after crash recovery no partial load exists, every mapping decrypts, rotation resumes.
#   2. 4 sessions loading files that share sample names + an online rotation, all at once.
#   3. canary sample names and the key bytes are searched for in relation files, pg_wal, a
#      pg_dump, the server log and pg_stat_statements: none may be found.
set -uo pipefail
FX=/tmp/vcf_pg_loader_regress
OUT=${1:-/tmp/vcf_pg_loader_test/hardening}
LOG=${2:?server log file}
mkdir -p "$OUT"; chmod 777 "$OUT"
LOG_START=$(stat -c %s "$LOG" 2>/dev/null || echo 0)  # the log file may hold earlier clusters' lines
DB=hardening
export PGOPTIONS="-c vcf_pg_loader.phi_key_file=$FX/keys/a.keys -c client_min_messages=warning -c vcf_pg_loader.reveal_reason=hardening"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
source "$(dirname "$0")/../checks.sh"
wait_for_server() { for _ in $(seq 1 300); do psql -X -q -At -d "$DB" -c 'SELECT 1' >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
# backend_of PATTERN: pid of the backend whose query matches, waiting for it to show progress
backend_of() {
    local pid=""
    for _ in $(seq 1 600); do
        pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '$1' AND pid <> pg_backend_pid() AND state = 'active' LIMIT 1")
        [ -n "$pid" ] && { echo "$pid"; return 0; }
        sleep 0.05
    done
    return 1
}
KEYID() { q -c "SELECT phi_key_id(phi_encrypt('x'))" ; }
DECRYPTS="SELECT count(*) FILTER (WHERE phi_decrypt(original_id_encrypted, convert_to(anonymous_id::text, 'UTF8')) IS NOT NULL) || '/' || count(*) FROM phi_vault.sample_id_mapping"

dropdb --if-exists "$DB"; createdb "$DB"
q -c "CREATE EXTENSION vcf_pg_loader" -c "CREATE EXTENSION pg_stat_statements"

# --- 1a. kill -9 during vcf_load -------------------------------------------------------------
psql -X -q -d "$DB" -c "SELECT * FROM vcf_load('$FX/local/big_generated.vcf')" >/dev/null 2>&1 &
pid=$(backend_of '%vcf_load(%big_generated%')
# wait until rows are being written, then kill the backend outright
for _ in $(seq 1 200); do
    [ "$(q -c "SELECT coalesce(max(tuples_processed), 0) > 0 FROM pg_stat_progress_copy WHERE pid = $pid")" = t ] && break
    sleep 0.05
done
kill -9 "$pid"; wait
wait_for_server
check "server recovered after kill -9 of a loading backend" "1" "$(q -c 'SELECT 1')"
check "no partial load after the crash" "0 0 0 0" "$(q -c "SELECT concat_ws(' ', (SELECT count(*) FROM vcf.load_batches), (SELECT count(*) FROM vcf.samples), (SELECT count(*) FROM vcf.variants), (SELECT count(*) FROM vcf.genotypes))")"
check "the same file loads afterwards" "400000" "$(q -c "SELECT variants FROM vcf_load('$FX/local/big_generated.vcf')")"

# --- 1b. kill -9 during phi_rotate_key_online --------------------------------------------
# 100,000 mapping rows under key a (the corpus' 100,000-sample header), then rotate to b.
q -c "SELECT samples FROM vcf_load('$FX/malformed/samples_100000.vcf', genotypes => 'none')" >/dev/null
A=$(KEYID)
export PGOPTIONS="-c vcf_pg_loader.phi_key_file=$FX/keys/ba.keys -c vcf_pg_loader.reveal_reason=hardening -c client_min_messages=warning"
B=$(KEYID)
psql -X -q -d "$DB" -c "CALL phi_rotate_key_online(500)" >/dev/null 2>&1 &
pid=$(backend_of '%phi_rotate_key_online%')
for _ in $(seq 1 400); do
    [ "$(q -c "SELECT count(*) > 2000 FROM phi_vault.sample_id_mapping WHERE key_id = '$B'")" = t ] && break
    sleep 0.05
done
kill -9 "$pid"; wait
wait_for_server
moved=$(q -c "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE key_id = '$B'")
total=$(q -c "SELECT count(*) FROM phi_vault.sample_id_mapping")
check "rotation was interrupted part-way" "t" "$([ "$moved" -gt 0 ] && [ "$moved" -lt "$total" ] && echo t || echo "f ($moved of $total)")"
check "every mapping decrypts after the crash" "$total/$total" "$(q -c "$DECRYPTS")"
q -c "CALL phi_rotate_key_online(5000)"
check "rotation resumed to the end" "$total" "$(q -c "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE key_id = '$B'")"
check "audit chain intact after crashes" "t" "$(q -c "SELECT ok FROM phi_vault.verify_audit_chain()")"

# --- 2. four concurrent loads sharing sample names + online rotation ---------------------------
# Four files with the same two sample names and different content (40,000 records each).
for i in 1 2 3 4; do
    { sed -n '/^##/p' "$FX/local/small_cohort.vcf"; echo "##copy=$i"
      printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSHARED_A\tSHARED_B\n'
      awk -v c="$i" 'BEGIN { for (r = 1; r <= 40000; r++) printf "chr%d\t%d\t.\tA\tC,G\t50\tPASS\tDP=30\tGT:DP\t0/1:10\t1/2:12\n", c, r }'
    } > "$OUT/concurrent_$i.vcf"
done
chmod 644 "$OUT"/concurrent_*.vcf
# 20,000 new mappings under key a, so the rotation below has work while the loads run.
awk 'BEGIN { printf "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT";
             for (i = 1; i <= 20000; i++) printf "\tROT_W%05d", i; printf "\n1\t1\t.\tA\tC\t.\t.\t.\tGT";
             for (i = 1; i <= 20000; i++) printf "\t0/1"; printf "\n" }' > "$OUT/rotation_wide.vcf"
chmod 644 "$OUT/rotation_wide.vcf"
export PGOPTIONS="-c vcf_pg_loader.phi_key_file=$FX/keys/a.keys -c client_min_messages=warning -c vcf_pg_loader.reveal_reason=hardening"
q -c "SELECT samples FROM vcf_load('$OUT/rotation_wide.vcf', genotypes => 'none')" >/dev/null
export PGOPTIONS="-c vcf_pg_loader.phi_key_file=$FX/keys/ba.keys -c vcf_pg_loader.reveal_reason=hardening -c client_min_messages=warning -c deadlock_timeout=100ms"
before=$(q -c "SELECT count(*) FROM vcf.load_batches")
pids=()
for i in 1 2 3 4; do
    timeout 300 psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT variants FROM vcf_load('$OUT/concurrent_$i.vcf')" > "$OUT/concurrent_$i.out" 2>&1 &
    pids+=($!)
done
timeout 300 psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CALL phi_rotate_key_online(200)" > "$OUT/rotation.out" 2>&1 &
pids+=($!)
ok=0
for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
check "4 loads and a rotation all finished (no error, no deadlock, no timeout)" "5" "$ok"
check "each load wrote its 80,000 variant rows" "80000 80000 80000 80000" "$(cat "$OUT"/concurrent_[1-4].out | tr '\n' ' ' | sed 's/ $//')"
check "four new batches" "$((before + 4))" "$(q -c "SELECT count(*) FROM vcf.load_batches")"
check "one pseudonym per (sample, file content): 4 files x 2 names" "8 8" "$(q -c "SELECT count(DISTINCT s.anonymous_id) || ' ' || count(DISTINCT m.anonymous_id) FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) JOIN phi_vault.sample_id_mapping m USING (anonymous_id) WHERE b.source_file LIKE '%concurrent_%'")"
check "genotype rows exact (4 files x 80,000 variant rows x 2 samples)" "640000" "$(q -c "SELECT count(*) FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id) JOIN vcf.load_batches b USING (load_batch_id) WHERE b.source_file LIKE '%concurrent_%'")"
total=$(q -c "SELECT count(*) FROM phi_vault.sample_id_mapping")
check "every mapping decrypts after the concurrent run" "$total/$total" "$(q -c "$DECRYPTS")"
check "rotation left nothing under the old key" "0" "$(q -c "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE key_id <> '$B'")"

# Sessions holding SHARE UPDATE EXCLUSIVE on vcf.genotypes (what a load's summary takes)
LOCK_HOLDERS="FROM pg_locks WHERE relation = 'vcf.genotypes'::regclass AND mode = 'ShareUpdateExclusiveLock' AND granted"
wait_for_lock_holder() { for _ in $(seq 1 500); do [ "$(q -c "SELECT count(*) $LOCK_HOLDERS")" = 1 ] && return 0; sleep 0.02; done; return 1; }
# --- 2b. a VACUUM-like lock on vcf.genotypes stalls neither a load nor an unload -------------
# Loads summarize their BRIN ranges at the finish and unloads first summarize and then forget
# ranges; both need SHARE UPDATE EXCLUSIVE on vcf.genotypes, which a VACUUM holds for minutes.
# They wait at most 2 s, then leave the ranges to the next load, unload or VACUUM.
sed 's/^##copy=1$/##copy=locked/' "$OUT/concurrent_1.vcf" > "$OUT/locked.vcf"; chmod 644 "$OUT/locked.vcf"
q -c "BEGIN" -c "LOCK TABLE vcf.genotypes IN SHARE UPDATE EXCLUSIVE MODE" -c "SELECT pg_sleep(30)" -c "COMMIT" >/dev/null 2>&1 &
holder=$!
wait_for_lock_holder
t0=$(date +%s)
locked_batch=$(timeout 25 psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT load_batch_id FROM vcf_load('$OUT/locked.vcf')" 2>&1)
t1=$(date +%s)
check "a load finishes while another session holds SHARE UPDATE EXCLUSIVE on vcf.genotypes (under 15 s)" "t" \
    "$( [ $((t1 - t0)) -lt 15 ] && q -c "SELECT genotypes = 160000 FROM vcf.load_batches WHERE load_batch_id = '$locked_batch'" || echo "f ($((t1 - t0)) s: $locked_batch)")"
unloaded=$(timeout 25 psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT vcf_unload('$locked_batch')" 2>&1)
t2=$(date +%s)
check "an unload finishes under the same lock (under 15 s), its rows gone" "240000 t" \
    "$unloaded $( [ $((t2 - t1)) -lt 15 ] && echo t || echo "f ($((t2 - t1)) s)")"
q -c "SELECT pg_terminate_backend(pid) $LOCK_HOLDERS" >/dev/null
wait "$holder" 2>/dev/null
check "the ranges the load could not summarize are summarized afterwards" "t" "$(q -c "SELECT vcf.summarize_genotypes() > 0")"

# --- 2c. a session that holds that lock and then waits on a load cannot make the load fail --
# A deadlock: session A holds SHARE UPDATE EXCLUSIVE (its own load's finish, in an open
# transaction) and then loads the same content as V, so it waits on V's uncommitted claim;
# V's finish waits on A's lock. V's deadlock check finds the cycle first: its summary gives up
# (as on a timeout) and its load commits; A's second load then finds it already loaded.
for who in a v; do
    { sed -n '/^##/p' "$FX/local/small_cohort.vcf"; echo "##deadlock=$who"; sed -n '/^#CHROM/,$p' "$FX/local/small_cohort.vcf"; } > "$OUT/deadlock_$who.vcf"
    chmod 644 "$OUT/deadlock_$who.vcf"
done
q -c "BEGIN" -c "SELECT count(*) FROM vcf_load('$OUT/deadlock_a.vcf')" -c "SELECT pg_sleep(0.5)" \
  -c "SELECT already_loaded FROM vcf_load('$OUT/deadlock_v.vcf')" -c "COMMIT" > "$OUT/deadlock_a.out" 2>&1 &
holder=$!
wait_for_lock_holder
victim=$(timeout 25 psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT genotypes FROM vcf_load('$OUT/deadlock_v.vcf')" 2>"$OUT/deadlock_v.err")
wait "$holder" 2>/dev/null
check "a load whose finish deadlocks with a session holding the lock still commits (its genotype rows)" "t t" \
    "$(q -c "SELECT '$victim' ~ '^[0-9]+$' AND '$victim' <> '0', count(*) = 1 FROM vcf.load_batches WHERE source_file = '$OUT/deadlock_v.vcf'" | tr '|' ' ')"

# --- 3. leaks ------------------------------------------------------------------------------
CANARY1=LEAKCANARY_9f1c2e_ALPHA
CANARY2=LEAKCANARY_9f1c2e_BETA
{ sed -n '/^##/p' "$FX/local/small_cohort.vcf"
  echo "##SAMPLE=<ID=$CANARY1,Description=\"tumour of $CANARY1\">"
  echo "##INFO=<ID=PARENT,Number=1,Type=String,Description=\"parent sample\">"
  printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t%s\t%s\n' "$CANARY1" "$CANARY2"
  printf 'chr2\t100\t.\tA\tC\t50\tPASS\tDP=3;PARENT=%s\tGT\t0/1\t1/1\n' "$CANARY2"
} > "$OUT/canary.vcf"
sed 's#\t1/1$#\t9/9#' "$OUT/canary.vcf" > "$OUT/canary_bad.vcf"
chmod 644 "$OUT"/canary*.vcf
q -c "SELECT variants FROM vcf_load('$OUT/canary.vcf')" >/dev/null
err=$(q -c "SELECT variants FROM vcf_load('$OUT/canary_bad.vcf')" 2>&1 || true)
check "a failed load's error names no sample" "0" "$(grep -c LEAKCANARY <<< "$err")"
# A reveal sends the name to the client, not into any log or statistic.
check "reveal works" "$CANARY1" "$(q -c "SELECT phi_reverse_lookup(anonymous_id, 'leak test') FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) WHERE b.source_file LIKE '%canary.vcf' ORDER BY sample_index LIMIT 1")"
q -c "CHECKPOINT"
q -c "SELECT query FROM pg_stat_statements" > "$OUT/pg_stat_statements.txt"
pg_dump -d "$DB" -f "$OUT/dump.sql"
DATADIR=$(q -c "SHOW data_directory")
tail -c +$((LOG_START + 1)) "$LOG" > "$OUT/server.log"
check "the server log did record statements (log_statement = all)" "t" "$(grep -q 'statement: SELECT variants FROM vcf_load' "$OUT/server.log" && echo t || echo f)"
python3 - "$DATADIR" "$OUT/dump.sql" "$OUT/server.log" "$OUT/pg_stat_statements.txt" "$FX/keys/a.keys" "$FX/keys/b.keys" "$CANARY1" "$CANARY2" > "$OUT/leaks.txt" <<'PY'
import base64, os, sys
datadir, dump, log, pgss, ka, kb, c1, c2 = sys.argv[1:]
needles = {"canary " + c1: c1.encode(), "canary " + c2: c2.encode()}
for name, path in (("key a", ka), ("key b", kb)):
    b64 = open(path).read().strip()
    raw = base64.b64decode(b64)
    needles[name + " (base64)"] = b64.encode()
    needles[name + " (raw bytes)"] = raw
    needles[name + " (hex)"] = raw.hex().encode()
places = {"relation files": os.path.join(datadir, "base"), "pg_wal": os.path.join(datadir, "pg_wal"),
          "global": os.path.join(datadir, "global"), "pg_dump": dump, "server log": log,
          "pg_stat_statements": pgss}
def files(p):
    if os.path.isfile(p):
        yield p
    for root, _, names in os.walk(p):
        for n in names:
            yield os.path.join(root, n)
for place, p in places.items():
    found = set()
    for f in files(p):
        try:
            data = open(f, "rb").read()
        except OSError:
            continue
        for name, n in needles.items():
            if n in data:
                found.add(name)
    print(f"{place}: {', '.join(sorted(found)) if found else 'clean'}")
PY
while read -r line; do
    check "no canary, no key bytes in ${line%%:*}" "clean" "${line#*: }"
done < "$OUT/leaks.txt"
# The canary was really loaded (else the search proves nothing): its pseudonyms exist.
check "canary file loaded (2 pseudonyms)" "2" "$(q -c "SELECT samples FROM vcf.load_batches WHERE source_file LIKE '%canary.vcf'")"

summary hardening
