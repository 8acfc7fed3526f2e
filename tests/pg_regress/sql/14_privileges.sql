-- The privilege model (CONTRACT §9): who owns the data, who may call what, and what a
-- loader may read. tests/security/run.sh attacks the same entry points as each role over
-- its own connection; this file shows the model as a DBA reads it.
-- (Earlier files rotated to key b; a keeps older rows readable.)
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/ba.keys';

-- The owner role: no login, never superuser, no inheritance, cannot bypass RLS.
SELECT rolname, rolcanlogin, rolsuper, rolinherit, rolbypassrls, rolcreaterole, rolcreatedb
  FROM pg_roles WHERE rolname IN ('vcf_pg_loader_owner', 'vcf_loader', 'phi_admin', 'phi_viewer') ORDER BY 1;
-- It owns every table, partition, view and sequence of vcf and phi_vault.
SELECT relkind, count(*) AS relations, count(*) FILTER (WHERE relowner <> 'vcf_pg_loader_owner'::regrole) AS not_owned
  FROM pg_class WHERE relnamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace) AND relkind IN ('r', 'p', 'v', 'S')
 GROUP BY 1 ORDER BY 1;

-- Who may EXECUTE each entry point (superusers: all).
SELECT p.proname,
       has_function_privilege('phi_viewer', p.oid, 'EXECUTE') AS viewer,
       has_function_privilege('phi_admin', p.oid, 'EXECUTE') AS admin,
       has_function_privilege('vcf_loader', p.oid, 'EXECUTE') AS loader,
       has_function_privilege('public', p.oid, 'EXECUTE') AS everyone
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vcf_pg_loader')
   AND p.prorettype <> 'trigger'::regtype
 ORDER BY p.pronamespace::regnamespace::text, p.proname;

-- Every SQL or PL/pgSQL function pins search_path = pg_catalog, pg_temp (pg_temp last, so
-- a caller's temp objects are never found first) — except the procedure that COMMITs,
-- whose body names everything with its schema.
SELECT p.oid::regprocedure AS function, p.proconfig
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vcf_pg_loader')
   AND p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
 ORDER BY 1;

-- A loader reads files under vcf_pg_loader.load_directories only: the real path decides,
-- so "..", absolute paths elsewhere and symlinks out are refused with 42501.
CREATE ROLE regress_loader IN ROLE vcf_loader;
CREATE ROLE regress_loader2 IN ROLE vcf_loader;
SET vcf_pg_loader.load_directories = '/tmp/vcf_pg_loader_regress/local';
SET ROLE regress_loader;
SELECT variants, genotypes, samples, already_loaded FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf');
\set VERBOSITY terse
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/data/sarscov2.vcf.gz');
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/../keys/a.keys');
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/key_link.vcf');
SELECT * FROM vcf_load('relative.vcf');
-- A missing file inside the directory says so; outside it, the answer is the same refusal
-- whether or not the file exists (no oracle for the server's file system).
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/missing.vcf');
SELECT * FROM vcf_load('/etc/missing.vcf');
-- Loaders cannot read the vault, the key file, or server files.
SELECT count(*) FROM phi_vault.sample_id_mapping;
CREATE TEMP TABLE k (line text);
COPY k FROM '/tmp/vcf_pg_loader_regress/keys/a.keys';
SELECT pg_read_file('/tmp/vcf_pg_loader_regress/keys/a.keys');
DROP TABLE k;
\set VERBOSITY default
RESET ROLE;
-- Without load_directories a loader can load nothing.
SET vcf_pg_loader.load_directories = '';
SET ROLE regress_loader;
\set VERBOSITY terse
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf');
\set VERBOSITY default
RESET ROLE;
-- Rows are written by the owner; loaded_by names the caller.
SELECT loaded_by, samples FROM vcf.load_batches WHERE source_file LIKE '%small_cohort.vcf';
SELECT "current_user", "session_user", operation FROM phi_vault.audit_log WHERE operation = 'load' ORDER BY audit_id DESC LIMIT 1;
-- A loader unloads its own loads only (and sees no tables: the id comes from vcf_load).
SET vcf_pg_loader.load_directories = '/tmp/vcf_pg_loader_regress/local';
SELECT load_batch_id AS b FROM vcf.load_batches WHERE source_file LIKE '%small_cohort.vcf' \gset
SET ROLE regress_loader2;
\set VERBOSITY sqlstate
SELECT vcf_unload(:'b');
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf', force => true);
\set VERBOSITY default
RESET ROLE;
SET ROLE regress_loader;
SELECT vcf_unload(:'b') > 0 AS unloaded_own;
RESET ROLE;
RESET vcf_pg_loader.load_directories;
DROP ROLE regress_loader;
DROP ROLE regress_loader2;
