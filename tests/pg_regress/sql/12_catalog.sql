-- The extension as the catalog shows it: every object has a comment (\df+ and \dt+ explain
-- themselves), every setting a description, and the extension's tables are dumped by pg_dump.
SELECT extversion FROM pg_extension WHERE extname = 'vcf_pg_loader';

-- Objects of the extension without a comment (indexes excepted): none.
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS uncommented
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vcf_pg_loader'
 WHERE d.deptype = 'e'
   AND d.classid IN ('pg_proc'::regclass, 'pg_class'::regclass, 'pg_namespace'::regclass)
   AND NOT (d.classid = 'pg_class'::regclass AND (SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('i', 'I'))
   AND obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NULL
 ORDER BY 1;
SELECT count(*) AS commented_objects
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vcf_pg_loader'
 WHERE d.deptype = 'e' AND obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NOT NULL;

-- Settings (registered when the library loads): each has a description; key settings are
-- superuser-only (and hidden from SHOW ALL and pg_settings).
SELECT vcf_pg_loader_version() IS NOT NULL AS library_loaded;
SELECT name, context, short_desc <> '' AS described FROM pg_settings WHERE name LIKE 'vcf_pg_loader.%' ORDER BY name;

-- pg_dump keeps the rows of every table and sequence of the extension (config tables), but the
-- audit chain head (rebuilt on restore) and vcf.forgotten_genotype_pages (one transaction's).
SELECT count(*) AS dumped_relations, count(*) FILTER (WHERE c.relkind = 'S') AS sequences
  FROM pg_extension e, unnest(e.extconfig) AS t(oid) JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'vcf_pg_loader';

-- Functions that run with another role's rights pin their search_path.
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vcf_pg_loader'
 WHERE p.prosecdef AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');
