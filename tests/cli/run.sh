#!/usr/bin/env bash
# The companion CLI against an RDS-like server (CONTRACT §10), end to end, as a DBA and a
# bioinformatician use it. scripts/test.sh runs it after installing the dev build:
#   bash tests/cli/run.sh OUT_DIR CLI_BINARY
# It starts its own throw-away cluster (user postgres): TLS with a self-signed CA, TCP only
# over TLS (hostnossl rejected, like rds.force_ssl=1), scram passwords, the extension NOT
# installed in database "rds", whose schema the CLI's init-db installs as a CREATEROLE
# non-superuser master user (like RDS's); database "ext" has the extension, for interop.
# One line per check (tests/checks.sh); exits non-zero if any fails.
set -uo pipefail
OUT=${1:-/tmp/vcf_pg_loader_test/cli}
CLI=${2:?usage: run.sh OUT_DIR CLI_BINARY}
FX=/tmp/vcf_pg_loader_regress
source "$(dirname "$0")/../checks.sh"
BIN=/usr/lib/postgresql/15/bin
PORT=54397
D="$OUT/cluster"
rm -rf "$OUT"; mkdir -p "$OUT"; chmod 755 "$OUT"
install -d -o postgres -g postgres -m 0700 "$D"

# --- the server: a CA, a certificate for localhost signed by it, TLS-only TCP -------------
TLS="$OUT/tls"; mkdir -p "$TLS"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vcf test CA" -keyout "$TLS/ca.key" -out "$TLS/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial -days 2 \
    -extfile <(printf 'subjectAltName=DNS:localhost\n') -out "$TLS/server.crt" 2>/dev/null
# Another CA the server's certificate does not chain to.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" -keyout "$TLS/other.key" -out "$TLS/other.crt" 2>/dev/null
chown postgres "$TLS/server.key"; chmod 0600 "$TLS/server.key"; chmod 0755 "$TLS"
su postgres -c "$BIN/initdb -D $D/data -A scram-sha-256 --pwfile=<(echo superpw) -U postgres >/dev/null" ||
    { echo "FAIL initdb"; exit 1; }
cat > "$D/data/pg_hba.conf" <<EOF
local all postgres peer
local all all scram-sha-256
hostssl all all 127.0.0.1/32 scram-sha-256
hostssl all all ::1/128 scram-sha-256
hostssl all all 0.0.0.0/0 scram-sha-256
hostnossl all all 0.0.0.0/0 reject
hostnossl all all ::/0 reject
EOF
cat >> "$D/data/postgresql.conf" <<EOF
port = $PORT
listen_addresses = '*'
unix_socket_directories = '$D'
ssl = on
ssl_cert_file = '$TLS/server.crt'
ssl_key_file = '$TLS/server.key'
log_min_messages = log
# loaders may vcf_load the shared files in database ext (the library reads this when loaded)
vcf_pg_loader.load_directories = '$FX/data'
EOF
su postgres -c "$BIN/pg_ctl -D $D/data -l $D/server.log -w start >/dev/null" || { echo "FAIL server start"; cat "$D/server.log"; exit 1; }
stop() { [ -n "${KEEP:-}" ] || su postgres -c "$BIN/pg_ctl -D $D/data -m immediate stop >/dev/null 2>&1"; }
trap stop EXIT

# Superuser set-up over the socket; everything the CLI does goes over TCP with TLS.
sq() { su postgres -c "psql -X -q -At -v ON_ERROR_STOP=1 -h $D -p $PORT $(printf '%q ' "$@")"; }
sq -c "CREATE ROLE rds_master LOGIN CREATEROLE CREATEDB PASSWORD 'masterpw'" \
   -c "CREATE ROLE loader1 LOGIN PASSWORD 'loaderpw'" -c "CREATE ROLE loader2 LOGIN PASSWORD 'loaderpw'" \
   -c "CREATE ROLE officer LOGIN PASSWORD 'officerpw'" -c "CREATE ROLE viewer LOGIN PASSWORD 'viewerpw'" \
   -c "CREATE DATABASE rds OWNER rds_master" -c "CREATE DATABASE ext"
URL="postgresql://rds_master@localhost:$PORT/rds"
export VCF_PG_LOADER_TLS_CA_CERT="$TLS/ca.crt" VCF_PG_LOADER_DB_PASSWORD=masterpw
unset PGSSLMODE PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD POSTGRES_URL VCF_PG_LOADER_TLS_MODE
# vcf URL ARGS…: the CLI as the URL's role (password from the role name's table below)
vcf() { local url=$1; shift; "$CLI" --db "$url" "$@"; }
cli_as() { # cli_as ROLE DB ARGS…: the CLI over verify-full as ROLE
    local role=$1 db=$2; shift 2
    VCF_PG_LOADER_DB_PASSWORD="$(pw "$role")" "$CLI" --db "postgresql://$role@localhost:$PORT/$db?sslmode=verify-full" "$@"
}
pw() { case $1 in rds_master) echo masterpw ;; officer) echo officerpw ;; viewer) echo viewerpw ;; *) echo loaderpw ;; esac; }
# rqs ROLE DB < SQL: a psql script (meta-commands like \gset allowed) as ROLE over TLS
rqs() { PGPASSWORD="$(pw "$1")" psql -X -q -At -v ON_ERROR_STOP=1 "host=localhost port=$PORT user=$1 dbname=$2 sslmode=verify-full sslrootcert=$TLS/ca.crt" 2>&1; }
# rq ROLE DB SQL: psql as ROLE over TLS
rq() { PGPASSWORD="$(pw "$1")" psql -X -q -At -v ON_ERROR_STOP=1 "host=localhost port=$PORT user=$1 dbname=$2 sslmode=verify-full sslrootcert=$TLS/ca.crt" -c "$3" 2>&1; }

# --- keys: the client's (root, 0600) and the server's copy of the same key (postgres, 0600) --
K="$OUT/keys"; mkdir -p "$K"; chmod 0755 "$K"
"$CLI" security generate-key --output "$K/client.key" 2>"$OUT/genkey.err"
check "generate-key: a new file of mode 0600" "600" "$(stat -c %a "$K/client.key")"
check "generate-key: refuses to overwrite" "1 exists" "$("$CLI" security generate-key --output "$K/client.key" >/dev/null 2>&1; echo $?) $(grep -c . "$K/client.key" | sed 's/^1$/exists/')"
check "generate-key --raw: only the base64 key" "1" "$("$CLI" security generate-key --raw 2>/dev/null | grep -cE '^[A-Za-z0-9+/]{43}=$')"
install -o postgres -m 0600 "$K/client.key" "$K/server.key"
export VCF_PG_LOADER_PHI_KEY_FILE="$K/client.key"
KEY_B64=$(cat "$K/client.key")

