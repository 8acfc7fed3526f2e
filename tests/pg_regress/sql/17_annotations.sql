SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';
-- Annotations and the other per-ALT fields, on tests/data/fidelity_cases.vcf: one record per
-- case of docs/loading.md ("Decomposition"), written the way each tool writes it. Every
-- query below reads only this file's load (its own load_batch_id), so earlier tests do not
-- matter. The NOTICE counting the file's lenient warnings is not shown.
SET client_min_messages = warning;
SELECT load_batch_id AS fidelity FROM vcf_load('/tmp/vcf_pg_loader_regress/local/fidelity_cases.vcf') \gset
RESET client_min_messages;
-- 7 records, 9 rows: two records have two ALTs; 2 samples.
SELECT variants, genotypes, samples FROM vcf.load_batches WHERE load_batch_id = :'fidelity';
CREATE TEMP VIEW fidelity AS SELECT * FROM vcf.variants WHERE load_batch_id = :'fidelity';

-- VEP under another INFO id: the file's VEP output is in INFO `vep` (as gnomAD writes it),
-- found by its header description ("Consequence annotations from Ensembl VEP. Format: …"),
-- not by the name CSQ.
SELECT id, info ? 'CSQ' AS has_csq, jsonb_array_length(info->'vep') AS vep_entries, gene, consequence, impact
  FROM fidelity WHERE id = 'DEL1';

-- VEP on a symbolic SV: for <DEL> VEP writes the Allele as the SO term "deletion", not as
-- the ALT; that entry belongs to the <DEL> row. Of its two transcripts the most severe wins
-- (transcript_ablation HIGH over NBR2's upstream_gene_variant MODIFIER).
SELECT pos, ref, alt, end_pos, gene, consequence, impact FROM fidelity WHERE id = 'DEL1';

-- The `*` allele: `AT A,*` is annotated by VEP with the first base removed from every ALT
-- but `*` (so the deletion is "-", and `*` stays `*`). The entry "-" is the deletion's; the
-- `*` row (an overlapping deletion) gets no gene. The genotype 1/2 holds one copy of each.
SELECT v.alt_index, v.alt, v.gene, v.consequence, v.impact, g.gt, g.alt_dosage
  FROM fidelity v JOIN vcf.genotypes g USING (variant_id)
  JOIN vcf.samples s ON s.load_batch_id = v.load_batch_id AND s.anonymous_id = g.anonymous_id
 WHERE v.pos = 1000 AND s.sample_index = 1
 ORDER BY v.alt_index;

-- BCSQ per ALT: bcftools csq names the ALT of each entry in its dna_change (2000A>C,
-- 2000A>G); each row takes its own entry, and the impact comes from the consequence
-- (BCSQ has no IMPACT field): missense MODERATE, synonymous LOW.
SELECT alt_index, alt, gene, consequence, impact, info->'BCSQ'->>(alt_index - 1) AS its_entry
  FROM fidelity WHERE pos = 2000 ORDER BY alt_index;

-- SnpEff ANN: the Allele is compared without regard to case (`t` names ALT `T`).
SELECT alt, gene, consequence, impact FROM fidelity WHERE pos = 5000;

-- end_pos: INFO END when present (DEL1); else, for a symbolic <DEL>, pos + |SVLEN| (DEL2:
-- SVLEN=-5000), as VCF 4.4 and htslib >= 1.22 compute it; else pos + len(REF) - 1 (the
-- deletion AT>A ends at 1001). `END=.` counts as absent (the record with no ALT, pos 4000).
SELECT pos, id, ref, alt, info->'END' AS "END", info->'SVLEN' AS svlen, end_pos
  FROM fidelity WHERE id IN ('DEL1', 'DEL2') OR pos IN (1000, 4000) ORDER BY pos, alt_index;
-- So a region query over 17:41,302,000 finds the SVLEN deletion, which covers it.
SELECT id FROM fidelity WHERE chrom = '17' AND pos <= 41302000 AND end_pos >= 41302000;

-- INFO numbers are stored as parsed, never as raw text: HOMLEN=007,+5 is [7, 5] (Integer);
-- AF=NaN is the string "nan" (JSON has no NaN; htslib prints it so) and af is NaN; of
-- DP=5;DP=6 the first counts; the Flag DB given a value (DB=1,2) is still true.
SELECT info->'HOMLEN' AS homlen, info->'AF' AS info_af, af, info->'DP' AS dp, info->'DB' AS db
  FROM fidelity WHERE pos = 3000;
