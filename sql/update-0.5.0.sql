-- What 0.5.0 adds besides sql/client_api.sql (appended to the update script by
-- scripts/gen-update-script.sh): vcf_distribute(), declared as pgrx declares it for a fresh
-- install (tests/ecosystem compares the two catalogs), its grant and comments.
CREATE FUNCTION @extschema@."vcf_distribute"(
	"shard_count" INT DEFAULT 32
) RETURNS TABLE (
	"relation" TEXT,
	"layout" TEXT
)
STRICT VOLATILE
LANGUAGE c
AS 'MODULE_PATHNAME', 'vcf_distribute_wrapper';
REVOKE ALL ON FUNCTION @extschema@.vcf_distribute(integer) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.vcf_distribute(integer) IS
    'On a Citus coordinator: distribute vcf.variants and vcf.genotypes on variant_id (colocated), make the other vcf tables reference tables, keep phi_vault on the coordinator, and give the owner role a worker-only login. Superusers; run again after citus_add_node. docs/scaling.md.';
COMMENT ON FUNCTION @extschema@.phi_rotate_key_batch(integer) IS 'One transaction of phi_rotate_key_online: the next batch of rows not under the active key (key order, no row locks held while encrypting), or the last pass (waits for loads and locked rows); 0 when none remain.';