# --- TLS and connection sources ------------------------------------------------------------
check "init-db over verify-full as a non-superuser master user" "0" "$(vcf "$URL?sslmode=verify-full" init-db >"$OUT/initdb.out" 2>&1; echo $?)"
check "init-db documents the grants a loading role needs" "1" "$(grep -c 'vcf_loader   loads with' "$OUT/initdb.out")"
# The master user may see counts (check-encryption) as phi_viewer.
rq rds_master rds "GRANT phi_viewer TO rds_master" >/dev/null
check "init-db again (a non-superuser master): already installed, client API brought to this version" "1" "$(vcf "$URL" init-db 2>&1 | grep -c 'already installed')"
check "verify-full against a CA the certificate does not chain to: refused" "1" \
    "$(VCF_PG_LOADER_TLS_CA_CERT="$TLS/other.crt" vcf "$URL?sslmode=verify-full" security check-encryption >/dev/null 2>"$OUT/tls1.err"; echo $?)"
check "verify-full names the certificate problem" "1" "$(grep -ciE 'certificate|UnknownIssuer' "$OUT/tls1.err" | sed 's/^[1-9][0-9]*$/1/')"
check "verify-full against 127.0.0.1 (certificate is for localhost): refused" "1" \
    "$(vcf "postgresql://rds_master@127.0.0.1:$PORT/rds?sslmode=verify-full" security check-encryption >/dev/null 2>&1; echo $?)"
check "verify-ca against 127.0.0.1: the chain is enough" "0" \
    "$(vcf "postgresql://rds_master@127.0.0.1:$PORT/rds?sslmode=verify-ca" security check-encryption >/dev/null 2>&1; echo $?)"
check "sslmode=disable: the server refuses plain TCP (force_ssl)" "1" \
    "$(vcf "$URL?sslmode=disable" security check-encryption >/dev/null 2>&1; echo $?)"
check "precedence: VCF_PG_LOADER_TLS_MODE over the URL's sslmode" "1" \
    "$(VCF_PG_LOADER_TLS_MODE=disable vcf "$URL?sslmode=verify-full" security check-encryption >/dev/null 2>&1; echo $?)"
check "precedence: PGSSLMODE over the URL's sslmode" "1" \
    "$(PGSSLMODE=disable vcf "$URL?sslmode=verify-full" security check-encryption >/dev/null 2>&1; echo $?)"
check "precedence: the flag over VCF_PG_LOADER_TLS_MODE" "0" \
    "$(VCF_PG_LOADER_TLS_MODE=disable vcf "$URL" --tls-mode verify-full security check-encryption >/dev/null 2>&1; echo $?)"
check "connection from POSTGRES_URL" "0" "$(POSTGRES_URL="$URL" "$CLI" security check-encryption >/dev/null 2>&1; echo $?)"
check "connection from PG* variables" "0" \
    "$(PGHOST=localhost PGPORT=$PORT PGUSER=rds_master PGDATABASE=rds "$CLI" security check-encryption >/dev/null 2>&1; echo $?)"
check "VCF_PG_LOADER_DB_PASSWORD wins over PGPASSWORD and the URL" "0" \
    "$(PGPASSWORD=wrong "$CLI" --db "postgresql://rds_master:wrong@localhost:$PORT/rds" security check-encryption >/dev/null 2>&1; echo $?)"
check "a wrong password is refused" "1" \
    "$(VCF_PG_LOADER_DB_PASSWORD=wrong vcf "$URL" security check-encryption >/dev/null 2>&1; echo $?)"
# A non-loopback address of this machine: the default is verify-full (the certificate names
# localhost, so it fails), never plain TCP; prefer becomes require there.
HOSTIP=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$HOSTIP" ]; then
    check "non-loopback host: default verify-full, no fall-back to plain TCP" "1" \
        "$(vcf "postgresql://rds_master@$HOSTIP:$PORT/rds" security check-encryption >/dev/null 2>"$OUT/remote.err"; echo $?)"
    check "non-loopback host: the refusal is about the certificate" "1" "$(grep -ciE 'certificate|name' "$OUT/remote.err" | sed 's/^[1-9][0-9]*$/1/')"
    check "non-loopback host: PGSSLMODE=prefer still encrypts (require)" "0" \
        "$(PGSSLMODE=prefer vcf "postgresql://rds_master@$HOSTIP:$PORT/rds" security check-encryption >/dev/null 2>&1; echo $?)"
fi

# --- init-db: what it installed -----------------------------------------------------------
sq -d ext -c "CREATE EXTENSION vcf_pg_loader"
# Tables, columns, indexes, policies, triggers, functions and owners of vcf and phi_vault.
CATALOG="SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
  SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || pg_get_userbyid(c.relowner) || ' rls=' || c.relrowsecurity AS x
    FROM pg_class c WHERE c.relnamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace)
  UNION ALL SELECT 'col ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
         || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attidentity::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relnamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace) AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL SELECT 'idx ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
   WHERE c.relnamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace)
  UNION ALL SELECT 'con ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
   WHERE connamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace)
  UNION ALL SELECT 'pol ' || schemaname || '.' || tablename || ' ' || policyname || ' ' || cmd || ' ' || array_to_string(roles, ',') || ' ' || coalesce(qual, '')
    FROM pg_policies WHERE schemaname IN ('vcf', 'phi_vault')
  UNION ALL SELECT 'trg ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger
   WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace))
  UNION ALL SELECT 'fn ' || p.oid::regprocedure || ' ' || pg_get_userbyid(p.proowner) || ' ' || p.prosecdef || ' ' || md5(pg_get_functiondef(p.oid))
         || ' ' || coalesce(array_to_string(p.proacl, ','), '')
    FROM pg_proc p WHERE p.pronamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace)
  UNION ALL SELECT 'acl ' || c.relname || ' ' || coalesce(array_to_string(c.relacl, ','), '')
    FROM pg_class c WHERE c.relnamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace)
) s"
check "catalog of init-db's install = the extension's (tables, columns, indexes, constraints, policies, triggers, functions, owners, grants)" \
    "$(sq -d ext -c "$CATALOG")" "$(sq -d rds -c "$CATALOG")"
before=$(sq -d ext -c "$CATALOG")
check "init-db where the extension is installed says so" "1" "$(cli_as rds_master ext init-db 2>&1 | grep -c 'vcf_pg_loader extension .* is installed here')"
check "… and changes nothing" "$before" "$(sq -d ext -c "$CATALOG")"
check "the master user is no member of the owner role after init-db" "f" "$(sq -d rds -c "SELECT pg_has_role('rds_master', 'vcf_pg_loader_owner', 'MEMBER')")"
check "the owner role: NOLOGIN, not superuser, no BYPASSRLS" "f f f" \
    "$(sq -c "SELECT concat_ws(' ', rolcanlogin, rolsuper, rolbypassrls) FROM pg_roles WHERE rolname = 'vcf_pg_loader_owner'")"
