#!/usr/bin/env bash
# The attack suite (CONTRACT §8, §9): every SQL entry point attacked by lesser roles — members
# of phi_viewer, phi_admin, vcf_loader and a plain role — each connecting as itself over TCP
# and controlling its own session. scripts/test.sh runs it inside a throw-away cluster with
# shared_preload_libraries = vcf_pg_loader:
#   bash tests/security/run.sh OUT_DIR SERVER_LOG
# One "ok"/"FAIL" line per check (tests/checks.sh), then "security: N passed, M failed".
#
# The oracle for "attacker code ran with privileges it does not hold": the attacker's
# pg_temp.pwn(tag) raises WARNING 'PWNED current_user=<who> session_user=<attacker> via <tag>'
# and tries ALTER ROLE <attacker> SUPERUSER. pwn running as the attacker is harmless; a PWNED
# line naming any other current_user (the owner role, a superuser) is the failure, and so is
# an attacker that ends up with rolsuper.
#
# Classes (check names start with the class):
#   1 temp views shadowing catalogs and our tables      7 bulk reveal: reason and audit rows
#   2 temp domains over every type the code casts to    8 audit chain: tamper, fork, lock DoS
#   3 functions/operators in a schema before pg_catalog 9 rotation with locked rows
#   4 require_ssl bypass with a shadowed pg_stat_ssl   10 status self-audit warnings
#   5 key-file reads                                    11 hung key command
#   6 PHI in stored text, logs and messages             12 everything else
# Needs the fixtures of scripts/test.sh (/tmp/vcf_pg_loader_regress), root (it writes the
# cluster's configuration and starts a second, private cluster without the library preloaded
# for class 10), and max_prepared_transactions > 0 for the PREPARE check. Class 8a tampers with
# the audit chain, so it runs last.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FX=/tmp/vcf_pg_loader_regress
DB=security
source "$HERE/../checks.sh"

KEY_A=$(cat "$FX/keys/a.keys")
KEY_B=$(cat "$FX/keys/b.keys")

OUT=${1:-/tmp/vcf_pg_loader_test/security}
LOG=${2:-}
mkdir -p "$OUT"; chmod 777 "$OUT"
# The server log: as given (scripts/test.sh), else the log file of the cluster on $PGPORT.
if [ -z "$LOG" ] || [ ! -f "$LOG" ]; then
    LOG=$(pg_lsclusters -h 2>/dev/null | awk -v p="${PGPORT:-5432}" '$3 == p { print $7 }' | head -1)
fi
if [ ! -f "$LOG" ]; then echo "security: server log not found (${LOG:-none})"; exit 2; fi
# Read through an open descriptor: the file may be unlinked while the server writes on
# (pg_dropcluster of any other cluster named 15/regress removes this path).
exec {LOGFD}< "$LOG"
LOGP=/proc/$$/fd/$LOGFD
LOG_START=$(stat -L -c %s "$LOGP")
log_mark() { stat -L -c %s "$LOGP"; }
log_since() { tail -c +$(($1 + 1)) "$LOGP"; }

# ------------------------------------------------------------------------------------------
# Helpers
SU=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB")            # the superuser postgres
sq() { "${SU[@]}" "$@"; }
sqv() { psql -X -q -At -d "$DB" -v VERBOSITY=verbose "$@" 2>&1; }  # superuser, all output
# run_as ROLE [psql args] <<< SQL: SQL as ROLE over its own TCP connection; all output.
run_as() { local r=$1; shift; psql -X -q -At -h localhost -U "$r" -d "$DB" -v VERBOSITY=verbose "$@" -f - 2>&1; }
# SQLSTATE of the first error in some output, or "ok".
state() {
    if grep -qE '^psql: error:|server closed the connection unexpectedly|terminating connection because of crash' <<< "$1"; then
        echo "no-connection"; return
    fi
    local s; s=$(grep -oE '(ERROR|FATAL):  [0-9A-Z]{5}' <<< "$1" | head -1 | sed 's/.*:  //'); echo "${s:-ok}"
}
st_as() { state "$(run_as "$@")"; }
flat() { tr '\n' ' ' <<< "$1" | sed 's/  */ /g; s/ $//'; }
contains() { grep -qF -- "$2" <<< "$1" && echo present || echo absent; }
now_ms() { date +%s%3N; }
# Foreign PWNED lines: current_user names other than the attacker itself.
pwned_by_others() { # TEXT ATTACKER
    grep -oE 'PWNED current_user=[^ ]+' <<< "$1" | sed 's/PWNED current_user=//' | grep -vxF "$2" | sort -u | tr '\n' ',' | sed 's/,$//'
}
section() { awk -v n="==> $2" '$0 == n { on = 1; next } /^==> / { on = 0 } on' "$1"; }

# Server configuration through an included file (key settings are refused in ALTER SYSTEM),
# then reload; waits until a new connection sees the new generation.
CONF_GEN=0
EXTRA=$OUT/security.conf
set_conf() {
    CONF_GEN=$((CONF_GEN + 1))
    { printf '%s\n' "$@"; echo "security_suite.generation = '$CONF_GEN'"; } > "$EXTRA"
    chmod 644 "$EXTRA"
    psql -X -q -At -d postgres -c 'SELECT pg_reload_conf()' > /dev/null
    for _ in $(seq 1 100); do
        [ "$(psql -X -q -At -d postgres -c "SELECT current_setting('security_suite.generation', true)")" = "$CONF_GEN" ] && return 0
        sleep 0.1
    done
    echo "security: configuration generation $CONF_GEN not seen"
}

# Interactive sessions: a psql reading from a FIFO, so statements can be interleaved.
declare -A SFD SPID
close_sess_fds() { local f; for f in "${SFD[@]}"; do eval "exec $f>&-"; done; }
sess_open() { # sess_open NAME ROLE [VAR=value for the environment...]
    local n=$1 role=$2; shift 2
    local fifo="$OUT/sess_$n.in"
    rm -f "$fifo" "$OUT/sess_$n.out"; mkfifo "$fifo"
    # (the child closes the other sessions' FIFO ends, or their EOF would wait for it)
    ( close_sess_fds; exec env "$@" stdbuf -oL psql -X -q -At -h localhost -U "$role" -d "$DB" -v VERBOSITY=verbose \
        < "$fifo" > "$OUT/sess_$n.out" 2>&1 ) &
    SPID[$n]=$!
    local fd
    exec {fd}> "$fifo"
    SFD[$n]=$fd
}
sess_send() { printf '%s\n' "$2" >&"${SFD[$1]}"; }
sess_sync() { # sess_sync NAME [SECONDS]: 0 once everything sent so far has run
    local n=$1 t=${2:-30} m="__sync_${1}_${RANDOM}${RANDOM}"
    sess_send "$n" "\\warn $m"
    for _ in $(seq 1 $((t * 20))); do
        grep -qx "$m" "$OUT/sess_$n.out" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
sess_close() { eval "exec ${SFD[$1]}>&-"; unset "SFD[$1]"; wait "${SPID[$1]}" 2>/dev/null; }
sess_out() { cat "$OUT/sess_$1.out"; }

# ------------------------------------------------------------------------------------------
# Setup: database, extension, roles, load directory, test files
LD=$OUT/load                      # vcf_pg_loader.load_directories
OUTSIDE=$OUT/outside              # readable by the server, outside the load directories
KD=$OUT/keys                      # sibling of the load directory: $LD/../keys
rm -rf "$LD" "$OUTSIDE" "$KD" "${LD}_evil"
mkdir -p "$LD/data" "$LD/NA12878" "$LD/weird" "$LD/lock" "$OUTSIDE/NA12878" "${LD}_evil"
cp "$FX"/data/* "$LD/data/"
cp "$FX/data/multiallelic.vcf" "${LD}_evil/x.vcf"
ln -s "$FX/keys/a.keys" "$LD/key_link.vcf"
ln -s "$FX/keys" "$LD/keysdir"
install -d -o postgres -g postgres -m 0700 "$KD"
su postgres -c "umask 077; cat '$FX/keys/a.keys' '$FX/keys/b.keys' > '$KD/ab.keys'; cp '$FX/keys/a.keys' '$KD/a.keys'"

# mkvcf PATH: a VCF from stdin, "\t" written as a tab
mkvcf() { sed 's/\\t/\t/g' > "$1"; }
# The attack file the loader replaces (force) in classes 1-3, and files for the lock class.
sed 's/^\(##fileformat.*\)$/\1\n##attack=1/' "$FX/data/multiallelic.vcf" > "$LD/attack.vcf"
for i in 1 2 3 4; do sed "s/^\(##fileformat.*\)\$/\1\n##lockfile=$i/" "$FX/data/multiallelic.vcf" > "$LD/lock/lock_$i.vcf"; done
sed 's/^\(##fileformat.*\)$/\1\n##setrole=1/' "$FX/data/multiallelic.vcf" > "$LD/setrole.vcf"
sed 's/^\(##fileformat.*\)$/\1\n##temptables=1/' "$FX/data/multiallelic.vcf" > "$LD/temptables.vcf"
sed 's/^\(##fileformat.*\)$/\1\n##readonly=1/' "$FX/data/multiallelic.vcf" > "$LD/readonly.vcf"
sed 's/^\(##fileformat.*\)$/\1\n##loader2=1/' "$FX/data/multiallelic.vcf" > "$LD/loader2.vcf"
sed 's/^\(##fileformat.*\)$/\1\n##caught=1/' "$FX/data/multiallelic.vcf" > "$LD/caught.vcf"

# Class 6 files: sample names in the path, in real callers' header lines and in INFO items.
NA_HEADER='##fileformat=VCFv4.2
##fileDate=20240101
##source=HaplotypeCaller
##reference=file:///ref/GRCh38.fa
##contig=<ID=chr1,length=248956422>
##contig=<ID=chr22,length=50818468>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">
##INFO=<ID=denovo,Number=.,Type=String,Description="Samples with a de novo call">
##FILTER=<ID=PASS,Description="All filters passed">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
##FORMAT=<ID=SM,Number=1,Type=String,Description="Sample of origin">
##GATKCommandLine=<ID=HaplotypeCaller,CommandLine="HaplotypeCaller --input /data/NA12878.sorted.bam --output /data/NA12878/NA12878_S1.g.vcf.gz --sample-name NA12878",Version="4.2.6.1",Date="January 1, 2024">
##GATKCommandLine.GenotypeGVCFs=<ID=GenotypeGVCFs,CommandLine="GenotypeGVCFs -V NA12878.g.vcf.gz -V NA12891.g.vcf.gz -V NA12892.g.vcf.gz",Version="4.2.6.1">
##bcftools_viewVersion=1.16+htslib-1.16
##bcftools_viewCommand=view -s NA12878,NA12891 -Oz -o /data/NA12878/NA12878_S1.sorted.vcf.gz cohort.vcf.gz; Date=Mon Jan  1 00:00:00 2024
##cmdline=/opt/strelka/configureStrelkaGermlineWorkflow.py --bam /data/NA12877_S1.bam --bam /data/NA12878_S1.bam
##PEDIGREE=<ID=NA12878,Father=NA12891,Mother=NA12892>
##SAMPLE=<ID=NA12878,Description="NA12878 from Coriell">
##SAMPLE=<ID=NA12891,Description="father of NA12878">
##tumor_sample=NA12878
##normal_sample=NA12891
##note=aligned reads in /data/NA12878/NA12878_S1.sorted.bam, sample NA12878
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA12878\tNA12891'
mkvcf "$LD/NA12878/NA12878_S1.sorted.vcf" <<EOF
$NA_HEADER
chr1\t100\t.\tA\tC\t50\tPASS\tDP=30;denovo=NA12878\tGT:DP:SM\t0/1:15:NA12878\t0/0:15:NA12891
chr22\t200\t.\tG\tT,C\t60\tPASS\tDP=20;denovo=NA12891,NA12878\tGT:DP\t1/2:10\t0/1:10
EOF
# The same header, a broken record after it (the error is raised after the header was read).
mkvcf "$LD/NA12878/NA12878_S1.broken.vcf" <<EOF
$NA_HEADER
chr1\t100\t.\tA\tC\t50\tPASS\tDP=30\tGT:DP\t0/1:15\t0/0:15
chr1\tNA12878\t.\tA\tC\t50\tPASS\tDP=30\tGT:DP\t0/1:15\t0/0:15
EOF
# A name in fields declared Integer (type mismatch: htslib keeps it, we store it as a string).
mkvcf "$LD/NA12878/NA12878_S1.mismatch.vcf" <<'EOF'
##fileformat=VCFv4.2
##contig=<ID=chr1,length=248956422>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">
##INFO=<ID=PROBAND,Number=1,Type=Integer,Description="Proband">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA12878\tNA12891
chr1\t100\t.\tA\tC\t50\tPASS\tDP=30;PROBAND=NA12878\tGT:DP\t0/1:NA12878\t0/0:15
EOF
# Outside the load directories, loaded by the superuser (vcf_validate by a loader).
cp "$LD/NA12878/NA12878_S1.sorted.vcf" "$OUTSIDE/NA12878/NA12878_S1.outside.vcf"
sed -i 's/^##fileDate=.*/##fileDate=20240202/' "$OUTSIDE/NA12878/NA12878_S1.outside.vcf"
# Samples named like VCF vocabulary.
mkvcf "$LD/weird/cohort_weird.vcf" <<'EOF'
##fileformat=VCFv4.2
##fileDate=20240101
##source=pipeline version 1.2 (A build)
##contig=<ID=1,length=249250621>
##contig=<ID=2,length=243199373>
##contig=<ID=chr22,length=50818468>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=LowQual,Description="Low quality">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
##FORMAT=<ID=FT,Number=1,Type=String,Description="Per-sample genotype filter">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t1\t2\tA\tDP\tPASS\tchr22
1\t1000\t.\tA\tC\t50\tPASS\tDP=1;AF=0.5\tGT:DP:FT\t0/1:1:PASS\t0/0:2:PASS\t1/1:1:PASS\t0/1:2:PASS\t0/0:1:PASS\t0/1:2:PASS
chr22\t2000\trs1\tA\tG\t40\tPASS\tDP=2;AF=0.25\tGT:DP:FT\t0/0:2:PASS\t0/1:1:PASS\t0/0:2:PASS\t0/0:1:PASS\t0/1:2:PASS\t1/1:2:PASS
EOF
chmod -R a+rX "$LD" "$OUTSIDE" "${LD}_evil"

CONF=$(psql -X -q -At -d postgres -c 'SHOW config_file')
grep -q "security.conf" "$CONF" || echo "include_if_exists = '$EXTRA'" >> "$CONF"
BASE_CONF=("vcf_pg_loader.phi_key_file = '$FX/keys/a.keys'" "vcf_pg_loader.load_directories = '$LD'")
set_conf "${BASE_CONF[@]}"

dropdb --if-exists "$DB" 2>/dev/null; createdb "$DB"
sq -c "CREATE EXTENSION vcf_pg_loader" > /dev/null
ROLES=(viewer admin loader loader2 plain)
declare -A R=([viewer]=sec_viewer [admin]=sec_admin [loader]=sec_loader [loader2]=sec_loader2 [plain]=sec_plain)
sq -v pw="$PGPASSWORD" -f - <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sec_viewer') THEN CREATE ROLE sec_viewer LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sec_admin') THEN CREATE ROLE sec_admin LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sec_loader') THEN CREATE ROLE sec_loader LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sec_loader2') THEN CREATE ROLE sec_loader2 LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sec_plain') THEN CREATE ROLE sec_plain LOGIN; END IF;
END $$;
ALTER ROLE sec_viewer PASSWORD :'pw';
ALTER ROLE sec_admin PASSWORD :'pw';
ALTER ROLE sec_loader PASSWORD :'pw';
ALTER ROLE sec_loader2 PASSWORD :'pw';
ALTER ROLE sec_plain PASSWORD :'pw';
GRANT phi_viewer TO sec_viewer;
GRANT phi_admin TO sec_admin;
GRANT vcf_loader TO sec_loader, sec_loader2;
-- the attackers may create schemas (class 3) and temp objects
GRANT CREATE, TEMP ON DATABASE security TO sec_viewer, sec_admin, sec_loader, sec_loader2, sec_plain;
SQL

