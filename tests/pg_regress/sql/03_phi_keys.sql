-- No key configured: 55000 with a HINT showing how to make a key file.
SELECT phi_encrypt('x');
-- Key file checks, like PostgreSQL's for ssl_key_file.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/missing.keys';
SELECT phi_encrypt('x');
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/loose.keys';
SELECT phi_encrypt('x');
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/bad.keys';
SELECT phi_encrypt('x');
RESET vcf_pg_loader.phi_key_file;

-- Key settings are hidden from SHOW ALL and refused where other roles can read them.
SELECT count(*) AS key_settings_in_show_all FROM pg_settings WHERE name LIKE 'vcf_pg_loader.phi_key%';
ALTER ROLE CURRENT_USER SET vcf_pg_loader.phi_key_file = '/tmp/x';
ALTER DATABASE vcf_regress SET vcf_pg_loader.phi_key_file = '/tmp/x';
ALTER SYSTEM SET vcf_pg_loader.phi_key = 'x';
CREATE FUNCTION leaky() RETURNS int LANGUAGE sql SET vcf_pg_loader.phi_key_file = '/tmp/x' AS 'SELECT 1';
-- Typos in the prefix are errors, not silent placeholders.
SET vcf_pg_loader.phi_kye_file = '/tmp/x';

-- This test is about the inline setting itself, so a key appears here once: SHOW redacts it.
SET vcf_pg_loader.phi_key = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
SHOW vcf_pg_loader.phi_key;
RESET vcf_pg_loader.phi_key;

-- A non-superuser can neither read nor set key settings.
CREATE ROLE regress_plain LOGIN;
SET ROLE regress_plain;
SHOW vcf_pg_loader.phi_key_file;
SET vcf_pg_loader.phi_key_file = '/tmp/x';
RESET ROLE;
DROP ROLE regress_plain;
