#!/usr/bin/env bash
# The malformed-VCF corpus (tests/pg_regress/sql/13_malformed.sql loads every file): each case
# is made here from a small valid file, so a reader sees exactly what is wrong with it.
#   bash tests/malformed/make.sh DIR
set -euo pipefail
D=$1
# Deterministic "random" bytes (AES-CTR of zeros), so outcomes never depend on luck.
noise() { head -c "$1" /dev/zero | openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 0 2>/dev/null; }
rm -rf "$D"; mkdir -p "$D"; cd "$D"

H='##fileformat=VCFv4.2
##contig=<ID=1>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##INFO=<ID=AF,Number=A,Type=Float,Description="AF">
##INFO=<ID=NOTE,Number=1,Type=String,Description="Free text">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">'
C=$'#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tMAL_S1\tMAL_S2'
R=$'1\t100\trs1\tA\tC,G\t50\tPASS\tDP=10;AF=0.1,0.2\tGT:DP\t0/1:5\t1/2:7'
R2=$'1\t200\t.\tT\tTA\t60\tPASS\tDP=12;AF=0.3\tGT:DP\t0/0:6\t0/1:8'
# vcf NAME LINE...: header, #CHROM line, then the given record lines
vcf() { local f=$1; shift; { printf '%s\n%s\n' "$H" "$C"; for l in "$@"; do printf '%s\n' "$l"; done; } > "$f"; }
# rec FIELD_INDEX VALUE: the good record R2 with one tab-separated field replaced
rec() { awk -F'\t' -v OFS='\t' -v i="$1" -v v="$2" '{ $i = v; print }' <<< "$R2"; }

# --- files that are not VCF at all
: > empty.vcf
noise 4096 > random_bytes.vcf
noise 4096 | gzip -nc > gzip_of_garbage.vcf.gz
printf 'this is not a vcf\n' > plain_text.vcf
# --- header problems
printf '%s\n%s\n' "$H" "$C" > header_only.vcf
{ printf '%s\n' "$H"; printf '%s\n' "$R"; } > missing_chrom_line.vcf
{ printf '%s\n' "$H" | sed 1d; printf '%s\n%s\n' "$C" "$R"; } > missing_fileformat.vcf
{ printf '%s\n' "$H"; printf '#CHROM\tPOS\tID\n%s\n' "$R"; } > chrom_line_too_short.vcf
{ printf '%s\n' "$H"; printf '%s\n' "${C/MAL_S2/MAL_S1}"; printf '%s\n' "$R"; } > duplicate_samples.vcf
{ printf '%s\n%s\n##late=header line\n%s\n' "$H" "$C" "$R"; } > meta_line_after_chrom_line.vcf
# 100,000 samples (the header alone is ~1.2 MB), two records
awk -v n=100000 -v h="$H" 'BEGIN {
    print h; printf "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT";
    for (i = 1; i <= n; i++) printf "\tMAL_W%06d", i; printf "\n";
    for (r = 1; r <= 2; r++) { printf "1\t%d\t.\tA\tC\t50\tPASS\tDP=1\tGT", r * 100;
        for (i = 1; i <= n; i++) printf "\t%s", (i % 7 == 0 ? "0/1" : "0/0"); printf "\n" } }' > samples_100000.vcf