# Loads made by the loader: real files (the real caller headers) and the attack file.
for f in with_annotations.vcf mutect2_chr22.vcf.gz multiallelic.vcf sarscov2.vcf.gz; do
    run_as sec_loader <<< "SELECT samples FROM vcf_load('$LD/data/$f');" > "$OUT/setup_load_$f.out"
done
run_as sec_loader <<< "SELECT samples FROM vcf_load('$LD/attack.vcf');" > "$OUT/setup_attack.out"
check "setup: the loader loaded the real files and the attack file" "5" "$(sq -c "SELECT count(*) FROM vcf.load_batches WHERE loaded_by = 'sec_loader'")"
# One pseudonym with its name known (HG002), its ciphertext and context, for reveals.
ANON=$(sq -c "SELECT a FROM phi_lookup('HG002') AS l(a) LIMIT 1")
CT=$(sq -c "SELECT '\\x' || encode(original_id_encrypted, 'hex') FROM phi_vault.sample_id_mapping WHERE anonymous_id = '$ANON'")
CTX=$(sq -c "SELECT '\\x' || encode(convert_to(anonymous_id::text, 'UTF8'), 'hex') FROM phi_vault.sample_id_mapping WHERE anonymous_id = '$ANON'")
check "setup: a pseudonym of HG002 reveals to the superuser" "HG002" "$(sq -c "SELECT phi_reverse_lookup('$ANON', 'security suite setup')")"
KEYID_A=$(sq -c "SELECT active_key_id FROM phi_encryption_status()")

# ------------------------------------------------------------------------------------------
# Classes 1-3: shadows, then every entry point the role may execute.
PWN_SQL=$(cat <<'SQL'
CREATE FUNCTION pg_temp.pwn(tag pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql AS $pwn$
BEGIN
    RAISE WARNING 'PWNED current_user=% session_user=% via %', current_user, session_user, tag;
    BEGIN
        EXECUTE pg_catalog.format('ALTER ROLE %I SUPERUSER', session_user);
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    RETURN true;
END $pwn$;
SET vcf_pg_loader.reveal_reason = 'security suite: shadow attack';
SQL
)

# Relations the code could read: catalogs (in pg_catalog) and ours (in vcf and phi_vault).
CATALOGS="pg_settings pg_extension pg_stat_ssl pg_stat_gssapi pg_stat_activity pg_roles pg_authid pg_user pg_shadow pg_class pg_namespace pg_db_role_setting pg_proc pg_depend pg_file_settings pg_database pg_attribute pg_type pg_index pg_inherits pg_constraint pg_trigger pg_policy pg_sequence pg_auth_members pg_stat_progress_copy pg_locks pg_hba_file_rules pg_operator pg_cast pg_language pg_tables pg_views pg_sequences pg_available_extensions pg_init_privs"
OURS="load_batches samples variants variants_other variants_chr1 variants_chr22 genotypes load_blocks forgotten_genotype_pages variant_id_block_seq sample_id_mapping sample_id_mapping_mapping_id_seq audit_log audit_log_audit_id_seq audit_chain_head load_sources pseudonyms"
# views_sql ROLE: one temp view per relation, evaluating pwn() once per scan; the real rows
# where ROLE may read them (so the code gets plausible data), else one row of typed NULLs.
views_sql() {
    sq -v role="$1" -v cats="$CATALOGS" -v ours="$OURS" -f - <<'SQL'
WITH names AS (
    SELECT n AS name, 'pg_catalog' AS nsp FROM unnest(string_to_array(:'cats', ' ')) n
    UNION ALL
    SELECT n, c.relnamespace::regnamespace::text FROM unnest(string_to_array(:'ours', ' ')) n
      JOIN pg_class c ON c.relname = n AND c.relnamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace)
), rels AS (
    SELECT name, format('%I.%I', nsp, name)::regclass AS rel, nsp FROM names
)
SELECT format('CREATE TEMP VIEW %I AS %s;', r.name,
       CASE WHEN has_schema_privilege(:'role', r.nsp, 'USAGE') AND has_table_privilege(:'role', r.rel, 'SELECT')
            THEN format('SELECT t.* FROM (SELECT pg_temp.pwn(%L) AS pwned) one LEFT JOIN %s t ON true', 'view ' || r.name, r.rel)
            ELSE format('SELECT %s FROM (SELECT pg_temp.pwn(%L) AS pwned) one',
                        (SELECT string_agg(format('NULL::%I.%I AS %I', tn.nspname, t.typname, a.attname), ', ' ORDER BY a.attnum)
                           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
                          WHERE a.attrelid = r.rel AND a.attnum > 0 AND NOT a.attisdropped),
                        'view ' || r.name)
       END)
  FROM rels r;
SQL
}

DOMAIN_TYPES="text name uuid bytea jsonb json int8range int8multirange pg_snapshot regclass regproc regprocedure regtype regrole regnamespace regoper oid int8 int4 int2 bool float4 float8 numeric timestamptz timestamp date interval inet cidr xid8 xid tid varchar bpchar char"
domains_sql() {
    local t
    for t in $DOMAIN_TYPES; do
        printf 'CREATE DOMAIN pg_temp.%s AS pg_catalog.%s CHECK (pg_temp.pwn(%s));\n' "\"$t\"" "\"$t\"" "'domain $t'"
    done
}

# Functions the code and triggers call, with exact argument types: name|args|returns|call
EVIL_FUNCS='nextval|pg_catalog.regclass|pg_catalog.int8|pg_catalog.nextval($1)
currval|pg_catalog.regclass|pg_catalog.int8|pg_catalog.currval($1)
set_config|pg_catalog.text, pg_catalog.text, pg_catalog.bool|pg_catalog.text|pg_catalog.set_config($1, $2, $3)
current_setting|pg_catalog.text|pg_catalog.text|pg_catalog.current_setting($1)
current_setting|pg_catalog.text, pg_catalog.bool|pg_catalog.text|pg_catalog.current_setting($1, $2)
lower|pg_catalog.text|pg_catalog.text|pg_catalog.lower($1)
upper|pg_catalog.text|pg_catalog.text|pg_catalog.upper($1)
format|pg_catalog.text|pg_catalog.text|pg_catalog.format($1)
format|pg_catalog.text, pg_catalog.text|pg_catalog.text|pg_catalog.format($1, $2)
format|pg_catalog.text, pg_catalog.text, pg_catalog.text|pg_catalog.text|pg_catalog.format($1, $2, $3)
sha256|pg_catalog.bytea|pg_catalog.bytea|pg_catalog.sha256($1)
concat_ws|pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text|pg_catalog.text|pg_catalog.concat_ws($1, $2, $3, $4, $5, $6, $7, $8)
concat|pg_catalog.text, pg_catalog.text|pg_catalog.text|pg_catalog.concat($1, $2)
convert_to|pg_catalog.text, pg_catalog.name|pg_catalog.bytea|pg_catalog.convert_to($1, $2)
encode|pg_catalog.bytea, pg_catalog.text|pg_catalog.text|pg_catalog.encode($1, $2)
decode|pg_catalog.text, pg_catalog.text|pg_catalog.bytea|pg_catalog.decode($1, $2)
pg_current_xact_id||pg_catalog.xid8|pg_catalog.pg_current_xact_id()
txid_current||pg_catalog.int8|pg_catalog.txid_current()
inet_client_addr||pg_catalog.inet|pg_catalog.inet_client_addr()
clock_timestamp||pg_catalog.timestamptz|pg_catalog.clock_timestamp()
now||pg_catalog.timestamptz|pg_catalog.now()
pg_has_role|pg_catalog.name, pg_catalog.text, pg_catalog.text|pg_catalog.bool|pg_catalog.pg_has_role($1, $2, $3)
pg_has_role|pg_catalog.name, pg_catalog.name, pg_catalog.text|pg_catalog.bool|pg_catalog.pg_has_role($1, $2, $3)
pg_has_role|pg_catalog.text, pg_catalog.text|pg_catalog.bool|pg_catalog.pg_has_role($1, $2)
has_table_privilege|pg_catalog.name, pg_catalog.text, pg_catalog.text|pg_catalog.bool|pg_catalog.has_table_privilege($1, $2, $3)
to_regclass|pg_catalog.text|pg_catalog.regclass|pg_catalog.to_regclass($1)
date_part|pg_catalog.text, pg_catalog.timestamptz|pg_catalog.float8|pg_catalog.date_part($1, $2)
extract|pg_catalog.text, pg_catalog.timestamptz|pg_catalog.numeric|pg_catalog.extract($1, $2)
host|pg_catalog.inet|pg_catalog.text|pg_catalog.host($1)
textcat|pg_catalog.text, pg_catalog.text|pg_catalog.text|pg_catalog.textcat($1, $2)
pg_xact_status|pg_catalog.xid8|pg_catalog.text|pg_catalog.pg_xact_status($1)
length|pg_catalog.text|pg_catalog.int4|pg_catalog.length($1)
btrim|pg_catalog.text|pg_catalog.text|pg_catalog.btrim($1)
replace|pg_catalog.text, pg_catalog.text, pg_catalog.text|pg_catalog.text|pg_catalog.replace($1, $2, $3)
substr|pg_catalog.text, pg_catalog.int4, pg_catalog.int4|pg_catalog.text|pg_catalog.substr($1, $2, $3)
strpos|pg_catalog.text, pg_catalog.text|pg_catalog.int4|pg_catalog.strpos($1, $2)
hashtext|pg_catalog.text|pg_catalog.int4|pg_catalog.hashtext($1)
quote_ident|pg_catalog.text|pg_catalog.text|pg_catalog.quote_ident($1)
quote_literal|pg_catalog.text|pg_catalog.text|pg_catalog.quote_literal($1)
gen_random_uuid||pg_catalog.uuid|pg_catalog.gen_random_uuid()
array_length|anyarray, pg_catalog.int4|pg_catalog.int4|pg_catalog.array_length($1, $2)
cardinality|anyarray|pg_catalog.int4|pg_catalog.cardinality($1)
array_to_string|anyarray, pg_catalog.text|pg_catalog.text|pg_catalog.array_to_string($1, $2)
pg_backend_pid||pg_catalog.int4|pg_catalog.pg_backend_pid()
jsonb_typeof|pg_catalog.jsonb|pg_catalog.text|pg_catalog.jsonb_typeof($1)
to_jsonb|anyelement|pg_catalog.jsonb|pg_catalog.to_jsonb($1)
pg_try_advisory_xact_lock|pg_catalog.int8|pg_catalog.bool|pg_catalog.pg_try_advisory_xact_lock($1)
pg_extension_config_dump|pg_catalog.regclass, pg_catalog.text|pg_catalog.void|pg_catalog.pg_extension_config_dump($1, $2)
pg_advisory_xact_lock|pg_catalog.int4, pg_catalog.int4|pg_catalog.void|pg_catalog.pg_advisory_xact_lock($1, $2)
pg_advisory_xact_lock|pg_catalog.int8|pg_catalog.void|pg_catalog.pg_advisory_xact_lock($1)
pg_notify|pg_catalog.text, pg_catalog.text|pg_catalog.void|pg_catalog.pg_notify($1, $2)
isempty|pg_catalog.int8multirange|pg_catalog.bool|pg_catalog.isempty($1)
isempty|pg_catalog.int8range|pg_catalog.bool|pg_catalog.isempty($1)
int8range|pg_catalog.int8, pg_catalog.int8|pg_catalog.int8range|pg_catalog.int8range($1, $2)
int8range|pg_catalog.int8, pg_catalog.int8, pg_catalog.text|pg_catalog.int8range|pg_catalog.int8range($1, $2, $3)
int8multirange|pg_catalog.int8range|pg_catalog.int8multirange|pg_catalog.int8multirange($1)
pg_relation_size|pg_catalog.regclass|pg_catalog.int8|pg_catalog.pg_relation_size($1)
brin_summarize_new_values|pg_catalog.regclass|pg_catalog.int4|pg_catalog.brin_summarize_new_values($1)
brin_summarize_range|pg_catalog.regclass, pg_catalog.int8|pg_catalog.int4|pg_catalog.brin_summarize_range($1, $2)
brin_desummarize_range|pg_catalog.regclass, pg_catalog.int8|pg_catalog.void|pg_catalog.brin_desummarize_range($1, $2)
pg_current_xact_id_if_assigned||pg_catalog.xid8|pg_catalog.pg_current_xact_id_if_assigned()
pg_current_snapshot||pg_catalog.pg_snapshot|pg_catalog.pg_current_snapshot()
pg_snapshot_xmin|pg_catalog.pg_snapshot|pg_catalog.xid8|pg_catalog.pg_snapshot_xmin($1)'
# Operators: "op left right returns"
EVIL_OPS=''
for t in uuid text bytea int8 int4 int2 name jsonb bool timestamptz oid; do
    for op in '=' '<>' '<' '>' '<=' '>='; do EVIL_OPS+="$op pg_catalog.$t pg_catalog.$t pg_catalog.bool"$'\n'; done