# The documented grants: login roles in the NOLOGIN groups, given by the master user.
rq rds_master rds "GRANT vcf_loader TO loader1, loader2; GRANT phi_admin TO officer; GRANT phi_viewer TO viewer" >/dev/null
for t in phi_vault.sample_id_mapping phi_vault.audit_log phi_vault.audit_chain_head phi_vault.load_sources vcf.load_batches vcf.samples; do
    check "no client role may INSERT/UPDATE/DELETE $t" "f" \
        "$(sq -d rds -c "SELECT bool_or(has_table_privilege(r, '$t', p)) FROM unnest(ARRAY['rds_master','loader1','officer','viewer']) r, unnest(ARRAY['INSERT','UPDATE','DELETE']) p")"
done
check "a loader cannot call the owner's audit append" "1" "$(rq loader1 rds "SELECT phi_vault.append_audit('load', '{}')" | grep -c 'permission denied')"
check "a loader cannot read the vault" "1" "$(rq loader1 rds "SELECT count(*) FROM phi_vault.sample_id_mapping" | grep -c 'permission denied')"

# --- loads: every shared file, by the CLI (rds) and by vcf_load (ext); rows compared -------
export PGOPTIONS_EXT="-c vcf_pg_loader.phi_key_file=$K/server.key -c client_min_messages=warning"
eq() { su postgres -c "PGOPTIONS='$PGOPTIONS_EXT' psql -X -q -At -v ON_ERROR_STOP=1 -h $D -p $PORT -d ext $(printf '%q ' "$@")"; }
# Digests of what a load stored, per content: generated ids, times and paths left out;
# pseudonyms compared by sample position (and, below, by the names they reveal).
UUIDS="'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', 'ID', 'g'"
# (Sample names in INFO/FORMAT values and the header are replaced by pseudonyms: those are
# compared as 'ID'; which name each is, the reveals below check.)
DIGEST="SELECT b.file_sha256 || ' ' || md5(concat_ws('|', b.file_size, b.file_format, b.compression, b.reference,
            b.variants, b.genotypes, b.samples, b.records, b.warnings::text, b.options::text,
            regexp_replace(b.header, $UUIDS),
            (SELECT md5(string_agg(concat_ws('|', v.source_line, v.chrom, v.pos, v.end_pos, v.ref, v.alt, v.alt_index, v.id, v.qual,
                    v.filter::text, regexp_replace(v.info::text, $UUIDS), v.gene, v.consequence, v.impact, v.af), E'\n' ORDER BY v.source_line, v.alt_index NULLS FIRST))
               FROM vcf.variants v WHERE v.load_batch_id = b.load_batch_id),
            (SELECT md5(string_agg(concat_ws('|', v.source_line, v.alt_index, s.sample_index, g.gt, g.alt_dosage, g.phased, g.dp, g.gq,
                    g.ad::text, regexp_replace(g.format::text, $UUIDS)), E'\n' ORDER BY v.source_line, v.alt_index NULLS FIRST, s.sample_index))
               FROM vcf.variants v JOIN vcf.genotypes g USING (variant_id)
               JOIN vcf.samples s ON s.load_batch_id = b.load_batch_id AND s.anonymous_id = g.anonymous_id
              WHERE v.load_batch_id = b.load_batch_id)))
  FROM vcf.load_batches b ORDER BY b.file_sha256"
n=0
for f in "$FX"/data/*.vcf "$FX"/data/*.vcf.gz; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    cli_as loader1 rds load "$f" --no-progress >"$OUT/load.out" 2>"$OUT/load.err" ||
        { echo "FAIL CLI load $(basename "$f"): $(cat "$OUT/load.err")"; FAIL=$((FAIL + 1)); }
    eq -c "SELECT load_batch_id FROM vcf_load('$f')" >/dev/null 2>"$OUT/vcf_load.err" ||
        { echo "FAIL vcf_load $(basename "$f"): $(cat "$OUT/vcf_load.err")"; FAIL=$((FAIL + 1)); }
done
check "every shared file loaded both ways ($n files)" "$n $n" "$(sq -d rds -c "SELECT count(*) FROM vcf.load_batches") $(eq -c "SELECT count(*) FROM vcf.load_batches")"
sq -d rds -c "$DIGEST" > "$OUT/digest.cli"; eq -c "$DIGEST" > "$OUT/digest.ext"
while read -r sha dig; do
    name=$(sq -d rds -c "SELECT regexp_replace(source_file, '.*/', '') FROM vcf.load_batches WHERE file_sha256 = '$sha'")
    check "$name: every stored row equal, CLI vs vcf_load" "$(grep "^$sha " "$OUT/digest.ext" | cut -d' ' -f2)" "$dig"
done < "$OUT/digest.cli"
check "the load summary line (no terminal: no bar)" "1" "$(grep -cE 'loaded: load_batch_id [0-9a-f-]+ — [0-9]+ records, [0-9]+ variants' "$OUT/load.out")"

# Pseudonyms through the names they reveal: every sample of every file, CLI reveal (rds) and
# the extension's phi_reverse_lookup (ext) give the name bcftools reads from the file.
sq -c "GRANT phi_admin TO postgres" >/dev/null
bad=0; total=0
while IFS='|' read -r sha idx anon; do
    f=$(sq -d rds -c "SELECT source_file FROM vcf.load_batches WHERE file_sha256 = '$sha'")
    want=$(bcftools query -l "$f" 2>/dev/null | sed -n "$((idx + 1))p")
    got=$(cli_as officer rds phi reveal "$anon" --reason "cli suite: names behind pseudonyms" 2>/dev/null)
    ext=$(eq -c "SELECT phi_reverse_lookup(s.anonymous_id, 'cli suite') FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) WHERE b.file_sha256 = '$sha' AND s.sample_index = $idx")
    total=$((total + 1))
    [ "$want" = "$got" ] && [ "$want" = "$ext" ] || { bad=$((bad + 1)); echo "  sample $idx of $f: file '$want', CLI '$got', extension '$ext'"; }
done < <(sq -d rds -c "SELECT b.file_sha256 || '|' || s.sample_index || '|' || s.anonymous_id FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) ORDER BY 1")
check "every sample's pseudonym reveals its name, CLI and extension ($total samples)" "0" "$bad"