# --- column count and fixed columns
vcf too_few_columns.vcf "$(cut -f1-10 <<< "$R")"
vcf too_many_columns.vcf "$R"$'\t0/1:3'
vcf pos_not_numeric.vcf "$(rec 2 12x)"
vcf pos_negative.vcf "$(rec 2 -5)"
vcf pos_overflow.vcf "$(rec 2 99999999999999999999)"
vcf pos_empty.vcf "$(rec 2 '')"
vcf ref_illegal_characters.vcf "$(rec 4 'A1')"
vcf ref_empty.vcf "$(rec 4 '')"
vcf alt_empty_allele.vcf "$(rec 5 'C,')"
vcf alt_with_space.vcf "$(rec 5 'C G')"
vcf qual_not_numeric.vcf "$(rec 6 'high')"
vcf chrom_empty.vcf "$(rec 1 '')"
vcf info_end_not_integer.vcf "$(rec 8 'DP=3;END=abc')"
# 2,000 ALT alleles on a 600 kB record: each ALT row would slice the whole record (~1.2 GB of
# work and output) — refused before any work
awk 'BEGIN { printf "1\t400\t.\tA\t"; for (i = 1; i <= 2000; i++) { printf "%sA", (i > 1 ? "," : ""); for (j = 0; j < i % 11; j++) printf "C" }
             printf "\t.\t.\tDP=1\tGT:DP\t0/1:"; for (i = 0; i < 600000; i++) printf "1"; printf "\t0/1:1\n" }' > too_many_alts.body
vcf too_many_alts_for_its_size.vcf "$(cat too_many_alts.body)"; rm too_many_alts.body
# --- genotypes
vcf gt_0_x.vcf "$(rec 10 '0/x:5')"
vcf gt_allele_out_of_range.vcf $'1\t300\t.\tA\tC,G\t50\tPASS\tDP=3\tGT:DP\t5/5:3\t0/1:4'
vcf gt_garbage.vcf "$(rec 10 'a|b:5')"
vcf sample_more_fields_than_format.vcf "$(rec 10 '0/1:5:99')"
# --- invalid UTF-8 (byte 0xff) in each column, and NUL bytes
i=0
for col in CHROM POS ID REF ALT QUAL FILTER INFO FORMAT SAMPLE; do
    i=$((i + 1))
    case $col in
        INFO) v=$'DP=3;NOTE=x\xffy' ;;
        FORMAT) v=$'GT:D\xff' ;;
        SAMPLE) v=$'0/1:\xff' ;;
        *) v=$'\xff' ;;
    esac
    vcf "invalid_utf8_$(tr A-Z a-z <<< "$col").vcf" "$(rec "$i" "$v")"
done
vcf nul_in_info.vcf "$(rec 8 'DP=3;NOTE=aXb')"; sed -i 's/NOTE=aXb/NOTE=a\x00b/' nul_in_info.vcf
vcf nul_in_sample.vcf "$(rec 10 '0/1:5X')"; sed -i 's/0\/1:5X/0\/1:5\x00/' nul_in_sample.vcf
# --- compression
vcf good.vcf "$R" "$R2"
bgzip -c good.vcf > good.vcf.gz
head -c 200 good.vcf.gz > truncated_bgzf.vcf.gz
gzip -nc good.vcf | head -c 150 > truncated_gzip.vcf.gz
gzip -nc good.vcf > plain_gzip_not_bgzf.vcf.gz
cp good.vcf plain_text_named_gz.vcf.gz
{ cat good.vcf.gz; noise 64; } > bgzf_then_garbage.vcf.gz
# --- what htslib tolerates (loads, warnings counted)
sed 's/$/\r/' good.vcf > crlf_line_endings.vcf
{ printf '%s\n%s\n%s\n\n%s\n' "$H" "$C" "$R" "$R2"; } > blank_line_in_middle.vcf
printf '%s\n%s\n%s\n%s' "$H" "$C" "$R" "$R2" > no_final_newline.vcf
vcf undeclared_contig_and_info.vcf "$(rec 1 chr99)" "$(rec 8 'XX=1;DP=2')"
{ printf '%s\n%s\n1\t200\t.\tT\tTA\t60\tPASS\tDP=12;NOTE=' "$H" "$C"
  head -c 10000000 /dev/zero | tr '\0' 'A'; printf '\tGT:DP\t0/0:6\t0/1:8\n'; } > info_10mb.vcf
# --- not regular files, missing, unreadable, loops
mkdir a_directory.vcf
mkfifo a_fifo.vcf
ln -s loop_b.vcf loop_a.vcf; ln -s loop_a.vcf loop_b.vcf
cp good.vcf unreadable.vcf; chmod 000 unreadable.vcf