done
for pair in int8:int4 int4:int8 name:text text:name; do
    l=${pair%%:*} r=${pair##*:}
    for op in '=' '<>' '<' '>'; do EVIL_OPS+="$op pg_catalog.$l pg_catalog.$r pg_catalog.bool"$'\n'; done
done
for t in text bytea jsonb; do EVIL_OPS+="|| pg_catalog.$t pg_catalog.$t pg_catalog.$t"$'\n'; done
for t in int8 int4; do for op in '+' '-' '*' '/'; do EVIL_OPS+="$op pg_catalog.$t pg_catalog.$t pg_catalog.$t"$'\n'; done; done
for op in '=' '<>' '<' '>' '<=' '>='; do EVIL_OPS+="$op pg_catalog.xid8 pg_catalog.xid8 pg_catalog.bool"$'\n'; done
EVIL_OPS+='&& pg_catalog.int8multirange pg_catalog.int8range pg_catalog.bool
&& pg_catalog.int8range pg_catalog.int8range pg_catalog.bool
+ pg_catalog.int8multirange pg_catalog.int8multirange pg_catalog.int8multirange
'
for op in '+' '-'; do EVIL_OPS+="$op pg_catalog.int8 pg_catalog.int4 pg_catalog.int8"$'\n'; done
EVIL_OPS+='->> pg_catalog.jsonb pg_catalog.text pg_catalog.text
-> pg_catalog.jsonb pg_catalog.text pg_catalog.jsonb
->> pg_catalog.jsonb pg_catalog.int4 pg_catalog.text
@> pg_catalog.jsonb pg_catalog.jsonb pg_catalog.bool
~~ pg_catalog.text pg_catalog.text pg_catalog.bool
~~* pg_catalog.text pg_catalog.text pg_catalog.bool
~ pg_catalog.text pg_catalog.text pg_catalog.bool
@> pg_catalog.anyarray pg_catalog.anyarray pg_catalog.bool
&& pg_catalog.anyarray pg_catalog.anyarray pg_catalog.bool
'
evil_sql() { # evil_sql SCHEMA: the schema, its functions, aggregates and operators
    local s=$1 name args ret call i=0 op l r
    echo "DROP SCHEMA IF EXISTS $s CASCADE; CREATE SCHEMA $s;"
    while IFS='|' read -r name args ret call; do
        [ -n "$name" ] || continue
        if [ "$ret" = pg_catalog.void ]; then
            printf 'CREATE FUNCTION %s.%s(%s) RETURNS %s LANGUAGE plpgsql AS $e$ BEGIN PERFORM pg_temp.pwn(%s); PERFORM %s; END $e$;\n' \
                "$s" "$name" "$args" "$ret" "'func $name($args)'" "$call"
        else
            printf 'CREATE FUNCTION %s.%s(%s) RETURNS %s LANGUAGE plpgsql AS $e$ BEGIN PERFORM pg_temp.pwn(%s); RETURN %s; END $e$;\n' \
                "$s" "$name" "$args" "$ret" "'func $name($args)'" "$call"
        fi
    done <<< "$EVIL_FUNCS"
    cat <<SQL
CREATE FUNCTION $s.unnest(a anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('func unnest(anyarray)'); RETURN QUERY SELECT pg_catalog.unnest(a); END \$e\$;
CREATE FUNCTION $s.generate_series(a pg_catalog.int4, b pg_catalog.int4) RETURNS SETOF pg_catalog.int4 LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('func generate_series'); RETURN QUERY SELECT pg_catalog.generate_series(a, b); END \$e\$;
CREATE FUNCTION $s.generate_series(a pg_catalog.int8, b pg_catalog.int8, c pg_catalog.int8) RETURNS SETOF pg_catalog.int8 LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('func generate_series(int8, int8, int8)'); RETURN QUERY SELECT pg_catalog.generate_series(a, b, c); END \$e\$;
CREATE FUNCTION $s.ragg_sf(s pg_catalog.int8multirange, v pg_catalog.int8range) RETURNS pg_catalog.int8multirange LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('aggregate range_agg'); RETURN pg_catalog.multirange_union(s, pg_catalog.int8multirange(v)); END \$e\$;
CREATE AGGREGATE $s.range_agg(pg_catalog.int8range) (SFUNC = $s.ragg_sf, STYPE = pg_catalog.int8multirange, INITCOND = '{}');
CREATE FUNCTION $s.min_sf(s pg_catalog.int8, v pg_catalog.int8) RETURNS pg_catalog.int8 LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('aggregate min(int8)'); RETURN pg_catalog.int8smaller(s, v); END \$e\$;
CREATE AGGREGATE $s.min(pg_catalog.int8) (SFUNC = $s.min_sf, STYPE = pg_catalog.int8);
CREATE FUNCTION $s.cnt_star(s pg_catalog.int8) RETURNS pg_catalog.int8 LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('aggregate count(*)'); RETURN s OPERATOR(pg_catalog.+) 1; END \$e\$;
CREATE AGGREGATE $s.count(*) (SFUNC = $s.cnt_star, STYPE = pg_catalog.int8, INITCOND = '0');
CREATE FUNCTION $s.cnt_any(s pg_catalog.int8, v anyelement) RETURNS pg_catalog.int8 LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('aggregate count(anyelement)'); RETURN s OPERATOR(pg_catalog.+) 1; END \$e\$;
CREATE AGGREGATE $s.count(anyelement) (SFUNC = $s.cnt_any, STYPE = pg_catalog.int8, INITCOND = '0');
CREATE FUNCTION $s.max_sf(s pg_catalog.int8, v pg_catalog.int8) RETURNS pg_catalog.int8 LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('aggregate max(int8)'); RETURN pg_catalog.int8larger(s, v); END \$e\$;
CREATE AGGREGATE $s.max(pg_catalog.int8) (SFUNC = $s.max_sf, STYPE = pg_catalog.int8);
CREATE FUNCTION $s.sagg_sf(s pg_catalog.text, v pg_catalog.text, d pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('aggregate string_agg'); RETURN pg_catalog.concat_ws(d, s, v); END \$e\$;
CREATE AGGREGATE $s.string_agg(pg_catalog.text, pg_catalog.text) (SFUNC = $s.sagg_sf, STYPE = pg_catalog.text);
SQL
    while read -r op l r ret; do
        [ -n "$ret" ] || continue
        i=$((i + 1))
        printf 'CREATE FUNCTION %s.op_%d(a %s, b %s) RETURNS %s LANGUAGE plpgsql AS $e$ BEGIN PERFORM pg_temp.pwn(%s); RETURN a OPERATOR(pg_catalog.%s) b; END $e$;\n' \
            "$s" "$i" "$l" "$r" "$ret" "'operator $op ($l, $r)'" "$op"
        printf 'CREATE OPERATOR %s.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s.op_%d);\n' "$s" "$op" "$l" "$r" "$s" "$i"
    done <<< "$EVIL_OPS"
    # The attacker opens its schema to every role, the owner role included: a path the owner
    # context inherited would then reach these objects.
    echo "GRANT USAGE ON SCHEMA $s TO PUBLIC;"
    echo "SET search_path = $s, pg_catalog, public;"
}

# entry_calls LABEL: "\warn ==> name" + SQL for every entry point LABEL may execute, and the
# expected SQLSTATE per name in EXPECT.
declare -A EXPECT
ORDER=()
entry_calls() {
    local l=$1
    EXPECT=(); ORDER=()
    emit() { EXPECT[$1]=$2; ORDER+=("$1"); printf '\\warn ==> %s\n%s\n' "$1" "$3"; }
    emit phi_generate_key ok "SELECT phi_generate_key() IS NOT NULL;"
    emit phi_key_id ok "SELECT phi_key_id('\\x50480101a1b2c3d4000000000000000000000000'::pg_catalog.bytea);"
    emit vcf_pg_loader_version ok "SELECT vcf_pg_loader_version();"
    case $l in
    viewer)
        emit phi_vault.audit_row_hash ok "SELECT phi_vault.audit_row_hash(NULL, 1, '2024-01-01', 'a', 'b', NULL, 'op', '{}') IS NOT NULL;"
        emit phi_encryption_status ok "SELECT enabled, active_key_id FROM phi_encryption_status();"
        emit phi_reverse_lookup 42501 "SELECT phi_reverse_lookup('$ANON', 'shadow attack');"
        ;;
    admin)
        emit phi_vault.audit_row_hash ok "SELECT phi_vault.audit_row_hash(NULL, 1, '2024-01-01', 'a', 'b', NULL, 'op', '{}') IS NOT NULL;"
        emit phi_encryption_status ok "SELECT enabled, active_key_id FROM phi_encryption_status();"
        emit phi_encrypt ok "SELECT phi_encrypt('x') IS NOT NULL, phi_encrypt('y', '\\x01'::pg_catalog.bytea) IS NOT NULL;"
        emit phi_blind_index ok "SELECT phi_blind_index('x') IS NOT NULL;"
        emit phi_decrypt ok "SELECT phi_decrypt('$CT'::pg_catalog.bytea, '$CTX'::pg_catalog.bytea) IS NOT NULL;"
        emit phi_reverse_lookup ok "SELECT phi_reverse_lookup('$ANON', 'shadow attack') IS NOT NULL;"
        emit phi_lookup ok "SELECT * FROM phi_lookup('HG002') LIMIT 1;"
        emit phi_clear_plaintext ok "SELECT phi_clear_plaintext();"
        emit "phi_rotate_key(dry_run)" ok "SELECT phi_rotate_key(1000, true);"
        emit phi_rotate_key ok "SELECT phi_rotate_key();"
        emit phi_rotate_key_batch ok "SELECT phi_rotate_key_batch(10);"
        emit "CALL phi_rotate_key_online" ok "CALL phi_rotate_key_online(10);"
        emit verify_audit_chain ok "SELECT ok FROM phi_vault.verify_audit_chain();"
        emit "verify_audit_chain(anchor)" ok "SELECT ok FROM phi_vault.verify_audit_chain(1, '\\x00'::pg_catalog.bytea, NULL);"
        ;;
    loader)
        emit vcf_load ok "SELECT load_batch_id FROM vcf_load('$LD/attack.vcf', force => true) \\gset"
        emit vcf_validate ok "SELECT \"check\", ok FROM vcf_validate(:'load_batch_id');"
        emit vcf_unload ok "SELECT vcf_unload(:'load_batch_id') IS NOT NULL;"
        emit "vcf_load(again)" ok "SELECT samples FROM vcf_load('$LD/attack.vcf');"
        # Two force reloads in one transaction: unloads that forget BRIN pages, summaries that skip them
        emit "vcf_load(force, twice in one transaction)" ok "BEGIN; SELECT samples FROM vcf_load('$LD/attack.vcf', force => true); SELECT samples FROM vcf_load('$LD/attack.vcf', force => true); COMMIT;"
        # The client API's load and force reload (claim, finish: summaries, an unload that forgets)
        emit "client load and its force reload" ok "SELECT pg_catalog.md5(pg_catalog.random()::pg_catalog.text) OPERATOR(pg_catalog.||) pg_catalog.md5(pg_catalog.random()::pg_catalog.text) AS sha \\gset
BEGIN; SELECT load_batch_id AS c FROM vcf.client_claim_load(:'sha', 1, '{\"force\": false, \"normalize\": true, \"genotypes\": \"none\"}') \\gset
SELECT vcf.client_finish_load(:'c', 0, 0, 0, '{}'); COMMIT;
BEGIN; SELECT load_batch_id AS c FROM vcf.client_claim_load(:'sha', 1, '{\"force\": true, \"normalize\": true, \"genotypes\": \"none\"}', true) \\gset
SELECT vcf.client_finish_load(:'c', 0, 0, 0, '{}'); COMMIT;"
        ;;
    esac
}

# attack CLASS TITLE LABEL PRELUDE CONTROL_SQL
attack() {
    local cls=$1 title=$2 l=$3 prelude=$4 control=$5 role=${R[$3]}
    local base="$OUT/attack_${cls}_$l"
    local calls; entry_calls "$l" > "$base.calls"
    { echo "$PWN_SQL"; echo "$prelude"; printf '\\warn ==> control\n%s\n' "$control"; cat "$base.calls"; } > "$base.sql"
    psql -X -q -At -h localhost -U "$role" -d "$DB" -v VERBOSITY=verbose -f "$base.sql" > "$base.out" 2> "$base.err"
    local sec
    sec=$(section "$base.err" control)
    check "$cls $l: control: the shadows are live in the attacker's own session" "PWNED current_user=$role" \
        "$(grep -oE "PWNED current_user=$role" <<< "$sec" | head -1)"
    local name
    for name in "${ORDER[@]}"; do
        sec=$(section "$base.err" "$name")
        check "$cls $l: $title via $name" "state=${EXPECT[$name]} pwned=" "state=$(state "$sec") pwned=$(pwned_by_others "$sec" "$role")"
    done
}

for l in viewer admin loader plain; do
    attack "1" "temp views ($(wc -w <<< "$CATALOGS $OURS") catalogs and our tables)" "$l" "$(views_sql "${R[$l]}")" "SELECT count(*) FROM pg_settings;"
done
for l in viewer admin loader plain; do
    attack "2" "temp domains ($(wc -w <<< "$DOMAIN_TYPES") types)" "$l" "$(domains_sql)" "SELECT 'x'::text, 1::int4;"
done
for l in viewer admin loader plain; do
    attack "3" "functions/operators in a schema before pg_catalog" "$l" "$(evil_sql "evil_$l")" "SELECT 'a'::pg_catalog.text = 'a'::pg_catalog.text, 1 + 1;"
done
for l in "${ROLES[@]}"; do
    check "1-3 $l: still not a superuser after the shadow attacks" "f" "$(sq -c "SELECT rolsuper FROM pg_roles WHERE rolname = '${R[$l]}'")"
done
check "1-3: no PWNED line with a foreign current_user in the server log" "" \
    "$(log_since "$LOG_START" | grep -oE 'PWNED current_user=[^ ]+ session_user=[^ ]+' | awk '{split($2,a,"="); split($3,b,"="); if (a[2] != b[2]) print $0}' | sort -u | tr '\n' ' ')"

# calls_session ROLE NAME [VAR=value...] <<< "sections": runs SQL with "\warn ==> x" markers as
# ROLE (env VAR=value for psql); then sec_state NAME X / sec_text NAME X read a section.
calls_session() {
    local role=$1 n=$2; shift 2
    cat > "$OUT/calls_$n.sql"
    env "$@" psql -X -q -At -h localhost -U "$role" -d "$DB" -v VERBOSITY=verbose -f "$OUT/calls_$n.sql" \
        > "$OUT/calls_$n.out" 2> "$OUT/calls_$n.err"
}
sec_state() { state "$(section "$OUT/calls_$1.err" "$2")"; }
sec_text() { section "$OUT/calls_$1.err" "$2"; }

# ------------------------------------------------------------------------------------------
# 4. require_ssl: decided from the connection, never from a view the session can shadow.
REVEALS="\\warn ==> phi_reverse_lookup
SELECT phi_reverse_lookup('$ANON', 'ssl test');
\\warn ==> phi_lookup
SELECT * FROM phi_lookup('HG002');
\\warn ==> phi_decrypt
SELECT phi_decrypt('$CT'::pg_catalog.bytea, '$CTX'::pg_catalog.bytea);"
ACTIVITY_VIEW=$(sq -c "SELECT 'CREATE TEMP VIEW pg_stat_activity AS SELECT ' || string_agg(CASE attname
        WHEN 'client_addr' THEN 'NULL::pg_catalog.inet AS client_addr' WHEN 'client_hostname' THEN 'NULL::pg_catalog.text AS client_hostname'
        WHEN 'client_port' THEN '-1 AS client_port' ELSE format('a.%I', attname) END, ', ' ORDER BY attnum)
        || ' FROM pg_catalog.pg_stat_activity a WHERE pg_temp.pwn(''view pg_stat_activity'');'
   FROM pg_attribute WHERE attrelid = 'pg_catalog.pg_stat_activity'::regclass AND attnum > 0")