# --- idempotence, force, bad files, a killed client ---------------------------------------
M="$FX/data/mutect2_chr22.vcf.gz"
COUNTS="SELECT concat_ws(' ', (SELECT count(*) FROM vcf.load_batches), (SELECT count(*) FROM vcf.variants), (SELECT count(*) FROM vcf.genotypes), (SELECT count(*) FROM phi_vault.pseudonyms))"
c0=$(sq -d rds -c "$COUNTS")
check "the same content again: already loaded" "1" "$(cli_as loader1 rds load "$M" 2>&1 | grep -c 'already loaded (a load with the same SHA-256')"
check "… and nothing added" "$c0" "$(sq -d rds -c "$COUNTS")"
ids0=$(sq -d rds -c "SELECT string_agg(s.anonymous_id::text, ',' ORDER BY sample_index) FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) WHERE b.source_file LIKE '%mutect2%'")
check "--force by another loader is refused" "1" "$(cli_as loader2 rds load "$M" --force 2>&1 | grep -c 'permission denied to replace')"
cli_as loader1 rds load "$M" --force --report "$OUT/report.json" >/dev/null 2>&1
check "--force replaces the load and keeps its pseudonyms" "$ids0" \
    "$(sq -d rds -c "SELECT string_agg(s.anonymous_id::text, ',' ORDER BY sample_index) FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) WHERE b.source_file LIKE '%mutect2%'")"
check "--force: same counts as before" "$c0" "$(sq -d rds -c "$COUNTS")"
check "--report writes the load as JSON" "174 348 false" "$(python3 -c "import json,sys; r=json.load(open('$OUT/report.json')); print(r['variants'], r['genotypes'], str(r['already_loaded']).lower())")"
check "--genotypes nonsense: a clear error" "1" "$(cli_as loader1 rds load "$M" --genotypes some 2>&1 | grep -c 'invalid value for --genotypes')"
# Every malformed file: the CLI's message is vcf_load's (or both load it, leniently), and a
# refused file leaves nothing: no load, no pseudonym of its content.
same=0; total=0; left=0
for f in "$FX"/malformed/*; do
    # root (running this suite) reads a mode-000 file that the server user cannot.
    [ "$(basename "$f")" = unreadable.vcf ] && continue
    total=$((total + 1))
    cli_msg=$(cli_as loader1 rds load "$f" --force 2>&1 >/dev/null | sed -n 's/^vcf-pg-loader: error: //p' | head -1)
    ext_msg=$(eq -c "SELECT vcf_load('$f', force => true)" 2>&1 | sed -n 's/^ERROR:  //p' | head -1)
    if [ "$cli_msg" = "$ext_msg" ]; then same=$((same + 1)); else echo "  $(basename "$f"): CLI '$cli_msg' vs vcf_load '$ext_msg'"; fi
    if [ -n "$cli_msg" ] && [ -f "$f" ]; then
        sha=$(sha256sum "$f" | cut -d' ' -f1)
        left=$((left + $(sq -d rds -c "SELECT (SELECT count(*) FROM vcf.load_batches WHERE file_sha256 = '$sha') + (SELECT count(*) FROM phi_vault.pseudonyms WHERE file_sha256 = '$sha')")))
    fi
done
check "malformed files: the CLI says what vcf_load says, file:line: field ($total files)" "$total" "$same"
check "malformed files: a refused file leaves no load and no pseudonym" "0" "$left"
c0=$(sq -d rds -c "$COUNTS")
# A client killed in the middle of a load: its transaction goes with it.
BIG="$OUT/big.vcf"
{ printf '##fileformat=VCFv4.2\n##contig=<ID=1>\n##FORMAT=<ID=GT,Number=1,Type=String,Description="GT">\n'
  printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tKILLED_S1\tKILLED_S2\n'
  awk 'BEGIN { for (i = 1; i <= 2000000; i++) printf "1\t%d\t.\tA\tC\t50\tPASS\t.\tGT\t0/1\t1/1\n", i }'; } > "$BIG"
# The binary itself in the background (not a shell function: $! must be the client's pid).
VCF_PG_LOADER_DB_PASSWORD=loaderpw "$CLI" --db "postgresql://loader1@localhost:$PORT/rds?sslmode=verify-full" load "$BIG" --no-progress >/dev/null 2>&1 &
pid=$!
# A COPY of the client's is running when pg_stat_progress_copy has its row.
for _ in $(seq 1 500); do
    [ "$(sq -d rds -c "SELECT count(*) FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'loader1'")" = 1 ] && break
    sleep 0.02
done
killed=$(kill -9 "$pid" 2>/dev/null && echo yes || echo "no: it had ended")
wait "$pid" 2>/dev/null
check "the client was killed while it was copying rows" "yes" "$killed"
for _ in $(seq 1 100); do
    [ "$(sq -d rds -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'loader1'")" = 0 ] && break
    sleep 0.1
done
check "a client killed mid-load (kill -9 during COPY) leaves nothing" "$c0" "$(sq -d rds -c "$COUNTS")"

# --- reveal, lookup, audit ----------------------------------------------------------------
ANON=$(sq -d rds -c "SELECT s.anonymous_id FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) WHERE b.source_file LIKE '%mutect2%' AND sample_index = 0")
NAME=$(bcftools query -l "$M" | head -1)
check "phi reveal (phi_admin)" "$NAME" "$(cli_as officer rds phi reveal "$ANON" --reason "tumour board 2026-12-02" 2>/dev/null)"
check "phi reveal is audited with the reason, by the login role" "officer|tumour board 2026-12-02|true" \
    "$(sq -d rds -c "SELECT \"session_user\" || '|' || (detail->>'reason') || '|' || (detail->>'found') FROM phi_vault.audit_log WHERE operation = 'reverse_lookup' ORDER BY audit_id DESC LIMIT 1")"
check "phi reveal without a reason: refused" "1" "$(cli_as officer rds phi reveal "$ANON" --reason ' ' 2>&1 | grep -c '22023')"
check "phi reveal as a loader: permission denied" "1" "$(cli_as loader1 rds phi reveal "$ANON" --reason x 2>&1 | grep -c 'permission denied')"
check "phi reveal as phi_viewer: permission denied" "1" "$(cli_as viewer rds phi reveal "$ANON" --reason x 2>&1 | grep -c 'permission denied')"
check "phi lookup NAME" "$ANON" "$(cli_as officer rds phi lookup "$NAME" 2>/dev/null)"
check "phi lookup - (the name from standard input, not argv)" "$ANON" "$(printf '%s\n' "$NAME" | cli_as officer rds phi lookup - 2>/dev/null)"
check "phi lookup of an unknown name: exit 3, nothing printed" "3:" "$(out=$(cli_as officer rds phi lookup "NOBODY_$$" 2>/dev/null); echo "$?:$out")"
check "phi lookup is audited (matches, never the name)" "1|officer" \
    "$(sq -d rds -c "SELECT (detail->>'matches') || '|' || \"session_user\" FROM phi_vault.audit_log WHERE operation = 'lookup' ORDER BY audit_id DESC OFFSET 1 LIMIT 1")"
check "the audit chain verifies" "t" "$(sq -d rds -c "SELECT ok FROM phi_vault.verify_audit_chain()")"
check "every load is audited by its login role" "loader1" "$(sq -d rds -c "SELECT string_agg(DISTINCT \"session_user\", ',') FROM phi_vault.audit_log WHERE operation = 'load'")"

# --- check-encryption and rotation --------------------------------------------------------
cli_as viewer rds security check-encryption > "$OUT/check.out" 2>&1
check "check-encryption as phi_viewer: exit 0, the status block" "Status: ENABLED" "$(grep -o '^Status: *ENABLED' "$OUT/check.out" | tr -s ' ')"
check "check-encryption: every mapping row encrypted" "0" "$(sed -n 's/^Unencrypted: *\([0-9]*\).*/\1/p' "$OUT/check.out")"
"$CLI" security generate-key --output "$K/new.key" 2>/dev/null
NEWID=$(VCF_PG_LOADER_PHI_KEY_FILE="$K/new.key" cli_as viewer rds security check-encryption 2>/dev/null | sed -n 's/^Key IDs: *\([0-9a-f]*\).*/\1/p')
check "rotate-key --new-key-file --batch-size 700" "0" "$(cli_as officer rds security rotate-key --new-key-file "$K/new.key" --batch-size 700 >"$OUT/rotate.out" 2>&1; echo $?)"
check "after rotation every row is under the new key" "$(sq -d rds -c "SELECT count(*) FROM phi_vault.pseudonyms")" \
    "$(sq -d rds -c "SELECT count(*) FROM phi_vault.pseudonyms WHERE key_id = '$NEWID'")"
