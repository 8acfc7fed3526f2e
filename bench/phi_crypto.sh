#!/usr/bin/env bash
# PHI crypto benchmark: phi_encrypt / phi_decrypt per row over N values vs pgcrypto
# encrypt_iv(x, key, gen_random_bytes(16), 'aes-cbc') in the same run and database.
# Prints a table; asserts nothing. (Rotation and load benchmarks: issue "performance".)
#   bash bench/phi_crypto.sh [rows=1000000] [database=vcf_demo]
# Needs the extension installed (make demo does it, release build) and a key file configured.
set -euo pipefail
N=${1:-1000000}
DB=${2:-vcf_demo}
psql_pg() { su postgres -c "psql -X -q -v ON_ERROR_STOP=1 -d $DB $*"; }
su postgres -c "psql -X -q -d $DB -c 'CREATE EXTENSION IF NOT EXISTS pgcrypto'" >/dev/null
t() { # t LABEL SQL: wall seconds of one statement, server-side
    local s
    s=$(su postgres -c "psql -X -q -At -d $DB" <<SQL
\set ON_ERROR_STOP 1
CREATE TEMP TABLE IF NOT EXISTS bench_src AS SELECT 'SAMPLE_' || i AS v FROM generate_series(1, $N) i;
SELECT 1 FROM bench_src LIMIT 0;
\o /dev/null
SELECT clock_timestamp() AS t0 \gset
$2;
\o
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 3);
SQL
)
    printf '%s\t%s\n' "$1" "$(echo "$s" | tail -1)"
}
echo "rows: $N"
{
t "pgcrypto encrypt_iv aes-cbc" "SELECT count(encrypt_iv(convert_to(v,'UTF8'), '\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea, gen_random_bytes(16), 'aes-cbc')) FROM bench_src"
t "phi_encrypt" "SELECT count(phi_encrypt(v)) FROM bench_src"
t "pgcrypto decrypt_iv aes-cbc" "CREATE TEMP TABLE e1 AS SELECT gen_random_bytes(16) AS iv, v FROM bench_src; SELECT count(decrypt_iv(encrypt_iv(convert_to(v,'UTF8'), '\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea, iv, 'aes-cbc'), '\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea, iv, 'aes-cbc')) FROM e1"
t "phi_encrypt + phi_decrypt" "SELECT count(phi_decrypt(phi_encrypt(v))) FROM bench_src"
} | awk -F'\t' -v n="$N" '{printf "%-32s %8.3f s  %8.0f ns/row\n", $1, $2, $2*1e9/n; s[NR]=$2}
  END {printf "encrypt: phi_encrypt is %.1fx faster than pgcrypto encrypt_iv\n", s[1]/s[2];
       printf "encrypt+decrypt: %.1fx faster than pgcrypto\n", s[3]/s[4]}'
