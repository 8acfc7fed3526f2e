#!/usr/bin/env bash
# Every real file of shared/data/vcf (scripts/test.sh copies them to $FX/data) loaded with
# vcf_load and compared field by field against htslib's reading of the same file, which is
# independent of our parser. scripts/test.sh runs this inside a throw-away cluster that preloads
# the library (pg_virtualenv sets PGHOST/PGPORT/PGUSER). One line per file and kind:
#   ok   <file>: <kind> <equal>/<total>     or     FAIL <file>: <kind> <equal>/<total>: …
#   rows    one row per ALT: chrom, pos, ref, alt of `bcftools norm -m-any --no-version`
#           (no reference). Without -f bcftools splits but does not trim shared bases
#           (`CTT CT,C` stays `CTT>CT`, `CTT>C`), so we load with "normalize" => false.
#   site    id, qual, filter, end_pos of those rows (`bcftools query %ID %QUAL %FILTER %END`).
#   info    every Number=A / Number=R INFO value of every row, as bcftools norm slices it.
#   dosage  every genotype: copies of the row's ALT = the 1s of the GT bcftools norm recodes
#           for that split record; any missing allele (or no GT) -> NULL.
#   format  every Number=A / R / G FORMAT value of every genotype (AD from the ad column),
#           as bcftools norm slices it.
#   gene    the stored gene is one the annotator gave that record / ALT: VEP's field (found
#           by its header description) through `bcftools +split-vep` (SYMBOL, else Gene; by
#           ALLELE_NUM when the layout has it, else any entry of the record); SnpEff ANN and
#           bcftools BCSQ through `bcftools query` and awk (split-vep 1.16 refuses BCSQ: its
#           layout has no field named "Consequence"). No annotation field: gene is NULL.
# Where bcftools cannot read a file: `skip <file>: bcftools: <message>`, never a silent pass.
# Sites-only files: `skip <file>: dosage: …` (and format); no such key: `skip <file>: info: …`.
set -uo pipefail
FX=${FX:-/tmp/vcf_pg_loader_regress}
OUT=${1:-/tmp/vcf_pg_loader_test/oracle}
mkdir -p "$OUT"; chmod 777 "$OUT" 2>/dev/null || true
DB=oracle
export PGOPTIONS="-c vcf_pg_loader.phi_key_file=$FX/keys/a.keys -c client_min_messages=warning"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
source "$(dirname "$0")/../checks.sh"
# check_count FILE KIND "EQUAL TOTAL": one ok/FAIL line, "<kind> <equal>/<total>"
check_count() {
    local eq=${3% *} tot=${3#* }
    check "$1: $2 $eq/$tot" "$tot" "$eq"
}

dropdb --if-exists "$DB"; createdb "$DB"
q -c "CREATE EXTENSION vcf_pg_loader"
q <<'SQL'
-- A jsonb INFO value printed as bcftools prints it: lists joined by ',', missing as '.'.
CREATE FUNCTION oracle_text(j jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE jsonb_typeof(j)
           WHEN 'array' THEN (SELECT string_agg(CASE jsonb_typeof(e) WHEN 'null' THEN '.' ELSE e #>> '{}' END, ',' ORDER BY n)
                                FROM jsonb_array_elements(j) WITH ORDINALITY AS x(e, n))
           WHEN 'null' THEN '.'
           ELSE j #>> '{}' END $$;
-- Equal as text, or for Floats element by element as numbers: htslib holds a Float as a
-- 32-bit float and prints 6 significant digits (0.0000318593 -> 3.18593e-05); we keep the
-- number as written.
CREATE FUNCTION oracle_same(ours text, theirs text, typ text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE a text[]; b text[]; x float8; y float8;
BEGIN
  IF ours IS NOT DISTINCT FROM theirs THEN RETURN true; END IF;
  IF ours IS NULL OR theirs IS NULL OR typ <> 'Float' THEN RETURN false; END IF;
  a := string_to_array(ours, ','); b := string_to_array(theirs, ',');
  IF cardinality(a) <> cardinality(b) THEN RETURN false; END IF;
  FOR i IN 1 .. cardinality(a) LOOP
    CONTINUE WHEN a[i] = b[i];
    BEGIN x := a[i]::float8; y := b[i]::float8;
    EXCEPTION WHEN others THEN RETURN false; END;
    CONTINUE WHEN x = y;
    IF abs(x - y) > 6e-6 * greatest(abs(x), abs(y)) THEN RETURN false; END IF;
  END LOOP;
  RETURN true;
END $$;
SQL

# norm_input FILE WORKDIR: sets IN (what bcftools reads: the file, or a copy in WORKDIR with
# what htslib assumed declared) and FORCE, after running bcftools norm -m-any into
# WORKDIR/norm.vcf; returns 1 (and sets WHY) when bcftools cannot split the file at all.
# bcftools 1.16 reads undeclared contigs and INFO/FORMAT keys (warning, "assuming
# Type=String") but then cannot write them (it wrote the header first): we declare them as
# htslib itself does (`Number=1,Type=String,Description="Dummy"`) and run it again. A
# Number=A/R value with the wrong count stops it ("wrong number of fields"): then --force,
# which drops that value from the split records (compared in `info` by the rule below).
norm_input() {
    local f=$1 w=$2 i err
    IN=$f FORCE=() WHY=
    : > "$w/extra.hdr"
    for i in 1 2 3 4 5 6 7 8; do
        if bcftools norm -m-any --no-version "${FORCE[@]}" -Ov -o "$w/norm.vcf" "$IN" 2> "$w/norm.err"; then
            return 0
        fi
        err=$(grep -m1 -E '^(Error|\[E::)' "$w/norm.err" || head -1 "$w/norm.err")
        [ -z "$WHY" ] && WHY=$err
        local before
        before=$(wc -l < "$w/extra.hdr")
        sed -nE "s/^\[W::vcf_parse\] Contig '([^']+)' is not defined.*/##contig=<ID=\1>/p;
                 s/^\[W::vcf_parse_info\] INFO '([^']+)' is not defined.*/##INFO=<ID=\1,Number=1,Type=String,Description=\"Dummy\">/p;
                 s/^\[W::vcf_parse_format\] FORMAT '([^']+)' .*not defined.*/##FORMAT=<ID=\1,Number=1,Type=String,Description=\"Dummy\">/p" \
            "$w/norm.err" >> "$w/extra.hdr"
        sort -u -o "$w/extra.hdr" "$w/extra.hdr"
        if [ "$(wc -l < "$w/extra.hdr")" != "$before" ]; then
            bcftools annotate --no-version -h "$w/extra.hdr" -Ov -o "$w/input.vcf" "$f" 2>/dev/null || { WHY="$err"; return 1; }
            IN=$w/input.vcf
            echo "note $(basename "$f"): bcftools norm: $err — declared as htslib assumes them: $(sed -E 's/^##([A-Za-z]+)=<ID=([^,>]+).*/\1 \2/' "$w/extra.hdr" | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
        elif [ ${#FORCE[@]} = 0 ] && grep -q 'wrong number of fields' "$w/norm.err"; then
            FORCE=(--force)
            echo "note $(basename "$f"): bcftools norm: $err — split with --force; such values are kept whole (docs/loading.md: a Number=A/R count that does not match is not sliced)"
        else
            WHY=$err; return 1
        fi
    done
    return 1
}

files=("$FX"/data/*)
check "real files to compare in $FX/data" "t" "$([ -e "${files[0]}" ] && echo t || echo "none")"
# split_keys INFO|FORMAT 'A|R': the header's keys of those Numbers (the header on stdin)
split_keys() {
    awk -v kind="$1" -v nums="^($2)$" '
        index($0, "##" kind "=<ID=") == 1 {
            id = substr($0, length(kind) + 8); sub(/[,>].*/, "", id)
            if (seen[id]++) next
            n = $0; if (!match(n, /Number=[^,>]*/)) next; n = substr(n, RSTART + 7, RLENGTH - 7)
            t = $0; if (!match(t, /Type=[^,>]*/)) next; t = substr(t, RSTART + 5, RLENGTH - 5)
            if (n ~ nums) print ++k "\t" id "\t" n "\t" t
        }'
}