check "rotation is audited per batch" "$(( ($(sq -d rds -c "SELECT count(*) FROM phi_vault.pseudonyms") + 699) / 700 ))" \
    "$(sq -d rds -c "SELECT count(*) FROM phi_vault.audit_log WHERE operation = 'rotate_key_online_batch'")"
check "rotate-key again: nothing left to do (resumable by key id)" "1" "$(cli_as officer rds security rotate-key --new-key-file "$K/new.key" 2>&1 | grep -c ': 0 mapping rows re-encrypted')"
check "check-encryption with the old keyring: exit 4, rows under a key it lacks" "4" "$(cli_as viewer rds security check-encryption >/dev/null 2>&1; echo $?)"
(umask 077; cat "$K/new.key" "$K/client.key" > "$K/both.key")
check "with the new key first, reveal works" "$NAME" "$(VCF_PG_LOADER_PHI_KEY_FILE="$K/both.key" cli_as officer rds phi reveal "$ANON" --reason rotation-check 2>/dev/null)"
check "with the new key first, lookup finds the rotated blind index" "$ANON" "$(VCF_PG_LOADER_PHI_KEY_FILE="$K/both.key" cli_as officer rds phi lookup "$NAME" 2>/dev/null)"
check "rotate-key as a loader: permission denied" "1" "$(cli_as loader1 rds security rotate-key --new-key-file "$K/new.key" 2>&1 | grep -c 'permission denied')"
check "the audit chain verifies after rotation" "t" "$(sq -d rds -c "SELECT ok FROM phi_vault.verify_audit_chain()")"
export VCF_PG_LOADER_PHI_KEY_FILE="$K/both.key"

# --- keys from the environment and a key command -----------------------------------------
chmod 0644 "$K/client.key"
check "a key file readable by others is refused, naming its mode" "1" \
    "$(VCF_PG_LOADER_PHI_KEY_FILE="$K/client.key" cli_as viewer rds security check-encryption 2>&1 | grep -c 'mode 0644')"
chmod 0600 "$K/client.key"
# no_file CMD…: without the key file variable (so the other sources are used)
no_file() { ( unset VCF_PG_LOADER_PHI_KEY_FILE; "$@" ); }
check "VCF_PG_LOADER_PHI_KEY_COMMAND: the keyring from a command (KMS)" "$NAME" \
    "$(VCF_PG_LOADER_PHI_KEY_COMMAND="cat '$K/both.key'" no_file cli_as officer rds phi reveal "$ANON" --reason key-command 2>/dev/null)"
check "a failing key command names its exit status, never its output" "1 0" \
    "$(out=$(VCF_PG_LOADER_PHI_KEY_COMMAND="cat '$K/both.key'; exit 3" no_file cli_as officer rds phi reveal "$ANON" --reason x 2>&1); echo "$(grep -c 'exit' <<<"$out") $(grep -cF "$KEY_B64" <<<"$out")")"
check "VCF_PG_LOADER_PHI_KEY (inline, comma-separated)" "$NAME" \
    "$(VCF_PG_LOADER_PHI_KEY="$(cat "$K/new.key"),$KEY_B64" no_file cli_as officer rds phi reveal "$ANON" --reason inline-key 2>/dev/null)"
check "no key: load refuses, with a hint" "1" "$(no_file cli_as loader1 rds load "$M" --force 2>&1 | grep -c 'HINT: .*vcf-pg-loader security generate-key')"

# --- interop with the extension -----------------------------------------------------------
# A file the CLI loads into the extension's database reveals through phi_reverse_lookup.
S="$FX/data/strelka_snvs_chr22.vcf.gz"
ext_ids() { eq -c "SELECT string_agg(s.anonymous_id::text, ',' ORDER BY sample_index) FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) WHERE b.source_file LIKE '%strelka_snvs%'"; }
ids_vcf_load=$(ext_ids)
check "interop: vcf_load gave the file's samples pseudonyms" "$(bcftools query -l "$S" | wc -l)" "$(tr ',' '\n' <<<"$ids_vcf_load" | grep -c .)"
superpw() { VCF_PG_LOADER_DB_PASSWORD=superpw VCF_PG_LOADER_PHI_KEY_FILE="$K/client.key" "$CLI" --db "postgresql://postgres@localhost:$PORT/ext?sslmode=verify-full" "$@"; }
# vcf_load first (above, as postgres), then the CLI with --force, then vcf_load force => true.
superpw load "$S" --force >/dev/null 2>"$OUT/interop.err"
check "vcf_load, then the CLI with --force: pseudonyms kept" "$ids_vcf_load" "$(ext_ids)"
check "… the CLI's load reveals through the extension's phi_reverse_lookup" "$(bcftools query -l "$S" | paste -sd,)" \
    "$(eq -c "SELECT string_agg(phi_reverse_lookup(s.anonymous_id, 'interop'), ',' ORDER BY sample_index) FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) WHERE b.source_file LIKE '%strelka_snvs%'")"
eq -c "SELECT load_batch_id FROM vcf_load('$S', force => true)" >/dev/null
check "the CLI, then vcf_load with force: pseudonyms kept" "$ids_vcf_load" "$(ext_ids)"
check "… and the CLI reveals what vcf_load sealed" "$(bcftools query -l "$S" | head -1)" \
    "$(superpw phi reveal "$(ext_ids | cut -d, -f1)" --reason interop 2>&1)"
