#!/usr/bin/env bash
# PHI crypto benchmark, everything measured in the same run on the same server:
#   1. phi_encrypt / phi_decrypt per row over N values vs pgcrypto
#      encrypt_iv(x, key, gen_random_bytes(16), 'aes-cbc') (and decrypt_iv);
#   2. phi_rotate_key rows/s over R mapping rows (median of BENCH_ROTATE_REPS=3) vs an UPDATE that writes new values into the
#      same four columns (envelope, nonce, key id, blind index) of a copy of the same rows with
#      the same indexes (not SET col = col, which is a HOT update).
# Prints a table; asserts nothing. Uses its own database (vcf_bench, re-created each run) and
# its own throw-away key files, so the demo's vault is never touched.
#   bash bench/phi_crypto.sh [N=1000000] [R=100000]
# Needs the extension installed (make demo installs the release build).
set -euo pipefail
N=${1:-1000000}
R=${2:-100000}
DB=vcf_bench
KEYS=/tmp/vcf_pg_loader_bench_keys
source "$(dirname "$0")/../scripts/common.sh"

as_pg "psql -X -q -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS $DB' -c 'CREATE DATABASE $DB'" >/dev/null
as_pg "psql -X -q -v ON_ERROR_STOP=1 -d $DB -c 'CREATE EXTENSION vcf_pg_loader' -c 'CREATE EXTENSION pgcrypto'" >/dev/null
rm -rf "$KEYS"; install -d -o postgres -g postgres -m 0700 "$KEYS"
as_pg "umask 077; head -c 32 /dev/urandom | base64 > $KEYS/old.keys; head -c 32 /dev/urandom | base64 > $KEYS/new.keys; cat $KEYS/new.keys $KEYS/old.keys > $KEYS/rotate.keys; cat $KEYS/old.keys $KEYS/new.keys > $KEYS/back.keys"

