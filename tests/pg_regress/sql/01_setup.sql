-- Install the extension; roles and schemas exist afterwards.
CREATE EXTENSION vcf_pg_loader;
SELECT vcf_pg_loader_version() LIKE 'vcf_pg_loader %' AS versioned;
SELECT rolname FROM pg_roles WHERE rolname IN ('phi_admin', 'phi_viewer') ORDER BY 1;
SELECT nspname FROM pg_namespace WHERE nspname IN ('vcf', 'phi_vault') ORDER BY 1;
-- phi_vault is closed to PUBLIC
SELECT has_schema_privilege('public', 'phi_vault', 'USAGE') AS public_can_use_phi_vault;
-- every contig loads: human contigs with and without chr, M/MT, and a default partition
SELECT count(*) AS variant_partitions FROM pg_inherits WHERE inhparent = 'vcf.variants'::regclass;