check "interop: the extension database's audit chain verifies (library and client rows)" "t" "$(eq -c "SELECT ok FROM phi_vault.verify_audit_chain()")"

# --- attacks on the client API by lesser roles, each from a session it controls ----------
# (Classes from an adversarial review: rows outside one's own claim, cross-load deletes,
# unaudited or mis-counted loads, holding the chain head, junk envelopes, foreign
# pseudonyms, planted pseudonyms, rotation used to substitute a name, LOG text to the client.)
# loader2 attacks loader1's mutect2 load.
VB=$(sq -d rds -c "SELECT load_batch_id FROM vcf.load_batches WHERE source_file LIKE '%mutect2%'")
VV=$(sq -d rds -c "SELECT min(variant_id) FROM vcf.variants WHERE load_batch_id = '$VB'")
VP=$(sq -d rds -c "SELECT anonymous_id FROM vcf.samples WHERE load_batch_id = '$VB' AND sample_index = 0")
VICTIM="SELECT concat_ws(' ', (SELECT count(*) FROM vcf.variants WHERE load_batch_id = '$VB'), (SELECT count(*) FROM vcf.genotypes g WHERE g.anonymous_id = '$VP'))"
v0=$(sq -d rds -c "$VICTIM")
refused() { grep -qE 'ERROR' <<<"$1" && echo refused || echo "accepted: $1"; }
check "attack: INSERT a variant into another's load" "refused" \
    "$(refused "$(rq loader2 rds "INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt) VALUES ($VV, '$VB', '17', 43044295, 43044295, 'A', 'G')")")"
check "attack: INSERT a genotype for another's sample on another's variant" "refused" \
    "$(refused "$(rq loader2 rds "INSERT INTO vcf.genotypes (variant_id, anonymous_id, gt, alt_dosage) VALUES ($VV, '$VP', '1/1', 2)")")"
check "attack: INSERT an orphan variant (no load)" "refused" \
    "$(refused "$(rq loader2 rds "INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref) VALUES (-1, gen_random_uuid(), 'chrUn', 1, 1, 'N')")")"
check "attack: COPY rows into another's load" "refused" \
    "$(refused "$(printf '%s\t%s\t17\t1\t1\tA\n' "$VV" "$VB" | PGPASSWORD=loaderpw psql -X -q -At "host=localhost port=$PORT user=loader2 dbname=rds sslmode=verify-full sslrootcert=$TLS/ca.crt" -c "COPY vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref) FROM STDIN" 2>&1)")"
# Inside a claim of its own: its own block, but another's load id or sample; after its finish.
OWN="BEGIN; SELECT load_batch_id AS b FROM vcf.client_claim_load(repeat('e', 64), 1, '{\"force\": false, \"normalize\": true, \"genotypes\": \"all\"}') \gset
SELECT vcf.client_reserve_block(:'b') AS blk \gset"
own() { PGPASSWORD=loaderpw psql -X -q -At -v ON_ERROR_STOP=1 "host=localhost port=$PORT user=loader2 dbname=rds sslmode=verify-full sslrootcert=$TLS/ca.crt" 2>&1 <<<"$OWN
$1"; }
check "attack: own block, another's load id" "refused" \
    "$(refused "$(own "INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref) VALUES (:blk * 1048576, '$VB', '1', 1, 1, 'A');")")"
check "attack: own block, another's sample" "refused" \
    "$(refused "$(own "INSERT INTO vcf.genotypes (variant_id, anonymous_id, gt) VALUES (:blk * 1048576, '$VP', '1/1');")")"
check "attack: describe one's load with another load's pseudonym" "refused" \
    "$(refused "$(own "SELECT vcf.client_describe_load(:'b', 'x', NULL, NULL, NULL, NULL, ARRAY['$VP']::uuid[]);")")"
check "attack: finish with counts that are not the rows present" "refused" \
    "$(refused "$(own "SELECT vcf.client_finish_load(:'b', 0, 123456789, 42, '{}');")")"
check "attack: rows after one's own finish" "refused" \
    "$(refused "$(own "SELECT vcf.client_finish_load(:'b', 0, 0, 0, '{}');
INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref) VALUES (:blk * 1048576, :'b', '1', 1, 1, 'A');")")"
check "attack: a second finish (a second audit row with other counts)" "refused" \
    "$(refused "$(own "SELECT vcf.client_finish_load(:'b', 0, 0, 0, '{}'); SELECT vcf.client_finish_load(:'b', 0, 0, 0, '{}');")")"
rq loader2 rds "SELECT * FROM vcf.client_claim_load(repeat('f', 64), 1, '{\"force\": false, \"normalize\": true, \"genotypes\": \"all\", \"note\": \"forged\"}')" >/dev/null
check "attack: options beyond the three known ones reach neither the batch nor the audit log" "0 0" \
    "$(sq -d rds -c "SELECT (SELECT count(*) FROM vcf.load_batches WHERE options::text LIKE '%forged%') || ' ' || (SELECT count(*) FROM phi_vault.audit_log WHERE detail::text LIKE '%forged%')")"
check "attack: options of the wrong type" "refused" \
    "$(refused "$(rq loader2 rds "SELECT * FROM vcf.client_claim_load(repeat('f', 63) || '0', 1, '{\"force\": \"yes\", \"normalize\": true, \"genotypes\": \"all\"}')")")"
check "attack: a pseudonym that exists already (the error says not which)" "0" \
    "$(own "SELECT phi_vault.client_add_pseudonyms(:'b', 'x', ARRAY['$VP']::uuid[], ARRAY['\x50480101aabbccdd'::bytea || decode(repeat('00', 28), 'hex')], ARRAY[decode(repeat('11', 16), 'hex')]);" | grep -c "$VP")"
check "attack: none of that touched the victim's load" "$v0" "$(sq -d rds -c "$VICTIM")"
# A claim committed without its finish is still in the audit log.
rq loader2 rds "SELECT load_batch_id FROM vcf.client_claim_load(repeat('a', 64), 1, '{\"force\": false, \"normalize\": true, \"genotypes\": \"all\"}')" >/dev/null
check "attack: a claim committed without its finish is audited (load_started)" "1" \
    "$(sq -d rds -c "SELECT count(*) FROM phi_vault.audit_log WHERE operation = 'load_started' AND detail->>'file_sha256' = repeat('a', 64) AND \"session_user\" = 'loader2'")"