# t LABEL SQL: wall seconds of the last statement of SQL, measured in the server session.
t() {
    local s
    s=$(as_pg "psql -X -q -At -d $DB" <<SQL
\set ON_ERROR_STOP 1
SET vcf_pg_loader.phi_key_file = '$KEYS/${3:-old}.keys';
SET vcf_pg_loader.reveal_reason = 'benchmark (no real identifiers)';
CREATE TEMP TABLE bench_src AS SELECT 'SAMPLE_' || i AS v FROM generate_series(1, $N) i;
CREATE TEMP TABLE bench_iv AS SELECT gen_random_bytes(16) AS iv, v FROM bench_src;
\o /dev/null
SELECT clock_timestamp() AS t0 \gset
$2;
\o
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SQL
)
    printf '%s\t%s\n' "$1" "$(echo "$s" | tail -1)"
}
summarize_crypto() { # LABEL<TAB>SECONDS lines of the encryption timings -> table
    awk -F'\t' -v n="$N" '
      { s[$1] = $2 }
      END {
        printf "%-52s %9s %12s\n", "operation", "seconds", "per row"
        printf "%-52s %9.3f %9.0f ns\n", "pgcrypto encrypt_iv aes-cbc + random IV", s["enc_pgcrypto"], s["enc_pgcrypto"]*1e9/n
        printf "%-52s %9.3f %9.0f ns\n", "phi_encrypt (AES-256-GCM)", s["enc_phi"], s["enc_phi"]*1e9/n
        printf "%-52s %9.3f %9.0f ns\n", "pgcrypto encrypt_iv + decrypt_iv", s["rt_pgcrypto"], s["rt_pgcrypto"]*1e9/n
        printf "%-52s %9.3f %9.0f ns\n", "phi_encrypt + phi_decrypt", s["rt_phi"], s["rt_phi"]*1e9/n
        printf "ratios: encrypt %.1fx pgcrypto; encrypt+decrypt %.1fx pgcrypto\n",
          s["enc_pgcrypto"]/s["enc_phi"], s["rt_pgcrypto"]/s["rt_phi"]
      }'
}
summarize_rotation() { # LABEL<TAB>SECONDS lines, one set per repetition -> medians and ratios
    awk -F'\t' -v r="$R" -v b="${BENCH_ROTATE_BATCH:-10000}" '
      function median(l,   k, n, i, j, t, v) {
        n = split(l, v, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
      }
      { s[$1] = s[$1] " " $2; if ($1 == "rot_phi") reps = reps sprintf(" %.2f/%.2f", last["upd_bare"] / $2, last["upd_values"] / $2); last[$1] = $2 }
      END {
        ub = median(s["upd_bare"]); uv = median(s["upd_values"]); rp = median(s["rot_phi"])
        printf "%-52s %9s %12s   (median of:%s)\n", "rotation of " r " mapping rows", "seconds", "rows/s", s["rot_phi"]
        printf "%-52s %9.3f %12.0f   (%s)\n", "UPDATE of the same 4 columns, same indexes", ub, r/ub, s["upd_bare"]
        printf "%-52s %9.3f %12.0f   (%s)\n", "  the same, new values given as arrays (FROM unnest)", uv, r/uv, s["upd_values"]
        printf "%-52s %9.3f %12.0f\n", "phi_rotate_key(batch " b ")", rp, r/rp
        printf "ratios: rotation %.2fx that UPDATE, %.2fx the UPDATE given the values (goal >= 0.8x; each repetition:%s)\n", ub/rp, uv/rp, reps
      }'
}
K="'\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea"

# R mapping rows under the old key (a superuser may insert directly).
as_pg "psql -X -q -v ON_ERROR_STOP=1 -d $DB" >/dev/null <<SQL
SET vcf_pg_loader.phi_key_file = '$KEYS/old.keys';
INSERT INTO phi_vault.sample_id_mapping (anonymous_id, original_id_encrypted, encryption_iv, key_id, original_id_hmac, source_file, file_sha256)
SELECT u, c, substr(c, 9, 12), phi_key_id(c), phi_blind_index('S' || i), 'bench', 'bench'
  FROM (SELECT i, u, phi_encrypt('S' || i, convert_to(u::text, 'UTF8')) AS c
          FROM (SELECT i, gen_random_uuid() AS u FROM generate_series(1, $R) i) s) t;
VACUUM ANALYZE phi_vault.sample_id_mapping;
CREATE TABLE bench_map (LIKE phi_vault.sample_id_mapping INCLUDING ALL);
INSERT INTO bench_map OVERRIDING SYSTEM VALUE SELECT * FROM phi_vault.sample_id_mapping;
CREATE TABLE bench_map2 (LIKE phi_vault.sample_id_mapping INCLUDING ALL);
INSERT INTO bench_map2 OVERRIDING SYSTEM VALUE SELECT * FROM phi_vault.sample_id_mapping;
SQL

echo "encryption: $N values; rotation: $R mapping rows"
{
t enc_pgcrypto "SELECT count(encrypt_iv(convert_to(v, 'UTF8'), $K, gen_random_bytes(16), 'aes-cbc')) FROM bench_src"
t enc_phi "SELECT count(phi_encrypt(v)) FROM bench_src"
t rt_pgcrypto "SELECT count(decrypt_iv(encrypt_iv(convert_to(v, 'UTF8'), $K, iv, 'aes-cbc'), $K, iv, 'aes-cbc')) FROM bench_iv"
t rt_phi "SELECT count(phi_decrypt(phi_encrypt(v))) FROM bench_src"
} | summarize_crypto
# Rotation, BENCH_ROTATE_REPS times (default 3; the medians are compared): each repetition
# starts from vacuumed tables and writes values that differ from the last repetition's in
# every indexed column (else PostgreSQL could make the baseline a HOT update).
for rep in $(seq "${BENCH_ROTATE_REPS:-3}"); do
    keys=rotate; [ $((rep % 2)) = 0 ] && keys=back   # rotate to the new key, then back
    as_pg "psql -X -q -v ON_ERROR_STOP=1 -d $DB" >/dev/null <<SQL
VACUUM ANALYZE phi_vault.sample_id_mapping; VACUUM ANALYZE bench_map; VACUUM ANALYZE bench_map2;
-- New values made ahead (a rotation computes them; this baseline only writes them).
DROP TABLE IF EXISTS bench_new;
CREATE TABLE bench_new AS SELECT mapping_id, original_id_encrypted || '\\x0$rep'::bytea AS e FROM bench_map2;
VACUUM ANALYZE bench_new;
CHECKPOINT;
SQL
    t upd_bare "UPDATE bench_map SET original_id_encrypted = original_id_encrypted || '\\x00'::bytea, encryption_iv = substr(original_id_encrypted, 10, 12), key_id = 'fffffff$rep', original_id_hmac = substr(original_id_encrypted, $((20 + rep)), 16) WHERE file_sha256 = 'bench'" rotate
    t upd_values "UPDATE bench_map2 m SET original_id_encrypted = u.e, encryption_iv = substr(u.e, 10, 12), key_id = 'fffffff$rep', original_id_hmac = substr(u.e, $((20 + rep)), 16) FROM (SELECT array_agg(mapping_id) AS a, array_agg(e) AS b FROM bench_new) s, unnest(s.a, s.b) AS u(id, e) WHERE m.mapping_id = u.id" rotate
    t rot_phi "SELECT phi_rotate_key(${BENCH_ROTATE_BATCH:-10000})" $keys
done | summarize_rotation