for path in "${files[@]}"; do
    [ -e "$path" ] || continue
    f=$(basename "$path")
    w="$OUT/files/$f"; rm -rf "$w"; mkdir -p "$w"
    id=$(q -c "SELECT load_batch_id FROM vcf_load('$path', \"normalize\" => false)" 2> "$w/load.err")
    if [ -z "$id" ]; then
        check "$f: vcf_load" "loaded" "$(head -1 "$w/load.err")"
        continue
    fi
    nsamples=$(bcftools query -l "$path" 2>/dev/null | wc -l)
    # Number=A and Number=R INFO keys, Number=A/R/G FORMAT keys but GT (htslib keeps the first
    # definition of an ID), in order: ord, id, Number, Type.
    bcftools view -h "$path" > "$w/header.txt" 2>/dev/null
    split_keys INFO 'A|R' < "$w/header.txt" > "$w/keys.tsv"
    split_keys FORMAT 'A|R|G' < "$w/header.txt" | awk -F'\t' '$2 != "GT"' > "$w/fkeys.tsv"

    # Our rows: the key is chrom:pos:ref:alt:k (k-th row with those four, in file order), rec
    # the record (1 = the file's first), n_alt that record's ALT count.
    q -c "CREATE TABLE ours AS
          SELECT r.*, r.k0 || ':' || row_number() OVER (PARTITION BY r.k0 ORDER BY r.source_line, r.alt_index) AS rowkey
            FROM (SELECT v.variant_id, v.source_line, v.alt_index, v.pos, v.alt, v.id, v.qual, v.filter, v.end_pos, v.info, v.gene,
                         v.chrom || ':' || v.pos || ':' || v.ref || ':' || coalesce(v.alt, '.') AS k0,
                         dense_rank() OVER (ORDER BY v.source_line) AS rec,
                         count(v.alt) OVER (PARTITION BY v.source_line) AS n_alt
                    FROM vcf.variants v WHERE v.load_batch_id = '$id') r"

    if ! norm_input "$path" "$w"; then
        echo "skip $f: bcftools: $WHY"
        echo "skip $f: rows, site, info, dosage, format not compared (bcftools norm cannot split it)"
    else
        # The split records, one line each: row key and site fields, then the A/R values,
        # then per sample its GT and A/R/G FORMAT values (joined by US, \x1f).
        fmt='%CHROM\t%POS\t%REF\t%ALT\t%ID\t%QUAL\t%FILTER\t%END'
        while IFS=$'\t' read -r _ key _ _; do fmt+="\t%INFO/$key"; done < "$w/keys.tsv"
        # No FORMAT/GT declared (Strelka's somatic files): no sample has a call, every
        # dosage is NULL (bcftools query refuses %GT then; %SAMPLE keeps the columns).
        nogt=0
        if [ "$nsamples" -gt 0 ]; then
            bcftools view -h "$w/norm.vcf" > "$w/norm.hdr"
            if grep -q '^##FORMAT=<ID=GT,' "$w/norm.hdr"; then fmt+='[\t%GT'; else fmt+='[\t%SAMPLE'; nogt=1; fi
            while IFS=$'\t' read -r _ key _ _; do fmt+=$'\x1f'"%$key"; done < "$w/fkeys.tsv"
            fmt+=']'
        fi
        if ! bcftools query -f "$fmt\n" "$w/norm.vcf" > "$w/norm.tsv" 2> "$w/query.err"; then
            echo "skip $f: bcftools query: $(head -1 "$w/query.err")"
        fi
        awk -F'\t' -v nk="$(wc -l < "$w/keys.tsv")" -v nogt="$nogt" -v dir="$w" '
            FILENAME ~ /\/keys.tsv$/ { key[$1] = $2; next }
            FILENAME ~ /\/fkeys.tsv$/ { fkey[$1] = $2; nf = $1; next }
            {
                k = $1 ":" $2 ":" $3 ":" $4; rk = k ":" (++occ[k])
                print rk "\t" $5 "\t" $6 "\t" $7 "\t" $8 > (dir "/rows.tsv")
                for (i = 1; i <= nk; i++) { v = $(8 + i); if (v != ".") print rk "\t" key[i] "\t" v > (dir "/info.tsv") }
                for (s = 9 + nk; s <= NF; s++) {
                    split($s, sv, "\037"); smp = s - 9 - nk
                    n = nogt ? split(".", a, ",") : split(sv[1], a, /[\/|]/); d = 0
                    for (j = 1; j <= n; j++) { if (a[j] == ".") { d = "\\N"; break } if (a[j] == "1") d++ }
                    print rk "\t" smp "\t" d > (dir "/gt.tsv")
                    for (i = 1; i <= nf; i++) if (sv[1 + i] != ".") print rk "\t" smp "\t" fkey[i] "\t" sv[1 + i] > (dir "/fmt.tsv")
                }
            }' "$w/keys.tsv" "$w/fkeys.tsv" "$w/norm.tsv"
        touch "$w/rows.tsv" "$w/info.tsv" "$w/gt.tsv" "$w/fmt.tsv"
        # The unsplit records' A/R values whose count does not match the ALTs: kept whole by
        # vcf_load (docs/loading.md, "kept whole and counted"); htslib's norm refuses them
        # (or drops them with --force), so the whole value as bcftools prints it is expected.
        fmt='%ALT'
        while IFS=$'\t' read -r _ key _ _; do fmt+="\t%INFO/$key"; done < "$w/keys.tsv"
        bcftools query -f "$fmt\n" "$IN" 2>/dev/null | awk -F'\t' -v dir="$w" '
            FILENAME ~ /keys.tsv$/ { key[$1] = $2; num[$1] = $3; nk = $1; next }
            {
                na = ($1 == ".") ? 0 : split($1, x, ",")
                for (i = 1; i <= nk; i++) {
                    v = $(1 + i); if (v == ".") continue
                    c = split(v, y, ","); want = (num[i] == "A") ? na : na + 1
                    if (c != want) print FNR "\t" key[i] "\t" v > (dir "/whole.tsv")
                }
            }' "$w/keys.tsv" -
        touch "$w/whole.tsv"
        [ -s "$w/whole.tsv" ] && echo "note $f: $(wc -l < "$w/whole.tsv") Number=A/R value(s) whose count does not match the ALTs: expected kept whole ($(cut -f2 "$w/whole.tsv" | sort -u | tr '\n' ' ' | sed 's/ $//'))"

        res=$(q 2> "$w/compare.err" <<SQL
CREATE TEMP TABLE t_rows (rowkey text, id text, qual text, filter text, end_pos text);
CREATE TEMP TABLE t_info (rowkey text, key text, value text);
CREATE TEMP TABLE t_gt (rowkey text, sample_index int, dosage int);
CREATE TEMP TABLE t_whole (rec bigint, key text, value text);
CREATE TEMP TABLE t_keys (ord int, key text, number text, type text);
CREATE TEMP TABLE t_fmt (rowkey text, sample_index int, key text, value text);
CREATE TEMP TABLE t_fkeys (ord int, key text, number text, type text);
\copy t_fmt FROM '$w/fmt.tsv'
\copy t_fkeys FROM '$w/fkeys.tsv'
\copy t_rows FROM '$w/rows.tsv'
\copy t_info FROM '$w/info.tsv'
\copy t_gt FROM '$w/gt.tsv'
\copy t_whole FROM '$w/whole.tsv'
\copy t_keys FROM '$w/keys.tsv'
-- rows: present on both sides / present on either
SELECT 'rows', count(*) FILTER (WHERE o.rowkey IS NOT NULL AND t.rowkey IS NOT NULL), count(*)
  FROM ours o FULL JOIN t_rows t USING (rowkey);
-- site: id, qual, filter, end_pos of the rows both have; end_pos not compared where END is
-- absent and SVLEN present (docs/loading.md: pos + |SVLEN| for <DEL>/<DUP>/<CNV>/<INV>, as
-- VCF 4.4 and htslib >= 1.22 do; bcftools 1.16 ends those at pos + len(ref) - 1).
SELECT 'site', count(*) FILTER (WHERE coalesce(o.id, '.') = t.id
                                  AND oracle_same(coalesce(o.qual::text, '.'), t.qual, 'Float')
                                  AND coalesce(array_to_string(o.filter, ';'), '.') = t.filter
                                  AND (o.end_pos::text = t.end_pos OR (o.info ? 'SVLEN' AND NOT o.info ? 'END'))),
       count(*)
  FROM ours o JOIN t_rows t USING (rowkey);
-- info: each A/R value either side has (missing on both sides is not counted)
WITH expected AS (
    SELECT t.rowkey, t.key, t.value FROM t_info t
     WHERE NOT EXISTS (SELECT 1 FROM ours o JOIN t_whole w ON w.rec = o.rec WHERE o.rowkey = t.rowkey AND w.key = t.key)
    UNION ALL
    SELECT o.rowkey, w.key, w.value FROM ours o JOIN t_whole w ON w.rec = o.rec),
mine AS (
    SELECT o.rowkey, e.key, oracle_text(e.value) AS value
      FROM ours o CROSS JOIN LATERAL jsonb_each(o.info) e JOIN t_keys k ON k.key = e.key
     WHERE oracle_text(e.value) <> '.')
SELECT 'info', count(*) FILTER (WHERE oracle_same(m.value, x.value, k.type)), count(*)
  FROM mine m FULL JOIN expected x USING (rowkey, key) LEFT JOIN t_keys k USING (key);
-- dosage: every (row, sample) either side has
SELECT 'dosage', count(*) FILTER (WHERE o.rowkey IS NOT NULL AND t.rowkey IS NOT NULL AND o.alt_dosage IS NOT DISTINCT FROM t.dosage), count(*)
  FROM (SELECT o.rowkey, s.sample_index, g.alt_dosage::int AS alt_dosage
          FROM ours o JOIN vcf.genotypes g USING (variant_id)
          JOIN vcf.samples s ON s.load_batch_id = '$id' AND s.anonymous_id = g.anonymous_id) o
  FULL JOIN t_gt t USING (rowkey, sample_index);
-- format: each A/R/G FORMAT value of every (row, sample) either side has; AD is in the ad
-- column when it is per allele, else in format (docs/loading.md, "Genotypes")
WITH mine AS (
    SELECT o.rowkey, s.sample_index, k.key,
           CASE WHEN k.key = 'AD' AND g.ad IS NOT NULL THEN array_to_string(g.ad, ',', '.') ELSE oracle_text(g.format->k.key) END AS value
      FROM ours o JOIN vcf.genotypes g USING (variant_id)
      JOIN vcf.samples s ON s.load_batch_id = '$id' AND s.anonymous_id = g.anonymous_id
      CROSS JOIN t_fkeys k)
SELECT 'format', count(*) FILTER (WHERE oracle_same(m.value, t.value, k.type)), count(*)
  FROM (SELECT * FROM mine WHERE value IS NOT NULL AND value <> '.') m
  FULL JOIN t_fmt t USING (rowkey, sample_index, key) LEFT JOIN t_fkeys k USING (key);
SQL
)
        [ -z "$res" ] && check "$f: comparison query" "ran" "$(grep -m1 ERROR "$w/compare.err")"
        while read -r kind eq tot; do
            [ -z "$kind" ] && continue
            case $kind in
                info) if [ ! -s "$w/keys.tsv" ]; then echo "skip $f: info: no Number=A or Number=R INFO key in the header"; continue; fi ;;
                dosage) if [ "$nsamples" = 0 ]; then echo "skip $f: dosage: no samples (sites-only file)"; continue; fi ;;
                format) if [ "$nsamples" = 0 ]; then echo "skip $f: format: no samples (sites-only file)"; continue; fi
                        if [ ! -s "$w/fkeys.tsv" ]; then echo "skip $f: format: no Number=A, R or G FORMAT key in the header"; continue; fi ;;
            esac
            check_count "$f" "$kind" "$eq $tot"
        done <<< "$(tr '|' ' ' <<< "$res")"
    fi

    # --- gene: candidates (rec, alt_num or \N = any ALT, allele or \N = any, gene or \N)
    : > "$w/genes.tsv"
    fields=$(bcftools view -h "$IN" 2>/dev/null | awk '
        /^##INFO=<ID=/ {
            id = $0; sub(/^##INFO=<ID=/, "", id); sub(/[,>].*/, "", id)
            d = $0; sub(/.*Description="/, "", d)
            if (!vep && ((d ~ /Ensembl VEP/ && d ~ /Format: /) || (d ~ /Format: *'"'"'?Allele\|/ && d ~ /Consequence/))) { vep = 1; print "VEP " id; next }
            if (id == "ANN" && d ~ /Allele \| Annotation/) print "ANN " id
            if (id == "BCSQ") print "BCSQ " id
        }')
    ok_gene=1
    while read -r how field; do
        [ -z "$how" ] && continue
        case $how in
            VEP)
                layout=$(bcftools +split-vep -l -a "$field" "$IN" 2>&1 | cut -f2)
                cols=SYMBOL,Gene; grep -qx ALLELE_NUM <<< "$layout" && cols+=,ALLELE_NUM
                if ! grep -qx SYMBOL <<< "$layout" || ! grep -qx Gene <<< "$layout"; then
                    echo "skip $f: gene: bcftools +split-vep -a $field: no SYMBOL/Gene in the layout"; ok_gene=0; continue
                fi
                qf='%INFO/ORACLE_SYMBOL\t%INFO/ORACLE_Gene'; [[ $cols == *ALLELE_NUM ]] && qf+='\t%INFO/ORACLE_ALLELE_NUM'
                if ! bcftools +split-vep -a "$field" -c "$cols" -p ORACLE_ "$IN" 2> "$w/vep.err" | bcftools query -f "$qf\n" > "$w/vep.tsv" 2>> "$w/vep.err"; then
                    echo "skip $f: gene: bcftools: $(head -1 "$w/vep.err")"; ok_gene=0; continue
                fi
                awk -F'\t' '{
                    if ($1 == "." && $2 == "." && ($3 == "" || $3 == ".")) next
                    n = split($1, s, ","); split($2, g, ","); if (NF > 2) split($3, an, ",")
                    for (i = 1; i <= n; i++) {
                        gene = (s[i] != "" && s[i] != ".") ? s[i] : ((g[i] != "" && g[i] != ".") ? g[i] : "\\N")
                        num = (NF > 2 && an[i] != "" && an[i] != ".") ? an[i] : "\\N"
                        print NR "\t" num "\t\\N\t" gene
                    }
                }' "$w/vep.tsv" >> "$w/genes.tsv"
                echo "note $f: gene: VEP field $field via bcftools +split-vep ($cols)" ;;
            ANN|BCSQ)
                if ! bcftools query -f "%INFO/$field\n" "$IN" > "$w/ann.tsv" 2> "$w/ann.err"; then
                    echo "skip $f: gene: bcftools: $(grep -m1 -E '^(Error|\[E::)' "$w/ann.err" || head -1 "$w/ann.err")"; ok_gene=0; continue
                fi
                # ANN: Allele|Annotation|Annotation_Impact|Gene_Name|… (Gene_Name, by Allele)
                # BCSQ: consequence|gene|… (gene, any ALT of the record; '@POS' entries point elsewhere)
                awk -F'\t' -v how="$how" '$1 != "." {
                    n = split($1, e, ",")
                    for (i = 1; i <= n; i++) {
                        if (how == "BCSQ" && e[i] ~ /^@/) continue
                        split(e[i], p, "|")
                        if (how == "ANN") print NR "\t\\N\t" p[1] "\t" (p[4] == "" ? "\\N" : p[4])
                        else print NR "\t\\N\t\\N\t" (p[2] == "" ? "\\N" : p[2])
                    }
                }' "$w/ann.tsv" >> "$w/genes.tsv"
                echo "note $f: gene: $how field $field via bcftools query" ;;
        esac
    done <<< "$fields"
    [ -z "$fields" ] && echo "note $f: gene: no annotation field (VEP, ANN, BCSQ) in the header: every row's gene must be NULL"
    if [ "$ok_gene" = 1 ]; then
        records=$(bcftools view -H "$IN" 2>/dev/null | wc -l)
        res=$(q 2> "$w/gene.err" <<SQL
CREATE TEMP TABLE t_genes (rec bigint, alt_num int, allele text, gene text);
\copy t_genes FROM '$w/genes.tsv'
-- A row is right when its gene is one of its candidates, or NULL when it has none; every
-- row is wrong when the records do not line up (rec is the record's ordinal on both sides).
SELECT count(*) FILTER (WHERE (SELECT count(DISTINCT rec) FROM ours) = $records AND
         CASE WHEN c.n = 0 THEN o.gene IS NULL ELSE c.hit END), count(*)
  FROM ours o
  CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(bool_or(g.gene IS NOT DISTINCT FROM o.gene), false) AS hit
                        FROM t_genes g
                       WHERE g.rec = o.rec AND (g.alt_num IS NULL OR g.alt_num = o.alt_index)
                         AND (g.allele IS NULL OR lower(g.allele) = lower(o.alt))) c;
SQL
)
        if [ -z "$res" ]; then check "$f: gene query" "ran" "$(grep -m1 ERROR "$w/gene.err")"
        else check_count "$f" gene "$(tr '|' ' ' <<< "$res")"; fi
    fi
    q -c "DROP TABLE ours"
done

summary oracle