# Holding the chain head open in a transaction: others' audited work goes on; sealing waits.
hold() { # hold DB SECONDS: loader2 holds the head inside an open transaction
    PGPASSWORD=loaderpw psql -X -q -At "host=localhost port=$PORT user=loader2 dbname=$1 sslmode=verify-full sslrootcert=$TLS/ca.crt" \
        -c "SET idle_in_transaction_session_timeout = 0" -c "BEGIN" -c "SELECT phi_vault.seal_audit()" -c "SELECT pg_sleep($2)" -c "COMMIT" >/dev/null 2>&1 &
    sleep 1
}
hold rds 15
check "attack: chain head held open: a load still completes" "0" "$(VCF_PG_LOADER_DB_PASSWORD=loaderpw timeout 12 "$CLI" --db "postgresql://loader1@localhost:$PORT/rds?sslmode=verify-full" load "$FX/data/sarscov2.vcf.gz" --force >/dev/null 2>&1; echo $?)"
check "attack: chain head held open: a reveal still completes" "$NAME" "$(timeout 12 env VCF_PG_LOADER_DB_PASSWORD=officerpw "$CLI" --db "postgresql://officer@localhost:$PORT/rds?sslmode=verify-full" phi reveal "$ANON" --reason held-head 2>/dev/null)"
wait
check "… and once it is released, the next seal links the waiting rows: the chain verifies" "true 0" \
    "$(sq -d rds -c "SELECT phi_vault.seal_audit()" >/dev/null; sq -d rds -c "SELECT ok || ' ' || (SELECT count(*) FROM phi_vault.audit_log WHERE chain_seq IS NULL) FROM phi_vault.verify_audit_chain()")"
hold ext 12
check "attack: chain head held open in the extension's database: vcf_load still commits" "0" \
    "$(timeout 10 su postgres -c "PGOPTIONS='$PGOPTIONS_EXT' psql -X -q -At -h $D -p $PORT -d ext -c \"SELECT load_batch_id FROM vcf_load('$FX/data/sarscov2.vcf.gz', force => true)\"" >/dev/null 2>&1; echo $?)"
wait
eq -c "SELECT phi_vault.seal_audit()" >/dev/null
check "… and its audit row is linked by the next seal: the chain verifies" "true 0" \
    "$(eq -c "SELECT ok || ' ' || (SELECT count(*) FROM phi_vault.audit_log WHERE chain_seq IS NULL) FROM phi_vault.verify_audit_chain()")"
# An audited call inside a rolled-back savepoint leaves nothing to seal and no false anchor.
rq loader2 rds "BEGIN; SAVEPOINT s; SELECT load_batch_id FROM vcf.client_claim_load(repeat('a', 64), 1, '{\"force\": false, \"normalize\": true, \"genotypes\": \"all\"}'); ROLLBACK TO s; COMMIT;" >/dev/null
sq -d rds -c "SELECT phi_vault.seal_audit()" >/dev/null
check "attack: audited call in a rolled-back savepoint: the chain verifies" "t" "$(sq -d rds -c "SELECT ok FROM phi_vault.verify_audit_chain()")"
check "attack: client_min_messages = log shows no audit line of another's load" "0" \
    "$(rq loader2 rds "SET client_min_messages = log; SELECT already_loaded FROM vcf.client_claim_load('$(sha256sum "$M" | cut -c1-64)', 1, '{\"force\": false, \"normalize\": true, \"genotypes\": \"all\"}')" | grep -c 'vcf_pg_loader audit')"
# Another login's pseudonyms as one's samples: loader1's load of the content is removed (a DBA
# unload), loader2 claims that content and names loader1's pseudonyms as its samples.
SV=$(sq -d rds -c "SELECT b.load_batch_id || '|' || b.file_sha256 || '|' || s.anonymous_id FROM vcf.load_batches b JOIN vcf.samples s USING (load_batch_id) WHERE b.source_file LIKE '%strelka_indels%' AND s.sample_index = 0")
IFS='|' read -r SVB SVSHA SVP <<<"$SV"
sq -d rds -c "SELECT vcf.unload_batch('$SVB')" >/dev/null
check "attack: another login's pseudonyms of the same content as one's samples" "refused" \
    "$(refused "$(rqs loader2 rds <<SQL
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load('$SVSHA', 1, '{"force": false, "normalize": true, "genotypes": "all"}') \gset
SELECT vcf.client_describe_load(:'b', 'x', NULL, NULL, NULL, NULL, ARRAY['$SVP']::uuid[]);
COMMIT;
SQL
)")"
# Audit anchors carry other sessions' details: the library seals others' pending rows at its
# commit (here an admin's reveal, left pending); a loader at client_min_messages = log gets none.
rq officer ext "SELECT count(*) FROM phi_vault.client_reveal((SELECT anonymous_id FROM vcf.samples LIMIT 1), 'REASON-ONLY-FOR-THE-LOG')" >/dev/null
check "attack: a loader's client at client_min_messages = log receives no other session's audit detail" "1 0" \
    "$(out=$(PGPASSWORD=loaderpw psql -X -q -At "host=localhost port=$PORT user=loader2 dbname=ext sslmode=verify-full sslrootcert=$TLS/ca.crt" -c "SET client_min_messages = log" -c "SELECT already_loaded FROM vcf_load('$M')" 2>&1); echo "$(grep -c '^t$' <<<"$out") $(grep -c 'REASON-ONLY-FOR-THE-LOG' <<<"$out")")"
check "… and the reveal row was sealed by that commit, into the server log" "1" "$(grep -c 'vcf_pg_loader audit: audit_id=.*REASON-ONLY-FOR-THE-LOG' "$D/server.log" | sed 's/^[1-9][0-9]*$/1/')"
# Junk "envelopes" (right magic, no real ciphertext) planted by a loader with no key: rotation
# reports them and rotates every other row; nothing is left half-done.
JUNK=$(rqs loader2 rds <<'SQL'
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load(repeat('d', 64), 1, '{"force": false, "normalize": true, "genotypes": "all"}') \gset
SELECT phi_vault.client_add_pseudonyms(:'b', 'junk', ARRAY[gen_random_uuid()], ARRAY['\x50480101deadbeef'::bytea || decode(repeat('00', 28), 'hex')], ARRAY[decode(repeat('11', 16), 'hex')]);
SELECT vcf.client_finish_load(:'b', 0, 0, 0, '{}');
COMMIT;
SQL
)
check "junk envelopes (right magic, no key needed) are accepted from a loader: the shape is all a server without keys can check" "1" "$(sq -d rds -c "SELECT count(*) FROM phi_vault.pseudonyms WHERE key_id = 'deadbeef'")"
"$CLI" security generate-key --output "$K/third.key" 2>/dev/null
check "junk envelopes: rotate-key reports them (exit 5) and rotates the rest" "5 0" \
    "$(cli_as officer rds security rotate-key --new-key-file "$K/third.key" --batch-size 300 >/dev/null 2>"$OUT/rotate-junk.err"; echo "$? $(sq -d rds -c "SELECT count(*) FROM phi_vault.pseudonyms WHERE key_id <> '$(VCF_PG_LOADER_PHI_KEY_FILE="$K/third.key" cli_as viewer rds security check-encryption 2>/dev/null | sed -n 's/^Key IDs: *\([0-9a-f]*\).*/\1/p')' AND key_id <> 'deadbeef'")")"