SSL_SHADOWS="$ACTIVITY_VIEW
CREATE TEMP VIEW pg_stat_ssl AS SELECT a.pid, true AS ssl, 'TLSv1.3'::pg_catalog.text AS version, 'TLS_AES_256_GCM_SHA384'::pg_catalog.text AS cipher,
    256 AS bits, NULL::pg_catalog.text AS client_dn, NULL::pg_catalog.numeric AS client_serial, NULL::pg_catalog.text AS issuer_dn
    FROM pg_catalog.pg_stat_activity a WHERE pg_temp.pwn('view pg_stat_ssl');
CREATE TEMP VIEW pg_stat_gssapi AS SELECT a.pid, true AS gss_authenticated, 'attacker@EXAMPLE'::pg_catalog.text AS principal, true AS encrypted
    FROM pg_catalog.pg_stat_activity a WHERE pg_temp.pwn('view pg_stat_gssapi');
DROP SCHEMA IF EXISTS evil_ssl CASCADE; CREATE SCHEMA evil_ssl;
CREATE FUNCTION evil_ssl.inet_client_addr() RETURNS pg_catalog.inet LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('func inet_client_addr'); RETURN NULL; END \$e\$;
CREATE FUNCTION evil_ssl.ssl_is_used() RETURNS pg_catalog.bool LANGUAGE plpgsql AS \$e\$ BEGIN PERFORM pg_temp.pwn('func ssl_is_used'); RETURN true; END \$e\$;
SET search_path = evil_ssl, pg_catalog, public;
\\warn ==> transport
SELECT 'ssl=' || ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid();"
{ echo "$PWN_SQL"; echo "$REVEALS"; } | calls_session sec_admin ssl_off PGSSLMODE=disable
for f in phi_reverse_lookup phi_lookup phi_decrypt; do
    check "4 admin: control: $f over plain TCP works while require_ssl is off" ok "$(sec_state ssl_off $f)"
done
set_conf "${BASE_CONF[@]}" "vcf_pg_loader.require_ssl = on"
{ echo "$PWN_SQL"; echo "$REVEALS"; } | calls_session sec_admin ssl_tls PGSSLMODE=require
for f in phi_reverse_lookup phi_lookup phi_decrypt; do
    check "4 admin: control: $f over TLS works while require_ssl is on" ok "$(sec_state ssl_tls $f)"
done
check "4 admin: control: the reverse lookup over TLS returned the name" present "$(contains "$(cat "$OUT/calls_ssl_tls.out")" HG002)"
{ echo "$PWN_SQL"; echo "$SSL_SHADOWS"; echo "$REVEALS"; } | calls_session sec_admin ssl_attack PGSSLMODE=disable
check "4 admin: the attack session really is plain TCP" "ssl=false" "$(grep -m1 '^ssl=' "$OUT/calls_ssl_attack.out")"
for f in phi_reverse_lookup phi_lookup phi_decrypt; do
    check "4 admin: $f over plain TCP refused despite temp views pg_stat_ssl/pg_stat_gssapi/pg_stat_activity and evil inet_client_addr" \
        "state=42501 pwned=" "state=$(sec_state ssl_attack $f) pwned=$(pwned_by_others "$(sec_text ssl_attack $f)" sec_admin)"
done
check "4 admin: no identifier reached the plain-TCP client" absent "$(contains "$(cat "$OUT/calls_ssl_attack.out" "$OUT/calls_ssl_attack.err")" HG002)"
set_conf "${BASE_CONF[@]}"

# ------------------------------------------------------------------------------------------
# 5. Key-file reads: no role below superuser reads the key file, through any path.
KEYF=$FX/keys/a.keys
KEY_PART=${KEY_A:0:16}   # a prefix: a partial leak counts too
key_in() { if grep -qF -e "$KEY_PART" -e "$KEY_A" <<< "$1"; then echo present; else echo absent; fi; }
for l in viewer admin loader plain; do
    role=${R[$l]}
    calls_session "$role" "keys_$l" <<SQL
\\warn ==> COPY FROM the key file
CREATE TEMP TABLE k (line text);
COPY k FROM '$KEYF';
\\warn ==> COPY FROM PROGRAM cat the key file
COPY k FROM PROGRAM 'cat $KEYF';
\\warn ==> pg_read_file
SELECT pg_read_file('$KEYF');
\\warn ==> pg_read_binary_file
SELECT pg_read_binary_file('$KEYF');
\\warn ==> pg_stat_file
SELECT pg_stat_file('$KEYF');
\\warn ==> pg_ls_dir of the key directory
SELECT pg_ls_dir('$FX/keys');
\\warn ==> lo_import
SELECT lo_import('$KEYF');
\\warn ==> vcf_load of the key file
SELECT * FROM vcf_load('$KEYF');
\\warn ==> SHOW phi_key_file
SHOW vcf_pg_loader.phi_key_file;
\\warn ==> current_setting phi_key
SELECT current_setting('vcf_pg_loader.phi_key');
\\warn ==> pg_file_settings
SELECT * FROM pg_file_settings;
\\warn ==> SET phi_key_file
SET vcf_pg_loader.phi_key_file = '/tmp/other.keys';
\\warn ==> SET phi_key
SET vcf_pg_loader.phi_key = '$KEY_B';
\\warn ==> pg_settings
SELECT 'settings=' || count(*) FROM pg_settings WHERE name LIKE 'vcf_pg_loader.phi_key%';
SQL
    all="$(cat "$OUT/calls_keys_$l.out" "$OUT/calls_keys_$l.err")"
    for c in "COPY FROM the key file" "COPY FROM PROGRAM cat the key file" pg_read_file pg_read_binary_file pg_stat_file \
             "pg_ls_dir of the key directory" lo_import "vcf_load of the key file" "SHOW phi_key_file" "current_setting phi_key" \
             pg_file_settings "SET phi_key_file" "SET phi_key"; do
        check "5 $l: $c refused" 42501 "$(sec_state "keys_$l" "$c")"
    done
    check "5 $l: pg_settings lists no phi_key setting" "settings=0" "$(grep -m1 '^settings=' "$OUT/calls_keys_$l.out")"
    check "5 $l: no key bytes in any output or error" absent "$(key_in "$all")"
done
# The loader: every path that leads out of the load directory, as given or resolved.
FDS=""
for i in $(seq 0 40); do FDS+="\\warn ==> fd $i
SELECT * FROM vcf_load('/proc/self/fd/$i');
"; done
calls_session sec_loader loader_paths <<SQL
\\warn ==> symlink in the load directory to the key file
SELECT * FROM vcf_load('$LD/key_link.vcf');
\\warn ==> symlinked directory in the load directory
SELECT * FROM vcf_load('$LD/keysdir/a.keys');
\\warn ==> load dir/../keys/ab.keys
SELECT * FROM vcf_load('$LD/../keys/ab.keys');
\\warn ==> load dir/data/../../keys/a.keys
SELECT * FROM vcf_load('$LD/data/../../keys/a.keys');
\\warn ==> /proc/self/root/.../a.keys
SELECT * FROM vcf_load('/proc/self/root$KEYF');
\\warn ==> /proc/self/cwd/postgresql.auto.conf
SELECT * FROM vcf_load('/proc/self/cwd/postgresql.auto.conf');
\\warn ==> /proc/self/environ
SELECT * FROM vcf_load('/proc/self/environ');
\\warn ==> a sibling directory sharing the load directory prefix
SELECT * FROM vcf_load('${LD}_evil/x.vcf');
\\warn ==> a relative path
SELECT * FROM vcf_load('load/attack.vcf');
\\warn ==> control: .. that stays inside the load directory
SELECT already_loaded FROM vcf_load('$LD/data/../data/multiallelic.vcf');
\\warn ==> SET load_directories
SET vcf_pg_loader.load_directories = '/';
\\warn ==> ALTER ROLE self SET load_directories
ALTER ROLE CURRENT_USER SET vcf_pg_loader.load_directories = '/';
$FDS
SQL
all="$(cat "$OUT/calls_loader_paths.out" "$OUT/calls_loader_paths.err")"
for c in "symlink in the load directory to the key file" "symlinked directory in the load directory" "load dir/../keys/ab.keys" \
         "load dir/data/../../keys/a.keys" "/proc/self/root/.../a.keys" "/proc/self/cwd/postgresql.auto.conf" "/proc/self/environ" \
         "a sibling directory sharing the load directory prefix" "a relative path" "SET load_directories" "ALTER ROLE self SET load_directories"; do
    check "5 loader: vcf_load via $c refused" 42501 "$(sec_state loader_paths "$c")"
done
check "5 loader: control: a path with .. that stays inside the load directory loads" ok "$(sec_state loader_paths "control: .. that stays inside the load directory")"
bad=""
for i in $(seq 0 40); do s=$(sec_state loader_paths "fd $i"); [ "$s" = 42501 ] || bad+="$i:$s "; done
check "5 loader: vcf_load('/proc/self/fd/N') refused for N = 0..40" "" "$bad"
check "5 loader: no key bytes in any vcf_load error" absent "$(key_in "$all")"
o=$(PGOPTIONS="-c vcf_pg_loader.load_directories=/" psql -X -q -At -h localhost -U sec_loader -d "$DB" -c "SELECT 1" 2>&1)
check "5 loader: load_directories in the connection options refused" "permission denied" \
    "$(grep -oE 'permission denied to set parameter' <<< "$o" | head -1 | cut -c1-17)"

# ------------------------------------------------------------------------------------------
# 6. PHI in stored text: names in the path, in real callers' header lines, in INFO items.
NAMES_RE='NA1287[78]|NA1289[12]|HCC1395_HCC1395[NT]|HG00[234]'
M6=$(log_mark)
o_main=$(run_as sec_loader <<< "SELECT load_batch_id, samples FROM vcf_load('$LD/NA12878/NA12878_S1.sorted.vcf');")
B_MAIN=$(grep -oE '^[0-9a-f-]{36}' <<< "$o_main" | head -1)
BROKEN_LINE=$(grep -n "^chr1	NA12878" "$LD/NA12878/NA12878_S1.broken.vcf" | cut -d: -f1)
o_broken=$(run_as sec_loader <<< "SELECT * FROM vcf_load('$LD/NA12878/NA12878_S1.broken.vcf');")
o_weird=$(run_as sec_loader <<< "SELECT load_batch_id, samples FROM vcf_load('$LD/weird/cohort_weird.vcf');")
B_WEIRD=$(grep -oE '^[0-9a-f-]{36}' <<< "$o_weird" | head -1)
check "6: the NA12878 file loaded (2 samples)" "2" "$(grep -oE '\|[0-9]+$' <<< "$o_main" | tr -d '|')"
check "6: the file with samples 1, 2, A, DP, PASS, chr22 loaded (6 samples)" "6" "$(grep -oE '\|[0-9]+$' <<< "$o_weird" | tr -d '|')"
# What the load stored, line by line: nothing may name NA12878, NA12891 or NA12892.
leak_lines() { # SQL returning text rows; prints the ones matching a name
    sq -v re="$NAMES_RE" -f - | grep -E "$NAMES_RE" | head -5 | tr '\n' ' '
}
check "6: load_batches.header names no sample" "" "$(leak_lines <<< "SELECT l FROM vcf.load_batches b, regexp_split_to_table(b.header, E'\n') l WHERE b.load_batch_id = '$B_MAIN';")"
check "6: load_batches.source_file names no sample" "" "$(leak_lines <<< "SELECT source_file FROM vcf.load_batches WHERE load_batch_id = '$B_MAIN';")"
check "6: variants.info names no sample (denovo=NA12878 items)" "" "$(leak_lines <<< "SELECT info::text FROM vcf.variants WHERE load_batch_id = '$B_MAIN';")"
check "6: genotypes.format names no sample (FORMAT String SM=NA12878)" "" "$(leak_lines <<< "SELECT g.format::text FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id) WHERE v.load_batch_id = '$B_MAIN';")"
check "6: phi_vault.pseudonyms.source_file names no sample" "" "$(leak_lines <<< "SELECT source_file FROM phi_vault.pseudonyms WHERE load_batch_id = '$B_MAIN';")"
check "6: audit detail of the load names no sample" "" "$(leak_lines <<< "SELECT detail::text FROM phi_vault.audit_log WHERE detail->>'load_batch_id' = '$B_MAIN';")"
check "6: the load's NOTICE texts name no sample" "" "$(grep -E "$NAMES_RE" <<< "$o_main" | head -3 | tr '\n' ' ')"
check "6: a load failing after the header was read: 22P04" "22P04" "$(state "$o_broken")"
check "6: ... its error names no sample (path and line redacted)" "" "$(grep -E 'ERROR' <<< "$o_broken" | grep -E "$NAMES_RE" | tr '\n' ' ')"
check "6: ... its error still names the line" "present" "$(grep -qE "ERROR:  22P04: .*:$BROKEN_LINE: " <<< "$o_broken" && echo present || echo "absent: $(grep -m1 ERROR <<< "$o_broken")")"
# The stored header, by rule: person fields, command lines.
hdr() { sq -c "SELECT l FROM vcf.load_batches b, regexp_split_to_table(b.header, E'\n') l WHERE b.load_batch_id = '$B_MAIN'"; }
check "6: ##PEDIGREE: samples become pseudonyms, the mother (not a sample) 'redacted'" "1" \
    "$(hdr | grep -cE '^##PEDIGREE=<ID=[0-9a-f-]{36},Father=[0-9a-f-]{36},Mother=redacted>$')"
check "6: command lines (GATKCommandLine x2, bcftools_viewCommand, cmdline) stored as <redacted>" "4" "$(hdr | grep -cE '^##[^=]+=<redacted>$')"
check "6: ##tumor_sample / ##normal_sample are pseudonyms" "2" "$(hdr | grep -cE '^##(tumor|normal)_sample=[0-9a-f-]{36}$')"
check "6: the #CHROM line carries the two pseudonyms" "$(sq -c "SELECT string_agg(anonymous_id::text, ' ' ORDER BY sample_index) FROM vcf.samples WHERE load_batch_id = '$B_MAIN'")" \
    "$(hdr | grep '^#CHROM' | cut -f10- | tr '\t' ' ')"
check "6: the log lines written while loading name no sample (statement texts aside)" "" \
    "$(log_since "$M6" | grep -vE 'STATEMENT:|statement:' | grep -E "$NAMES_RE" | head -3 | tr '\n' ' ')"
# Everything a viewer can SELECT, read by the viewer and by the superuser.
for t in vcf.load_batches vcf.samples vcf.variants vcf.genotypes phi_vault.pseudonyms; do
    check "6 viewer: no sample name anywhere in $t" "0" "$(run_as sec_viewer -v re="$NAMES_RE" <<< "SELECT count(*) FROM $t x WHERE x::text ~ :'re';")"
done
for t in vcf.load_batches vcf.samples vcf.variants vcf.genotypes phi_vault.pseudonyms phi_vault.audit_log phi_vault.load_sources; do
    check "6 superuser: no sample name anywhere in $t" "0" "$(sq -v re="$NAMES_RE" <<< "SELECT count(*) FROM $t x WHERE x::text ~ :'re';")"
done
# Samples named like VCF vocabulary: structural lines byte for byte, data unchanged.
sq -c "SELECT header FROM vcf.load_batches WHERE load_batch_id = '$B_WEIRD'" | grep '^##' > "$OUT/weird_stored.txt"
grep '^##' "$LD/weird/cohort_weird.vcf" > "$OUT/weird_given.txt"
check "6: samples 1, 2, A, DP, PASS, chr22: every ## line (Number=1, ##contig=<ID=1>, ID=PASS, ID=DP) byte for byte" "" \
    "$(diff "$OUT/weird_given.txt" "$OUT/weird_stored.txt" | grep '^[<>]' | head -4 | tr '\n' ' ')"
check "6: ... the #CHROM line carries six pseudonyms in column order" \
    "$(sq -c "SELECT string_agg(anonymous_id::text, ' ' ORDER BY sample_index) FROM vcf.samples WHERE load_batch_id = '$B_WEIRD'")" \
    "$(sq -c "SELECT header FROM vcf.load_batches WHERE load_batch_id = '$B_WEIRD'" | grep '^#CHROM' | cut -f10- | tr '\t' ' ')"
check "6: ... CHROM, REF, FILTER, INFO DP unchanged" "1 A {PASS} 1|chr22 A {PASS} 2" \
    "$(sq -c "SELECT string_agg(concat_ws(' ', chrom, ref, filter::text, info->>'DP'), '|' ORDER BY pos) FROM vcf.variants WHERE load_batch_id = '$B_WEIRD'")"
check "6: ... source_file unchanged (no long name in it)" "$LD/weird/cohort_weird.vcf" "$(sq -c "SELECT source_file FROM vcf.load_batches WHERE load_batch_id = '$B_WEIRD'")"
check "6: ... genotype GT and FORMAT FT=PASS unchanged (FT is a filter, not a sample)" "12 PASS" \
    "$(sq -c "SELECT count(*) || ' ' || string_agg(DISTINCT g.format->>'FT', ',') FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id) WHERE v.load_batch_id = '$B_WEIRD' AND g.gt ~ '^[01]/[01]$'")"
# A name in fields declared Integer: kept as a string by the lenient parser, still a name.
o_mm=$(run_as sec_loader <<< "SELECT load_batch_id FROM vcf_load('$LD/NA12878/NA12878_S1.mismatch.vcf');")
B_MM=$(grep -oE '^[0-9a-f-]{36}' <<< "$o_mm" | head -1)
check "6: INFO PROBAND=NA12878 declared Integer (type mismatch) names no sample" "" \
    "$(leak_lines <<< "SELECT info::text FROM vcf.variants WHERE load_batch_id = '$B_MM';")"
check "6: FORMAT DP=NA12878 declared Integer (type mismatch) names no sample" "" \
    "$(leak_lines <<< "SELECT g.format::text FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id) WHERE v.load_batch_id = '$B_MM';")"

# keep_header_commands (superuser-only): command lines kept, with every sample name replaced.
sed 's/^##fileDate=.*/##fileDate=20240303/' "$LD/NA12878/NA12878_S1.sorted.vcf" > "$LD/NA12878/NA12878_S1.keep.vcf"
B_KEEP=$(sq -c "SET vcf_pg_loader.keep_header_commands = on" -c "SELECT load_batch_id FROM vcf_load('$LD/NA12878/NA12878_S1.keep.vcf')" 2>/dev/null | grep -oE '^[0-9a-f-]{36}' | head -1)
check "6: keep_header_commands = on: command lines are kept" "4" \
    "$(sq -c "SELECT count(*) FROM vcf.load_batches b, regexp_split_to_table(b.header, E'\\n') l WHERE b.load_batch_id = '$B_KEEP' AND l ~ '^##(GATKCommandLine|bcftools_viewCommand|cmdline)' AND l !~ '<redacted>'")"
check "6: keep_header_commands = on: ... with both sample names replaced" "" \
    "$(sq -c "SELECT l FROM vcf.load_batches b, regexp_split_to_table(b.header, E'\\n') l WHERE b.load_batch_id = '$B_KEEP'" | grep -E 'NA12878|NA12891' | head -3 | tr '\n' ' ')"

# ------------------------------------------------------------------------------------------
# 7. Bulk reveal: a reason set in the session, one audit row per top-level statement.
REVEAL="SELECT phi_decrypt('$CT'::pg_catalog.bytea, '$CTX'::pg_catalog.bytea);"
decrypt_rows() { sq -c "SELECT count(*) FROM phi_vault.audit_log WHERE operation = 'decrypt'"; }
o=$(run_as sec_admin <<< "$REVEAL")
check "7 admin: phi_decrypt without reveal_reason: 22023" 22023 "$(state "$o")"
check "7 admin: ... and no identifier returned" absent "$(contains "$o" HG002)"
o=$(sqv -f - <<< "ALTER ROLE sec_admin SET vcf_pg_loader.reveal_reason = 'standing role reason';")
check "7: ALTER ROLE … SET vcf_pg_loader.reveal_reason refused" refused "$([ "$(state "$o")" = ok ] && echo accepted || echo refused)"
o=$(sqv -f - <<< "ALTER DATABASE security SET vcf_pg_loader.reveal_reason = 'standing database reason';")
check "7: ALTER DATABASE … SET vcf_pg_loader.reveal_reason refused" refused "$([ "$(state "$o")" = ok ] && echo accepted || echo refused)"
# Written straight into the catalog (as a session without the library would leave it):
sq -c "DELETE FROM pg_db_role_setting WHERE setrole = 'sec_admin'::regrole OR setdatabase = (SELECT oid FROM pg_database WHERE datname = 'security')" \
   -c "INSERT INTO pg_db_role_setting VALUES (0, 'sec_admin'::regrole, '{vcf_pg_loader.reveal_reason=standing role reason}')"
o=$(run_as sec_admin <<< "$REVEAL")
check "7 admin: a reason from pg_db_role_setting (role) does not count: 22023" 22023 "$(state "$o")"
sq -c "DELETE FROM pg_db_role_setting WHERE setrole = 'sec_admin'::regrole" \
   -c "INSERT INTO pg_db_role_setting VALUES ((SELECT oid FROM pg_database WHERE datname = 'security'), 0, '{vcf_pg_loader.reveal_reason=standing database reason}')"