check "junk envelopes: named by pseudonym in the report" "1" "$(grep -c 'left as it is' "$OUT/rotate-junk.err")"
(umask 077; cat "$K/third.key" "$K/both.key" > "$K/all.key")
export VCF_PG_LOADER_PHI_KEY_FILE="$K/all.key"
# Rotation cannot put another name behind a pseudonym: same key refused, batches audited with
# a digest of their rows.
check "attack: client_rotate to the key a row already has (substitution)" "refused" \
    "$(refused "$(rq officer rds "SELECT phi_vault.client_rotate(ARRAY['$ANON']::uuid[], ARRAY[(SELECT key_id FROM phi_vault.pseudonyms WHERE anonymous_id = '$ANON')], ARRAY[(SELECT original_id_encrypted FROM phi_vault.sample_id_mapping WHERE anonymous_id = '$ANON')], ARRAY[decode(repeat('11', 16), 'hex')])")")"
check "rotation batches name their rows by digest" "0" "$(sq -d rds -c "SELECT count(*) FROM phi_vault.audit_log WHERE operation = 'rotate_key_online_batch' AND NOT detail ? 'rows_digest'")"
# Planted pseudonyms: loader2 claims a file's content first and plants a mapping under the
# blind index of its real first sample name (computed by the extension from the name in hex, so
# the name is in no SQL text); a later forced load by another login (a superuser) does not take it.
# Content no one has loaded (a real file with one header line more), so only a plant can match.
P="$OUT/planted.vcf"
bcftools view -h "$FX/data/gvcf_sample.vcf.gz" | sed '1a ##planted_test=1' > "$P"
bcftools view -H "$FX/data/gvcf_sample.vcf.gz" >> "$P"
PSHA=$(sha256sum "$P" | cut -c1-64)
PNAME=$(bcftools query -l "$P" | head -1)
PBI=$(PGPASSWORD=superpw psql -X -q -At "host=localhost port=$PORT user=postgres dbname=ext sslmode=verify-full sslrootcert=$TLS/ca.crt" -c "SET vcf_pg_loader.phi_key_file = '$K/server.key'" -c "SELECT encode(phi_blind_index(convert_from(decode('$(printf %s "$PNAME" | xxd -p | tr -d '\n')', 'hex'), 'UTF8')), 'hex')" 2>/dev/null | tail -1)
before_plant=$(sq -d rds -c "SELECT count(*) FROM vcf.load_batches WHERE file_sha256 = '$PSHA'")
check "planted-pseudonym attack set up (content free, blind index computed)" "0 32" "$before_plant ${#PBI}"
if [ "$before_plant" = 0 ] && [ -n "$PBI" ]; then
    PLANT=$(rqs loader2 rds <<SQL | tail -1
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load('$PSHA', 1, '{"force": false, "normalize": true, "genotypes": "all"}') \gset
SELECT gen_random_uuid() AS u \gset
SELECT phi_vault.client_add_pseudonyms(:'b', 'planted', ARRAY[:'u']::uuid[], ARRAY['\x50480101aabbccdd'::bytea || decode(repeat('00', 28), 'hex')], ARRAY[decode('$PBI', 'hex')]);
SELECT vcf.client_finish_load(:'b', 0, 0, 0, '{}');
COMMIT;
SELECT :'u';
SQL
)
    check "attack: the planted mapping was stored (the attack ran)" "1" "$(sq -d rds -c "SELECT count(*) FROM phi_vault.pseudonyms WHERE anonymous_id::text = '$PLANT'")"
    VCF_PG_LOADER_DB_PASSWORD=superpw "$CLI" --db "postgresql://postgres@localhost:$PORT/rds?sslmode=verify-full" load "$P" --force >/dev/null 2>&1
    check "attack: planted pseudonym not taken by a later load of the content" "0" \
        "$(sq -d rds -c "SELECT count(*) FROM vcf.samples WHERE anonymous_id::text = '$PLANT'")"
    check "… whose sample reveals its real name" "$PNAME" \
        "$(cli_as officer rds phi reveal "$(sq -d rds -c "SELECT s.anonymous_id FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) WHERE b.file_sha256 = '$PSHA' AND sample_index = 0")" --reason planted 2>/dev/null)"
fi

# --- vcf_load's progress, as a DBA watching pg_stat_progress_copy from a second session sees it
eq -c "SELECT load_batch_id FROM vcf_load('$BIG')" >/dev/null 2>"$OUT/progress_load.err" &
lp=$!
: > "$OUT/progress.samples"
while kill -0 "$lp" 2>/dev/null; do
    sq -d ext -c "SELECT p.bytes_processed || ' ' || p.bytes_total || ' ' || p.tuples_processed || ' ' || p.relid::regclass
                    FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid) WHERE a.query LIKE '%vcf_load%'" >> "$OUT/progress.samples" 2>/dev/null
    sleep 0.2
done
wait "$lp"
check "progress: sampled during the load (at least 5 samples)" "yes" "$([ "$(grep -c . "$OUT/progress.samples")" -ge 5 ] && echo yes || echo "no: $(grep -c . "$OUT/progress.samples")")"
check "progress: bytes_processed never above bytes_total, never going back; tuples never going back; relid vcf.variants" "ok" \
    "$(awk 'BEGIN { b = -1; t = -1; bad = "" }
            { if ($1 > $2) bad = bad " over:" $1 "/" $2; if ($1 < b) bad = bad " back:" $1 "<" b; if ($3 < t) bad = bad " tuples:" $3 "<" t;
              if ($4 != "vcf.variants") bad = bad " relid:" $4; b = $1; t = $3 }
            END { print (bad == "" ? "ok" : bad) }' "$OUT/progress.samples")"
check "progress: tuples_processed counts variant and genotype rows (above 2 M before the end)" "yes" \
    "$(awk '$3 > 2000000 { y = 1 } END { print (y ? "yes" : "no") }' "$OUT/progress.samples")"

# --- nothing secret in outputs or the server log ------------------------------------------
leaks=0
for k in "$KEY_B64" "$(cat "$K/new.key")"; do
    grep -rqF "$k" "$OUT"/*.out "$OUT"/*.err "$D/server.log" 2>/dev/null && leaks=$((leaks + 1))
done
check "no key in any output of the CLI or in the server log" "0" "$leaks"
names_in_log=0
for f in "$FX"/data/*.vcf "$FX"/data/*.vcf.gz; do
    while read -r s; do
        [ ${#s} -ge 5 ] && grep -qF "$s" "$D/server.log" && { names_in_log=$((names_in_log + 1)); echo "  sample name in server log: $s"; }
    done < <(bcftools query -l "$f" 2>/dev/null)
done
check "no sample name in the server log" "0" "$names_in_log"
summary cli