o=$(run_as sec_admin <<< "$REVEAL")
check "7 admin: a reason from pg_db_role_setting (database) does not count: 22023" 22023 "$(state "$o")"
sq -c "DELETE FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'security')"
set_conf "${BASE_CONF[@]}" "vcf_pg_loader.reveal_reason = 'standing file reason'"
o=$(run_as sec_admin <<< "$REVEAL")
check "7 admin: a reason from postgresql.conf does not count: 22023" 22023 "$(state "$o")"
set_conf "${BASE_CONF[@]}"
n0=$(decrypt_rows)
o=$(run_as sec_admin <<< "SET vcf_pg_loader.reveal_reason = 'IRB-2024-117 recontact';
SELECT count(phi_decrypt('$CT'::pg_catalog.bytea, '$CTX'::pg_catalog.bytea)) FROM generate_series(1, 50);")
n1=$(decrypt_rows)
check "7 admin: with a session reason 50 reveals in one statement work" "50" "$(grep -E '^[0-9]+$' <<< "$o")"
check "7 admin: ... and leave exactly one audit row" "1" "$((n1 - n0))"
check "7 admin: ... which records the reason and the caller" "IRB-2024-117 recontact sec_admin sec_admin" \
    "$(sq -c "SELECT concat_ws(' ', detail->>'reason', \"current_user\", \"session_user\") FROM phi_vault.audit_log WHERE operation = 'decrypt' ORDER BY audit_id DESC LIMIT 1")"
run_as sec_admin > /dev/null <<< "SET vcf_pg_loader.reveal_reason = 'two statements';
$REVEAL
$REVEAL"
n2=$(decrypt_rows)
check "7 admin: two statements (two messages) leave two audit rows" "2" "$((n2 - n1))"
psql -X -q -At -h localhost -U sec_admin -d "$DB" -c "SET vcf_pg_loader.reveal_reason = 'one message'; $REVEAL $REVEAL" > /dev/null 2>&1
n3=$(decrypt_rows)
# Several statements sent as one simple-query message are one statement for PostgreSQL (one
# statement_timestamp(), one log line, one pg_stat_activity query) and for the audit: at least
# one row, which records the reason (docs/security/privileges.md).
check "7 admin: statements sent in one simple-query message leave one audit row (PostgreSQL's statement)" "1" "$((n3 - n2))"
run_as sec_admin > /dev/null <<< "SET vcf_pg_loader.reveal_reason = 'plpgsql loop';
DO \$\$ BEGIN FOR i IN 1..5 LOOP PERFORM phi_decrypt('$CT'::pg_catalog.bytea, '$CTX'::pg_catalog.bytea); END LOOP; END \$\$;"
n4=$(decrypt_rows)
check "7 admin: one DO block revealing five times leaves one audit row" "1" "$((n4 - n3))"
M7=$(log_mark)
o=$(run_as sec_admin <<< "SET vcf_pg_loader.reveal_reason = 'hidden in a subtransaction';
DO \$\$ DECLARE v text; BEGIN
  BEGIN
    v := phi_decrypt('$CT'::pg_catalog.bytea, '$CTX'::pg_catalog.bytea);
    RAISE EXCEPTION 'carry %', v;
  EXCEPTION WHEN raise_exception THEN RAISE NOTICE 'exfiltrated: %', SQLERRM;
  END;
  PERFORM phi_decrypt('$CT'::pg_catalog.bytea, '$CTX'::pg_catalog.bytea);
END \$\$;")
n5=$(decrypt_rows)
check "7 admin: a reveal rolled back with its subtransaction still leaves a LOG anchor" present \
    "$(log_since "$M7" | grep -qE 'vcf_pg_loader audit: (written )?audit_id=.*operation=decrypt.*hidden in a subtransaction' && echo present || echo absent)"
check "7 admin: the next reveal after the rolled-back subtransaction is audited again" "1" "$((n5 - n4))"

# ------------------------------------------------------------------------------------------
# 8b. The chain never forks: interleaved audited transactions under REPEATABLE READ and
# SERIALIZABLE (rows are sealed into the chain as each transaction commits: a commit may fail
# with 40001, the chain may not fork).
LOOKUP="SELECT count(*) FROM phi_lookup('fork probe');"
sess_open A sec_admin; sess_open B sec_admin
for iso in "REPEATABLE READ" "SERIALIZABLE"; do
    # (1) A audits, B audits and commits meanwhile, A audits again and commits.
    sess_send A "BEGIN ISOLATION LEVEL $iso;"; sess_send A "$LOOKUP"; sess_sync A
    sess_send B "$LOOKUP"; sess_sync B
    sess_send A "$LOOKUP"; sess_send A "COMMIT;"; sess_sync A
    # (2) A's snapshot predates B's committed audit; A audits and commits.
    sess_send A "BEGIN ISOLATION LEVEL $iso;"; sess_send A "SELECT 1;"; sess_sync A
    sess_send B "$LOOKUP"; sess_sync B
    sess_send A "$LOOKUP"; sess_send A "COMMIT;"; sess_sync A
    # (3) both in $iso with snapshots taken, both audit, A commits, then B commits.
    sess_send A "BEGIN ISOLATION LEVEL $iso;"; sess_send A "SELECT 1;"; sess_sync A
    sess_send B "BEGIN ISOLATION LEVEL $iso;"; sess_send B "SELECT 1;"; sess_sync B
    sess_send A "$LOOKUP"; sess_send B "$LOOKUP"; sess_sync A; sess_sync B
    sess_send A "COMMIT;"; sess_sync A; sess_send B "COMMIT;"; sess_sync B
    # (4) both commit at once.
    sess_send A "BEGIN ISOLATION LEVEL $iso;"; sess_send A "$LOOKUP"; sess_sync A
    sess_send B "BEGIN ISOLATION LEVEL $iso;"; sess_send B "$LOOKUP"; sess_sync B
    sess_send A "COMMIT;"; sess_send B "COMMIT;"; sess_sync A; sess_sync B
done
sess_close A; sess_close B
errs=$(cat "$OUT/sess_A.out" "$OUT/sess_B.out" | grep -oE 'ERROR:  [0-9A-Z]{5}' | grep -v 40001 | sort -u | tr '\n' ' ')
check "8b: interleaved audited transactions fail, if at all, only with 40001" "" "$errs"
check "8b: the audit chain verifies after the interleavings" "t" "$(sq -c 'SELECT ok FROM phi_vault.verify_audit_chain()')"
check "8b: no two audit rows share a prev_hash or a chain position (no fork)" "0 0" \
    "$(sq -c 'SELECT (SELECT count(*) FROM (SELECT prev_hash FROM phi_vault.audit_log WHERE chain_seq IS NOT NULL GROUP BY prev_hash HAVING count(*) > 1) f) || chr(32) || (SELECT count(*) FROM (SELECT chain_seq FROM phi_vault.audit_log GROUP BY chain_seq HAVING count(*) > 1) g)')"
# Every committed audit row is sealed, whatever the transaction did around it.
unsealed() { sq -c "SELECT count(*) FROM phi_vault.audit_log WHERE chain_seq IS NULL"; }
seal_case() { # seal_case NAME SQL: SQL as the admin, then no committed row may be left unsealed
    run_as sec_admin > "$OUT/seal_case.out" <<< "$2"
    check "8b: audit rows sealed at commit: $1" "0 t" "$(unsealed) $(sq -c 'SELECT ok FROM phi_vault.verify_audit_chain()')"
}
seal_case "audited call, then a rolled-back savepoint" "BEGIN; $LOOKUP SAVEPOINT s; SELECT 1/0; ROLLBACK TO s; $LOOKUP COMMIT;"
seal_case "audited call inside a released savepoint" "BEGIN; SAVEPOINT s; $LOOKUP RELEASE s; COMMIT;"
seal_case "audited call in a rolled-back savepoint, another after it" "BEGIN; SAVEPOINT s; $LOOKUP ROLLBACK TO s; $LOOKUP COMMIT;"
seal_case "audited calls in a plpgsql exception block (caught error)" "DO \$\$ BEGIN BEGIN PERFORM phi_lookup('x'); PERFORM 1/0; EXCEPTION WHEN division_by_zero THEN PERFORM phi_lookup('y'); END; END \$\$;"
seal_case "a DO block that commits between audited calls" "DO \$\$ BEGIN PERFORM phi_lookup('x'); COMMIT; PERFORM phi_lookup('y'); ROLLBACK; PERFORM phi_lookup('z'); END \$\$;"
seal_case "COMMIT AND CHAIN" "BEGIN; $LOOKUP COMMIT AND CHAIN; $LOOKUP COMMIT;"
seal_case "a WITH HOLD cursor revealing at commit" "SET vcf_pg_loader.reveal_reason = 'cursor'; BEGIN; DECLARE c CURSOR WITH HOLD FOR SELECT phi_decrypt('$CT'::bytea, '$CTX'::bytea) FROM generate_series(1, 3); COMMIT; FETCH ALL FROM c; CLOSE c;"
seal_case "transaction_read_only set after the audited call (the commit fails)" "BEGIN; $LOOKUP SET transaction_read_only = on; COMMIT;"
seal_case "CALL phi_rotate_key_online (commits per batch)" "CALL phi_rotate_key_online(1);"
o=$(run_as sec_admin <<< "BEGIN; $LOOKUP PREPARE TRANSACTION 'sec_audited';")
check "8b: PREPARE TRANSACTION of a transaction with audit rows refused (max_prepared_transactions > 0)" "refused 0 enabled" \
    "$([ "$(state "$o")" = ok ] && echo accepted || echo refused) $(sq -c "SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'sec_audited'") $(sq -c "SELECT CASE WHEN current_setting('max_prepared_transactions')::int > 0 THEN 'enabled' ELSE 'disabled' END")"
sq -c "ROLLBACK PREPARED 'sec_audited'" > /dev/null 2>&1
run_as sec_admin > /dev/null <<'SQL'
CREATE SCHEMA IF NOT EXISTS admin_own;
CREATE TABLE admin_own.t (x int);
CREATE FUNCTION admin_own.audit_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM phi_lookup('deferred'); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER t_deferred AFTER INSERT ON admin_own.t DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION admin_own.audit_at_commit();
SQL
seal_case "an audited call from the caller's own deferred trigger (fires at commit)" "BEGIN; INSERT INTO admin_own.t VALUES (1); COMMIT;"
check "8b: ... that deferred trigger's audit row is in the chain" "1" \
    "$(sq -c "SELECT count(*) FROM phi_vault.audit_log WHERE operation = 'lookup' AND chain_seq IS NOT NULL AND audit_id = (SELECT max(audit_id) FROM phi_vault.audit_log)")"
# The chain head is locked while a commit seals its rows: a transaction holding many audit rows
# (one phi_lookup each) must not hold up another session's audited commit for long.
sess_open S sec_admin
sess_send S "BEGIN;"
sess_send S "SELECT count(*) FROM (SELECT phi_lookup('many') FROM generate_series(1, 60000)) s;"
sess_sync S 120
sess_send S "COMMIT;"
sleep 0.3
t0=$(now_ms)
o=$(psql -X -q -At -h localhost -U sec_admin -d "$DB" -v VERBOSITY=verbose -c "SELECT count(*) FROM phi_lookup('HG002')" 2>&1)
t1=$(now_ms)
sess_sync S 120; sess_close S
check "8c: another audited call waits < 1 s while an admin commits a transaction with 60,000 audit rows" "ok within" \
    "$(state "$o") $([ $((t1 - t0)) -lt 1000 ] && echo within || echo "after $((t1 - t0)) ms")"

# ------------------------------------------------------------------------------------------
# 8c. Locks a lesser role can take deliberately never block audited work or loads.
SHA1=$(sha256sum "$LD/lock/lock_1.vcf" | cut -c1-64)
SHA2=$(sha256sum "$LD/attack.vcf" | cut -c1-64)
sess_open P sec_plain
for k in "7366301, 1" "7366301, 0" "7366301, 2" "7366301, 3" "7366301, hashtext('$SHA1')" "7366301, hashtext('$SHA2')" \
         "hashtext('$SHA1')" "7366301" "('x' || substr('$SHA1', 1, 16))::bit(64)::bigint"; do
    sess_send P "SELECT pg_advisory_lock($k);"
done
sess_send P "SELECT pg_advisory_lock_shared(7366301, 4);"
sess_sync P
sess_open V sec_viewer
sess_send V "BEGIN;"
sess_send V "SELECT pg_advisory_xact_lock(7366301, 5), pg_advisory_xact_lock(7366301, hashtext('x'));"
sess_send V "LOCK TABLE vcf.load_batches, vcf.samples, vcf.variants, vcf.genotypes, phi_vault.pseudonyms IN ACCESS SHARE MODE;"
for t in vcf.load_batches vcf.samples vcf.variants vcf.genotypes phi_vault.pseudonyms phi_vault.sample_id_mapping phi_vault.audit_chain_head phi_vault.audit_log; do
    for m in "ROW SHARE" "ROW EXCLUSIVE" "SHARE UPDATE EXCLUSIVE" "SHARE" "SHARE ROW EXCLUSIVE" "EXCLUSIVE" "ACCESS EXCLUSIVE"; do
        sess_send V "SAVEPOINT s; LOCK TABLE $t IN $m MODE NOWAIT; ROLLBACK TO s;"
    done
    for f in "FOR UPDATE" "FOR NO KEY UPDATE" "FOR SHARE" "FOR KEY SHARE"; do
        sess_send V "SAVEPOINT s; SELECT 1 FROM $t $f NOWAIT; ROLLBACK TO s;"
    done
done
sess_send V "SELECT count(*) FROM vcf.load_batches; SELECT count(*) FROM phi_vault.pseudonyms;"
sess_sync V
check "8c: the viewer holds its locks (a transaction still open)" "1" \
    "$(sq -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'sec_viewer' AND state = 'idle in transaction'")"
LT=(PGOPTIONS="-c lock_timeout=5s -c statement_timeout=60s")
calls_session sec_admin lock_admin "${LT[@]}" <<SQL
SET vcf_pg_loader.reveal_reason = 'lock test';
\\warn ==> phi_lookup
SELECT count(*) FROM phi_lookup('HG002');
\\warn ==> phi_reverse_lookup
SELECT phi_reverse_lookup('$ANON', 'lock test') IS NOT NULL;
\\warn ==> phi_decrypt
SELECT phi_decrypt('$CT'::bytea, '$CTX'::bytea) IS NOT NULL;
\\warn ==> phi_rotate_key(dry_run)
SELECT phi_rotate_key(1000, true);
\\warn ==> phi_rotate_key
SELECT phi_rotate_key();
\\warn ==> CALL phi_rotate_key_online
CALL phi_rotate_key_online(100);
\\warn ==> phi_clear_plaintext
SELECT phi_clear_plaintext();
\\warn ==> verify_audit_chain
SELECT ok FROM phi_vault.verify_audit_chain();
SQL
for c in phi_lookup phi_reverse_lookup phi_decrypt "phi_rotate_key(dry_run)" phi_rotate_key "CALL phi_rotate_key_online" phi_clear_plaintext verify_audit_chain; do
    check "8c admin: $c completes while plain/viewer hold advisory, table and row locks" ok "$(sec_state lock_admin "$c")"
done
calls_session sec_loader lock_loader "${LT[@]}" <<SQL
\\warn ==> vcf_load (new file)
SELECT load_batch_id FROM vcf_load('$LD/lock/lock_1.vcf') \\gset
\\warn ==> vcf_load (force)
SELECT load_batch_id FROM vcf_load('$LD/lock/lock_1.vcf', force => true) \\gset
\\warn ==> vcf_validate
SELECT "check", ok FROM vcf_validate(:'load_batch_id');
\\warn ==> vcf_unload
SELECT vcf_unload(:'load_batch_id');
\\warn ==> vcf_load (the attack file again)
SELECT already_loaded FROM vcf_load('$LD/attack.vcf');
SQL
for c in "vcf_load (new file)" "vcf_load (force)" vcf_validate vcf_unload "vcf_load (the attack file again)"; do
    check "8c loader: $c completes while plain/viewer hold advisory, table and row locks" ok "$(sec_state lock_loader "$c")"
done
sess_close P; sess_close V
# A phi_admin (or a loader) can hold the chain head itself: one audited call in a transaction
# it keeps open. Nobody else's audited work may wait for it.
sess_open H sec_admin
sess_send H "BEGIN;"; sess_send H "SELECT count(*) FROM phi_lookup('hold the head');"; sess_sync H
o=$(env "${LT[@]}" psql -X -q -At -h localhost -U sec_loader -d "$DB" -v VERBOSITY=verbose -c "SELECT variants FROM vcf_load('$LD/lock/lock_2.vcf')" 2>&1)
check "8c: a phi_admin's open transaction after one audited call does not block a vcf_load (lock_timeout 5s)" ok "$(state "$o")"
o=$(env "${LT[@]}" psql -X -q -At -h localhost -U sec_admin -d "$DB" -v VERBOSITY=verbose -c "SELECT count(*) FROM phi_lookup('HG002')" 2>&1)
check "8c: ... nor another session's phi_lookup" ok "$(state "$o")"
sess_send H "ROLLBACK;"; sess_sync H; sess_close H
sess_open H sec_loader
sess_send H "BEGIN;"; sess_send H "SELECT already_loaded FROM vcf_load('$LD/attack.vcf');"; sess_sync H
o=$(env "${LT[@]}" psql -X -q -At -h localhost -U sec_admin -d "$DB" -v VERBOSITY=verbose -c "SELECT count(*) FROM phi_lookup('HG002')" 2>&1)
check "8c: a loader's open transaction after one vcf_load does not block a phi_lookup (lock_timeout 5s)" ok "$(state "$o")"
sess_send H "ROLLBACK;"; sess_sync H; sess_close H

# ------------------------------------------------------------------------------------------
# 9. Rotation never reports completion while a row stays under the old key.
mkvcf "$LD/rot_load.vcf" <<'EOF'
##fileformat=VCFv4.2
##contig=<ID=chr1,length=248956422>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tROT_S1\tROT_S2
chr1\t100\t.\tA\tC\t50\tPASS\t.\tGT\t0/1\t0/0
EOF
chmod 644 "$LD/rot_load.vcf"
# A load still open (under key a) when the rotation starts...
sess_open LS sec_loader
sess_send LS "BEGIN;"; sess_send LS "SELECT samples FROM vcf_load('$LD/rot_load.vcf');"; sess_sync LS
set_conf "vcf_pg_loader.phi_key_file = '$FX/keys/ba.keys'" "vcf_pg_loader.load_directories = '$LD'"
KEYID_B=$(sq -c "SELECT active_key_id FROM phi_encryption_status()")
# ...and a mapping row locked by a superuser session.
sess_open L postgres
sess_send L "BEGIN;"; sess_send L "SELECT mapping_id FROM phi_vault.sample_id_mapping ORDER BY mapping_id LIMIT 1 FOR UPDATE;"; sess_sync L
( close_sess_fds; exec psql -X -q -At -h localhost -U sec_admin -d "$DB" -v VERBOSITY=verbose -c "SELECT phi_rotate_key()" > "$OUT/rotate.out" 2>&1 ) &
rp=$!
sleep 3
check "9: phi_rotate_key waits for the open load and the locked row (still running after 3 s)" running "$(kill -0 $rp 2>/dev/null && echo running || echo "returned: $(cat "$OUT/rotate.out")")"
sess_send LS "COMMIT;"; sess_sync LS; sess_close LS
sleep 1
check "9: ... still waiting for the locked row after the load committed" running "$(kill -0 $rp 2>/dev/null && echo running || echo "returned: $(cat "$OUT/rotate.out")")"
stale=$(sq -c "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE key_id IS DISTINCT FROM '$KEYID_B'")
sess_send L "COMMIT;"; sess_sync L
wait $rp
check "9: phi_rotate_key then returns every row it had to move" "$stale" "$(grep -E '^[0-9]+$' "$OUT/rotate.out")"
check "9: nothing is left under the old key after phi_rotate_key (the load's rows included)" "0" \
    "$(sq -c "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE key_id IS DISTINCT FROM '$KEYID_B'")"
# The online rotation back to key a (ab.keys: a active, b decrypts), two rows locked.
set_conf "vcf_pg_loader.phi_key_file = '$KD/ab.keys'" "vcf_pg_loader.load_directories = '$LD'"
sess_send L "BEGIN;"
sess_send L "SELECT mapping_id FROM phi_vault.sample_id_mapping WHERE mapping_id IN ((SELECT min(mapping_id) FROM phi_vault.sample_id_mapping), (SELECT max(mapping_id) FROM phi_vault.sample_id_mapping)) FOR UPDATE;"
sess_sync L
( close_sess_fds; exec psql -X -q -At -h localhost -U sec_admin -d "$DB" -v VERBOSITY=verbose -c "CALL phi_rotate_key_online(1)" > "$OUT/rotate_online.out" 2>&1 ) &
rp=$!
sleep 3
check "9: CALL phi_rotate_key_online waits for the locked rows (still running after 3 s)" running "$(kill -0 $rp 2>/dev/null && echo running || echo "returned: $(cat "$OUT/rotate_online.out")")"
sess_send L "COMMIT;"; sess_sync L; sess_close L
wait $rp
check "9: CALL phi_rotate_key_online then finishes without error" ok "$(state "$(cat "$OUT/rotate_online.out")")"
check "9: nothing is left under the old key after the online rotation" "0" \
    "$(sq -c "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE key_id IS DISTINCT FROM '$KEYID_A'")"
check "9: every mapping decrypts afterwards" "t" "$(sq -c "SET vcf_pg_loader.reveal_reason = 'rotation check'" -c "SELECT count(phi_decrypt(original_id_encrypted, convert_to(anonymous_id::text, 'UTF8'))) = count(*) FROM phi_vault.sample_id_mapping")"
set_conf "${BASE_CONF[@]}"

# ------------------------------------------------------------------------------------------
# 10. phi_encryption_status() audits where keys and identifiers can leak.
warnings_with() { # warnings_with SQL...: the status warnings in a superuser session after SQL
    { printf '%s\n' "$@"; echo "SELECT array_to_string(warnings, E'\n') FROM phi_encryption_status();"; } | sqv -v k="$KEY_A" -f -
}
warned() { grep -qiE "$2" <<< "$1" && echo warned || echo "not warned"; }
w=$(warnings_with "SELECT 1;")
check "10 status: control: with preload, no 'not preloaded' warning" "not warned" "$(warned "$w" 'not in shared_preload_libraries')"
check "10 status: control: default logging raises no logging warning" "not warned" "$(warned "$w" 'log_statement|log_min_duration')"
w=$(warnings_with "SET vcf_pg_loader.phi_key = :'k';")
check "10 status: warns when phi_key was SET in the session" warned "$(warned "$w" 'SET in this session')"
check "10 status: ... and its warnings do not print the key" absent "$(key_in "$w")"
o=$(sqv -v k="$KEY_A" -f - <<< "SET vcf_pg_loader.phi_key = :'k';
SHOW vcf_pg_loader.phi_key;")
check "10: SHOW vcf_pg_loader.phi_key prints key ids, not the key" "absent redacted" "$(key_in "$o") $(grep -o 'redacted' <<< "$o" | head -1)"
w=$(warnings_with "SET log_statement = 'all';")
check "10 status: warns of log_statement = all" warned "$(warned "$w" "log_statement = 'all'")"
w=$(warnings_with "SET log_min_duration_statement = '250ms';")
check "10 status: warns of log_min_duration_statement = '250ms' (a value with units)" warned "$(warned "$w" 'log_min_duration_statement')"
w=$(warnings_with "SET log_min_duration_statement = 0;")
check "10 status: warns of log_min_duration_statement = 0" warned "$(warned "$w" 'log_min_duration_statement')"
w=$(warnings_with "SET log_min_duration_statement = -1;")
check "10 status: control: log_min_duration_statement = -1 raises no warning" "not warned" "$(warned "$w" 'log_min_duration_statement')"
w=$(warnings_with "SET log_transaction_sample_rate = 0.5;")
check "10 status: warns of log_transaction_sample_rate > 0" warned "$(warned "$w" 'log_transaction_sample_rate')"
# With the library preloaded, no per-role/database/function/ALTER SYSTEM key setting is taken.
for stmt in "ALTER ROLE sec_plain SET vcf_pg_loader.phi_key = :'k';" \
            "ALTER DATABASE security SET vcf_pg_loader.phi_key = :'k';" \
            "ALTER ROLE sec_plain IN DATABASE security SET vcf_pg_loader.phi_key = :'k';" \
            "ALTER ROLE ALL SET vcf_pg_loader.phi_key = :'k';" \
            "ALTER ROLE sec_plain SET vcf_pg_loader.phi_key_file = '$FX/keys/b.keys';" \
            "ALTER ROLE sec_plain SET vcf_pg_loader.phi_key_command = 'cat $FX/keys/b.keys';" \
            "CREATE FUNCTION public.sec_keyfn() RETURNS int LANGUAGE sql SET vcf_pg_loader.phi_key = :'k' AS 'SELECT 1';" \
            "ALTER SYSTEM SET vcf_pg_loader.phi_key = :'k';" \
            "ALTER SYSTEM SET vcf_pg_loader.phi_key_file = '$FX/keys/b.keys';"; do
    o=$(sqv -v k="$KEY_A" -f - <<< "$stmt")
    check "10 preload: refused: ${stmt%%=*}" refused "$([ "$(state "$o")" = ok ] && echo accepted || echo refused)"
done
check "10 preload: no key text in pg_db_role_setting, pg_proc or postgresql.auto.conf" "0 0 absent" \
    "$(sq -c "SELECT (SELECT count(*) FROM pg_db_role_setting, unnest(setconfig) c WHERE c LIKE 'vcf_pg_loader.phi_key%') || ' ' || (SELECT count(*) FROM pg_proc, unnest(proconfig) c WHERE c LIKE 'vcf_pg_loader.phi_key%')") $(grep -q phi_key "$(sq -c 'SHOW data_directory')/postgresql.auto.conf" && echo present || echo absent)"
# Without preload: a second, private cluster (initdb + pg_ctl as postgres, Unix socket in its
# own directory, no TCP), where a session that has not loaded the library accepts key
# settings as placeholders; the status must report each of them.
NP=$OUT/nopreload
rm -rf "$NP"; install -d -o postgres -g postgres -m 0700 "$NP"
PGBIN=/usr/lib/postgresql/15/bin
su postgres -c "$PGBIN/initdb -D '$NP/data' -U postgres -A trust --no-sync > '$NP/initdb.log' 2>&1 &&
    $PGBIN/pg_ctl -D '$NP/data' -l '$NP/server.log' -w -o \"-c listen_addresses='' -c unix_socket_directories='$NP' -c port=5432\" start > '$NP/pg_ctl.log' 2>&1"
np_q() { env -u PGPASSWORD psql -X -q -At -h "$NP" -p 5432 -U postgres -d postgres -v VERBOSITY=verbose -v k="$KEY_A" "$@" 2>&1; }
if [ "$(np_q -c 'SELECT 1')" = 1 ]; then
    o=$(np_q -f - <<'SQL'
CREATE ROLE sec_keyrole;
ALTER ROLE sec_keyrole SET vcf_pg_loader.phi_key = :'k';
ALTER DATABASE postgres SET vcf_pg_loader.phi_key = :'k';
CREATE FUNCTION public.sec_keyfn() RETURNS int LANGUAGE sql SET vcf_pg_loader.phi_key = :'k' AS 'SELECT 1';
ALTER SYSTEM SET vcf_pg_loader.phi_key = :'k';
SQL
)
    check "10 no preload: setup: a session without the library accepts ALTER ROLE/DATABASE/FUNCTION/SYSTEM SET phi_key" "" "$(grep ERROR <<< "$o")"
    # A new session loads the library (CREATE EXTENSION) and asks for its status.
    w=$(np_q -c "SET client_min_messages = error" -c "CREATE EXTENSION vcf_pg_loader" -c "SELECT array_to_string(warnings, E'\n') FROM phi_encryption_status()")
    check "10 no preload: status warns that the library is not preloaded" warned "$(warned "$w" 'not in shared_preload_libraries')"
    check "10 no preload: status warns of phi_key in pg_db_role_setting (ALTER ROLE/DATABASE SET)" warned "$(warned "$w" 'pg_db_role_setting')"
    check "10 no preload: ... counting the per-role and the per-database setting" warned "$(warned "$w" '^2 per-role')"
    check "10 no preload: status warns of phi_key in pg_proc.proconfig (function SET clause)" warned "$(warned "$w" 'proconfig|SET clause')"
    check "10 no preload: status warns of phi_key in postgresql.auto.conf (ALTER SYSTEM)" warned "$(warned "$w" 'postgresql.auto.conf')"
    check "10 no preload: the warnings never print the key" absent "$(key_in "$w")"
    # phi_key in postgresql.conf while the library is not preloaded: every role can SHOW it
    # until the library loads; the status says so.
    np_q -c "ALTER SYSTEM RESET vcf_pg_loader.phi_key" -c "ALTER ROLE sec_keyrole RESET ALL" \
         -c "ALTER DATABASE postgres RESET ALL" -c "DROP FUNCTION public.sec_keyfn()" > /dev/null
    echo "vcf_pg_loader.phi_key = '$KEY_A'" >> "$NP/data/postgresql.conf"
    np_q -c 'SELECT pg_reload_conf()' > /dev/null; sleep 1
    w=$(np_q -c "SET client_min_messages = error" -c "SELECT array_to_string(warnings, E'\n') FROM phi_encryption_status()")
    check "10 no preload: status warns of phi_key in postgresql.conf without preload" warned "$(warned "$w" 'postgresql.conf but the library is not')"
else
    check "10 no preload: the private cluster started (see $NP)" started "not started"
fi
su postgres -c "$PGBIN/pg_ctl -D '$NP/data' -m immediate stop" > /dev/null 2>&1
rm -rf "$NP"

# ------------------------------------------------------------------------------------------
# 11. A hung key command: an error within ~10 s, nothing left running, cancel honoured.
NOFILE=(PGOPTIONS="-c vcf_pg_loader.phi_key_file=")
set_conf "${BASE_CONF[@]}" "vcf_pg_loader.phi_key_command = 'sleep 47; cat $FX/keys/a.keys'"
t0=$(now_ms)
o=$(env "${NOFILE[@]}" psql -X -q -At -d "$DB" -v VERBOSITY=verbose -c "SELECT phi_encrypt('x') IS NOT NULL" 2>&1)
t1=$(now_ms)
check "11: a hung key command is an error 55000" 55000 "$(state "$o")"
check "11: ... raised within 12 s" "within" "$([ $((t1 - t0)) -le 12000 ] && echo within || echo "after $((t1 - t0)) ms")"
check "11: ... whose message holds no key bytes" absent "$(key_in "$o")"
sleep 0.5
check "11: ... and no process of the command is left" "" "$(pgrep -f 'sleep 47' | tr '\n' ' ')"
env "${NOFILE[@]}" psql -X -q -At -d "$DB" -v VERBOSITY=verbose -c "SELECT phi_encrypt('cancel me') IS NOT NULL" > "$OUT/cancel.out" 2>&1 &
cp=$!
for _ in $(seq 1 100); do pgrep -f 'sleep 47' > /dev/null && break; sleep 0.05; done
sleep 1
tc=$(now_ms)
sq -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%cancel me%' AND pid <> pg_backend_pid()" > /dev/null
wait $cp
td=$(now_ms)
check "11: pg_cancel_backend during the key command: canceled (57014)" 57014 "$(state "$(cat "$OUT/cancel.out")")"
check "11: ... within 2 s" "within" "$([ $((td - tc)) -le 2000 ] && echo within || echo "after $((td - tc)) ms")"
sleep 0.5
check "11: ... and no process of the command is left" "" "$(pgrep -f 'sleep 47' | tr '\n' ' ')"
set_conf "${BASE_CONF[@]}" "vcf_pg_loader.phi_key_command = 'cat $FX/keys/a.keys; exit 3'"
o=$(env "${NOFILE[@]}" psql -X -q -At -d "$DB" -v VERBOSITY=verbose -c "SELECT phi_encrypt('x') IS NOT NULL" 2>&1)
check "11: a key command that prints the key and exits 3: 55000 naming the status" "55000 status 3" "$(state "$o") $(grep -oE 'status 3' <<< "$o" | head -1)"
check "11: ... and the key it printed is in no message" absent "$(key_in "$o")"
set_conf "${BASE_CONF[@]}"
o=$(sqv -c "SET vcf_pg_loader.phi_key_command = 'cat $FX/keys/b.keys'")
check "11: phi_key_command cannot be SET in a session, even by a superuser" refused "$([ "$(state "$o")" = ok ] && echo accepted || echo refused)"
o=$(run_as sec_admin <<< "SET vcf_pg_loader.phi_key_command = 'cat $FX/keys/b.keys';")
check "11: ... nor by a phi_admin" refused "$([ "$(state "$o")" = ok ] && echo accepted || echo refused)"

# ------------------------------------------------------------------------------------------
# 12. Everything else.
# 12a. Who may call what, over each role's own connection.
RESTRICTED="phi_encrypt('x')|phi_blind_index('x')|phi_decrypt('\\x00'::bytea)|phi_reverse_lookup('$ANON', 'r')|phi_lookup('HG002')|phi_clear_plaintext()|phi_rotate_key(1000, true)|phi_rotate_key_batch(1)|phi_encryption_status()|phi_vault.verify_audit_chain()|vcf_load('$LD/attack.vcf')|vcf_validate('$ANON')|vcf_unload('$ANON')"
declare -A ALLOWED=(
    [viewer]="phi_encryption_status() phi_reverse_lookup"
    [admin]="phi_encrypt phi_blind_index phi_decrypt phi_reverse_lookup phi_lookup phi_clear_plaintext phi_rotate_key phi_rotate_key_batch phi_encryption_status() phi_vault.verify_audit_chain()"
    [loader]="vcf_load vcf_validate vcf_unload"
    [plain]="")
for l in viewer admin loader plain; do
    bad=""
    IFS='|' read -ra calls <<< "$RESTRICTED"
    for c in "${calls[@]}"; do
        fn=${c%%(*}
        [[ " ${ALLOWED[$l]} " == *" $fn "* || " ${ALLOWED[$l]} " == *" $c "* ]] && continue
        s=$(st_as "${R[$l]}" <<< "SELECT $c;")
        [ "$s" = 42501 ] || bad+="$fn:$s "
    done
    check "12 $l: every entry point it may not call is refused (42501)" "" "$bad"
    bad=""
    for t in vcf.load_batches vcf.variants vcf.genotypes vcf.samples phi_vault.pseudonyms phi_vault.sample_id_mapping phi_vault.audit_log phi_vault.audit_chain_head phi_vault.load_sources; do
        s=$(st_as "${R[$l]}" <<< "SELECT count(*) FROM $t;")
        case "$l:$t" in
            viewer:vcf.*|viewer:phi_vault.pseudonyms|admin:*) want=ok ;;
            *) want=42501 ;;
        esac
        [ "$s" = "$want" ] || bad+="$t:$s "
    done
    check "12 $l: reads exactly the tables of its role (viewer: vcf.*, pseudonyms; admin: all)" "" "$bad"
    bad=""
    for g in "phi_key = '$KEY_B'" "phi_key_file = '/tmp/x.keys'" "phi_store_plaintext = on" "require_encryption = off" \
             "require_ssl = off" "keep_header_commands = on" "load_directories = '/'"; do
        s=$(st_as "${R[$l]}" <<< "SET vcf_pg_loader.$g;")
        [ "$s" = 42501 ] || bad+="${g%% *}:$s "
    done
    check "12 $l: cannot SET any superuser-only vcf_pg_loader setting" "" "$bad"
    bad=""
    for t in "SET ROLE vcf_pg_loader_owner" "SET ROLE postgres" "SET SESSION AUTHORIZATION postgres" "SET SESSION AUTHORIZATION vcf_pg_loader_owner"; do
        s=$(st_as "${R[$l]}" <<< "$t;")
        [ "$s" = 42501 ] || bad+="$t:$s "
    done
    [ "$l" = viewer ] && { s=$(st_as sec_viewer <<< "SET ROLE phi_admin;"); [ "$s" = 42501 ] || bad+="SET ROLE phi_admin:$s "; }
    [ "$l" = loader ] && { s=$(st_as sec_loader <<< "SET ROLE phi_admin;"); [ "$s" = 42501 ] || bad+="SET ROLE phi_admin:$s "; }
    check "12 $l: SET ROLE / SET SESSION AUTHORIZATION to the owner, a superuser or another role refused" "" "$bad"
done
o=$(PGOPTIONS="-c vcf_pg_loader.phi_store_plaintext=on" psql -X -q -At -h localhost -U sec_loader -d "$DB" -c "SELECT 1" 2>&1)
check "12 loader: phi_store_plaintext in the connection options refused" "permission denied" "$(grep -oE 'permission denied' <<< "$o" | head -1)"

# 12b. Loaders and each other's loads.
B_L2=$(run_as sec_loader2 <<< "SELECT load_batch_id FROM vcf_load('$LD/loader2.vcf');" | grep -oE '^[0-9a-f-]{36}' | head -1)
check "12 loader: vcf_unload of another loader's batch refused" 42501 "$(st_as sec_loader <<< "SELECT vcf_unload('$B_L2');")"
check "12 loader: vcf_load(force => true) replacing another loader's batch refused" 42501 "$(st_as sec_loader <<< "SELECT * FROM vcf_load('$LD/loader2.vcf', force => true);")"
check "12 loader: ... and the other loader's batch is intact" "1" "$(sq -c "SELECT count(*) FROM vcf.load_batches WHERE load_batch_id = '$B_L2'")"
B_SR=$(run_as sec_loader <<< "SET ROLE vcf_loader;
SELECT load_batch_id FROM vcf_load('$LD/setrole.vcf');" | grep -oE '^[0-9a-f-]{36}' | head -1)
check "12 loader2: cannot unload a batch loader1 made after SET ROLE vcf_loader (loaded_by must name loader1)" 42501 \
    "$(st_as sec_loader2 <<< "SELECT vcf_unload('$B_SR');")"
# vcf_validate of a batch whose file lies outside the caller's directories.
B_OUT=$(sq -c "SELECT load_batch_id FROM vcf_load('$OUTSIDE/NA12878/NA12878_S1.outside.vcf')" 2>/dev/null | grep -oE '^[0-9a-f-]{36}' | head -1)
o=$(run_as sec_loader <<< "SELECT * FROM vcf_validate('$B_OUT');")
check "12 loader: vcf_validate of a batch whose file is outside its directories refused" 42501 "$(state "$o")"
check "12 loader: ... and the refusal names no sample (the stored path is redacted)" "" "$(grep -E "$NAMES_RE" <<< "$o" | tr '\n' ' ')"
check "12 loader: control: vcf_validate of its own batch works" ok "$(st_as sec_loader <<< "SELECT * FROM vcf_validate('$B_MAIN');")"
# A reverse lookup by a viewer: refused, and traced in the server log.
M12=$(log_mark)
check "12 viewer: phi_reverse_lookup refused" 42501 "$(st_as sec_viewer <<< "SELECT phi_reverse_lookup('$ANON', 'curious');")"
check "12 viewer: ... and the refusal is in the server log" present \
    "$(log_since "$M12" | grep -q 'vcf_pg_loader audit: phi_reverse_lookup by sec_viewer: refused' && echo present || echo absent)"
# internal_rotation is a user setting: it must not open the crypto columns.
o=$(run_as sec_admin <<< "SET vcf_pg_loader.internal_rotation = on;
UPDATE phi_vault.sample_id_mapping SET key_id = 'deadbeef', original_id_encrypted = '\\x00' WHERE mapping_id = (SELECT min(mapping_id) FROM phi_vault.sample_id_mapping);")
check "12 admin: SET internal_rotation = on, then UPDATE crypto columns: refused" 42501 "$(state "$o")"
check "12 admin: ... no mapping row changed" "0" "$(sq -c "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE key_id = 'deadbeef'")"
# Temp tables named like ours during a load: the rows go to vcf.*.
o=$(run_as sec_loader <<< "CREATE TEMP TABLE load_batches (load_batch_id uuid, source_file text, file_sha256 text, file_size bigint, loaded_by name, options jsonb, header text, samples int, variants bigint, genotypes bigint, records bigint, warnings jsonb, file_format text, compression text, reference text);
CREATE TEMP TABLE samples (load_batch_id uuid, sample_index int, anonymous_id uuid);
CREATE TEMP TABLE variants (variant_id bigint, load_batch_id uuid, chrom text, pos bigint);
CREATE TEMP TABLE genotypes (variant_id bigint, anonymous_id uuid);
CREATE TEMP TABLE sample_id_mapping (anonymous_id uuid, original_id text);
CREATE TEMP TABLE audit_log (audit_id bigint, operation text, detail jsonb);
CREATE TEMP TABLE audit_chain_head (last_id bigint, last_hash bytea);
CREATE TEMP TABLE load_sources (load_batch_id uuid, path text);
SELECT samples FROM vcf_load('$LD/temptables.vcf');
SELECT 'temp rows=' || ((SELECT count(*) FROM load_batches) + (SELECT count(*) FROM samples) + (SELECT count(*) FROM variants) + (SELECT count(*) FROM genotypes) + (SELECT count(*) FROM sample_id_mapping) + (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM load_sources));")
check "12 loader: with temp tables named like ours, vcf_load writes vcf.* and nothing to the temp tables" "ok temp rows=0 1" \
    "$(state "$o") $(grep -m1 -oE 'temp rows=[0-9]+' <<< "$o") $(sq -c "SELECT count(*) FROM vcf.load_batches WHERE header LIKE '%##temptables=1%'")"
# An error raised inside the owner context and caught by the caller leaves the caller as it was.
o=$(run_as sec_loader <<< "$PWN_SQL
DO \$\$ BEGIN
  PERFORM * FROM vcf_load('$LD/NA12878/NA12878_S1.broken.vcf');
EXCEPTION WHEN others THEN PERFORM pg_temp.pwn('after a caught vcf_load error, search_path=' || pg_catalog.current_setting('search_path'));
END \$\$;")
check "12 loader: after an error inside vcf_load is caught, the session is the loader again with its search_path" \
    "sec_loader \"\$user\", public" "$(grep -oE 'PWNED current_user=[^ ]+' <<< "$o" | sed 's/.*=//' | head -1) $(grep -oE 'search_path=.*' <<< "$o" | head -1 | sed 's/search_path=//')"
o=$(run_as sec_admin <<< "$PWN_SQL
DO \$\$ BEGIN
  PERFORM phi_decrypt('\\x5048010100000000'::bytea);
EXCEPTION WHEN others THEN PERFORM pg_temp.pwn('after a caught phi_decrypt error, search_path=' || pg_catalog.current_setting('search_path'));
END \$\$;
DO \$\$ BEGIN
  PERFORM phi_rotate_key(0);
EXCEPTION WHEN others THEN PERFORM pg_temp.pwn('after a caught phi_rotate_key error');
END \$\$;")
check "12 admin: after caught errors in phi_decrypt / phi_rotate_key the session is the admin again" "sec_admin" \
    "$(grep -oE 'PWNED current_user=[^ ]+' <<< "$o" | sed 's/.*=//' | sort -u | tr '\n' ' ' | sed 's/ $//')"
# standard_conforming_strings = off and other session formats do not break the audit hash.
run_as sec_admin > "$OUT/odd_settings.out" <<SQL
SET standard_conforming_strings = off;
SET escape_string_warning = off;
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Pacific/Chatham';
SET extra_float_digits = -15;
SET bytea_output = 'escape';
SET IntervalStyle = 'sql_standard';
SELECT phi_reverse_lookup('$ANON', 'back\\\\slash ''quote'' "dq" ' || chr(31) || chr(10) || 'é \u00e9 \\\\u0000') IS NOT NULL;
SELECT count(*) FROM phi_lookup('tab	and	back\\\\slash');
SELECT ok FROM phi_vault.verify_audit_chain();
SQL
check "12 admin: with standard_conforming_strings = off and odd DateStyle/TimeZone, audited calls work and the chain verifies in that session" "t t" \
    "$(grep -E '^[tf]$' "$OUT/odd_settings.out" | tr '\n' ' ' | sed 's/ $//')"
check "12: ... and in a default session" "t" "$(sq -c 'SELECT ok FROM phi_vault.verify_audit_chain()')"
# Read-only transactions: a reveal that cannot be audited is not a reveal.
o=$(run_as sec_admin <<< "SET default_transaction_read_only = on;
SELECT phi_reverse_lookup('$ANON', 'read only');")
check "12 admin: phi_reverse_lookup in a read-only transaction fails (cannot audit) and returns nothing" "25006 absent" "$(state "$o") $(contains "$o" HG002)"
o=$(run_as sec_admin <<< "SET vcf_pg_loader.reveal_reason = 'read only';
BEGIN READ ONLY;
SELECT phi_decrypt('$CT'::bytea, '$CTX'::bytea);
ROLLBACK;")
check "12 admin: phi_decrypt in a read-only transaction fails and returns nothing" "25006 absent" "$(state "$o") $(contains "$o" HG002)"
o=$(run_as sec_loader <<< "SET default_transaction_read_only = on;
SELECT * FROM vcf_load('$LD/readonly.vcf');")
check "12 loader: vcf_load in a read-only transaction fails and leaves nothing" "25006 0" \
    "$(state "$o") $(sq -c "SELECT count(*) FROM vcf.load_batches WHERE header LIKE '%##readonly=1%'")"
# Malformed and huge bytea into phi_decrypt: errors, never a crash.
calls_session sec_admin bytea <<SQL
SET vcf_pg_loader.reveal_reason = 'malformed input';
\\warn ==> empty
SELECT phi_decrypt(''::bytea);
\\warn ==> magic only
SELECT phi_decrypt('\\x5048'::bytea);
\\warn ==> header only
SELECT phi_decrypt('\\x50480101${KEYID_A}'::bytea);
\\warn ==> bad version
SELECT phi_decrypt('\\x5048ff01${KEYID_A}000000000000000000000000000000000000000000000000000000000000'::bytea);
\\warn ==> tag cut short
SELECT phi_decrypt(('\\x50480101${KEYID_A}' || repeat('00', 12) || repeat('ab', 10))::bytea);
\\warn ==> tampered under the active key
SELECT phi_decrypt(('\\x50480101${KEYID_A}' || repeat('00', 12) || repeat('ab', 40))::bytea);
\\warn ==> unknown key id
SELECT phi_decrypt(('\\x50480101ffffffff' || repeat('00', 12) || repeat('ab', 40))::bytea);
\\warn ==> 50 MB
SELECT phi_decrypt('\\x50480101${KEYID_A}'::bytea || decode(repeat('00', 50000000), 'hex'));
\\warn ==> right ciphertext, wrong context
SELECT phi_decrypt('$CT'::bytea, '\\x00'::bytea);
\\warn ==> phi_key_id of garbage
SELECT 'keyid=' || coalesce(phi_key_id('\\x01'::bytea), 'NULL') || coalesce(phi_key_id('\\x5048'::bytea), 'NULL');
SQL
for c in "empty:XX001" "magic only:XX001" "header only:XX001" "bad version:XX001" "tag cut short:XX001" \
         "tampered under the active key:XX001" "unknown key id:55000" "right ciphertext, wrong context:XX001"; do
    check "12 admin: phi_decrypt(${c%%:*}) is an error ${c##*:}" "${c##*:}" "$(sec_state bytea "${c%%:*}")"
done
check "12 admin: phi_decrypt(50 MB) is an error, not a crash" "error" "$(s=$(sec_state bytea "50 MB"); [ "$s" != ok ] && [ "$s" != 57P01 ] && echo error || echo "$s")"
check "12 admin: phi_key_id of garbage is NULL" "keyid=NULLNULL" "$(grep -m1 '^keyid=' "$OUT/calls_bytea.out")"
check "12: the server never crashed" "" "$(log_since "$LOG_START" | grep -E 'terminated by signal|was terminated|PANIC|server process .* exited with exit code [^0]' | head -2 | tr '\n' ' ')"
# A lookup by blind index leaves an audit trace, like phi_lookup.
n0=$(sq -c "SELECT count(*) FROM phi_vault.audit_log")
M12=$(log_mark)
o=$(run_as sec_admin <<< "SELECT 'found=' || count(*) FROM phi_vault.sample_id_mapping WHERE original_id_hmac = phi_blind_index('HG002');")
n1=$(sq -c "SELECT count(*) FROM phi_vault.audit_log")
trace=$({ [ "$n1" -gt "$n0" ] || log_since "$M12" | grep -q 'vcf_pg_loader audit'; } && echo "audited or refused" ||
        { grep -q 'permission denied' <<< "$o" && echo "audited or refused"; } || echo "unaudited ($(grep -oE 'found=[0-9]+' <<< "$o"))")
check "12 admin: a lookup by phi_blind_index + SELECT on sample_id_mapping is audited like phi_lookup (or refused)" "audited or refused" "$trace"

# ------------------------------------------------------------------------------------------
# 8a. Audit tamper evidence (last: it breaks the chain). Anchors from the server log.
anchor_of() { # anchor_of LOG_OFFSET OPERATION: "id hash xid" of the last sealed row's LOG line since then
    log_since "$1" | grep -oE "vcf_pg_loader audit: audit_id=[0-9]+ hash=[0-9a-f]{64} xid=[0-9]+ chain_seq=[0-9]+ operation=$2" | tail -1 |
        sed -E 's/.*audit_id=([0-9]+) hash=([0-9a-f]+) xid=([0-9]+).*/\1 \2 \3/'
}
written_of() { # written_of LOG_OFFSET OPERATION: "id xid" of the last written row's LOG line since then
    log_since "$1" | grep -oE "vcf_pg_loader audit: written audit_id=[0-9]+ xid=[0-9]+ operation=$2" | tail -1 |
        sed -E 's/.*audit_id=([0-9]+) xid=([0-9]+).*/\1 \2/'
}
verify() { sq -c "SELECT ok FROM phi_vault.verify_audit_chain($1)" 2>&1 | grep -E '^[tf]$|ERROR'; }
check "8a: the chain verifies before tampering" "t" "$(verify "")"
M=$(log_mark); run_as sec_admin <<< "SELECT count(*) FROM phi_lookup('anchor one');" > /dev/null
read -r A1 H1 X1 <<< "$(anchor_of "$M" lookup)"
M=$(log_mark); run_as sec_admin <<< "SELECT count(*) FROM phi_lookup('anchor two');" > /dev/null
read -r A2 H2 X2 <<< "$(anchor_of "$M" lookup)"
M=$(log_mark); run_as sec_admin <<< "BEGIN; SELECT count(*) FROM phi_lookup('rolled back'); ROLLBACK;" > /dev/null
read -r AR XR <<< "$(written_of "$M" lookup)"
check "8a: the LOG lines carry anchors (audit_id, hash, xid), and a trace of the rolled-back call" "3" "$(printf '%s\n' "$A1" "$A2" "$AR" | grep -cE '^[0-9]+$')"
check "8a: a committed anchor verifies" "t" "$(verify "$A2, '\\x$H2', '$X2'")"
check "8a: an anchor from a rolled-back call is no anchor (ok stays true)" "t" "$(verify "$AR, '\\x00', '$XR'")"
check "8a: a wrong hash for a committed anchor is detected" "f" "$(verify "$A2, '\\x00', '$X2'")"
sq -c "BEGIN" -c "SET LOCAL session_replication_role = replica" -c "DELETE FROM phi_vault.audit_log WHERE chain_seq >= (SELECT chain_seq FROM phi_vault.audit_log WHERE audit_id = $A1)" -c "COMMIT" > /dev/null
check "8a: deleting the tail (triggers disabled) is detected without an anchor" "f" "$(verify "")"
check "8a: ... and with the anchor (id, hash, xid) of a deleted row" "f" "$(verify "$A2, '\\x$H2', '$X2'")"
sq -c "UPDATE phi_vault.audit_chain_head SET (last_seq, max_id, last_hash) = (SELECT chain_seq, (SELECT max(audit_id) FROM phi_vault.audit_log), hash FROM phi_vault.audit_log ORDER BY chain_seq DESC LIMIT 1)" > /dev/null
check "8a: setup: with the head rewound too, a verify without anchor sees nothing (so the anchors below matter)" "t" "$(verify "")"
check "8a: deleted tail + rewound head: the anchor (id, hash, xid) of a deleted row detects it" "f" "$(verify "$A2, '\\x$H2', '$X2'")"
check "8a: deleted tail + rewound head: the anchor (id, hash) — the contract's two-argument form — detects it" "f" "$(verify "$A2, '\\x$H2'")"
sq -c "BEGIN" -c "SET LOCAL session_replication_role = replica" \
   -c "UPDATE phi_vault.audit_log SET detail = '{\"rewritten\": true}' WHERE chain_seq = 2" -c "COMMIT" > /dev/null
check "8a: a rewritten row in the middle is detected" "f" "$(verify "")"

# ------------------------------------------------------------------------------------------
# Last: nobody became superuser; no key bytes in the server log outside statement texts.
for l in "${ROLES[@]}"; do
    check "end $l: not a superuser after the whole suite" "f" "$(sq -c "SELECT rolsuper FROM pg_roles WHERE rolname = '${R[$l]}'")"
done
check "end: no PWNED line with a foreign current_user in the server log" "" \
    "$(log_since "$LOG_START" | grep -oE 'PWNED current_user=[^ ]+ session_user=[^ ]+' | awk '{split($2,a,"="); split($3,b,"="); if (a[2] != b[2]) print $0}' | sort -u | tr '\n' ' ')"
check "end: no key bytes in the server log (statement texts aside)" absent \
    "$(key_in "$(log_since "$LOG_START" | grep -vE 'STATEMENT:|statement:')")"

summary security
