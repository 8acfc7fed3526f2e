//! `#[pg_test]`s: run inside a throw-away server started by `cargo pgrx test`.

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    /// A fresh key file owned by the server user with mode 0600; returns its path.
    fn key_file(name: &str) -> String {
        let path = format!(
            "/tmp/vcf_pg_loader_pg_test_{}_{name}.keys",
            std::process::id()
        );
        let key = vcf_pg_loader_core::crypto::keyring::generate_key_base64();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .unwrap();
        writeln!(f, "{}", *key).unwrap();
        path
    }

    fn use_key_file(path: &str) {
        Spi::run(&format!(
            "SET vcf_pg_loader.phi_key_file = {}",
            pgrx::spi::quote_literal(path)
        ))
        .unwrap();
    }

    /// SQLSTATE and message of a statement run in a subtransaction (PL/pgSQL exception
    /// block); ("00000", "") when it succeeds.
    fn error_of(sql: &str) -> (String, String) {
        let wrapped = format!(
            "DO $t$ BEGIN EXECUTE {};
                 PERFORM set_config('vcf_pg_loader_test.state', '00000', true), set_config('vcf_pg_loader_test.msg', '', true);
             EXCEPTION WHEN OTHERS THEN
                 PERFORM set_config('vcf_pg_loader_test.state', SQLSTATE, true), set_config('vcf_pg_loader_test.msg', SQLERRM, true);
             END $t$",
            pgrx::spi::quote_literal(sql)
        );
        Spi::run(&wrapped).unwrap();
        let (state, msg) = Spi::get_two::<String, String>(
            "SELECT current_setting('vcf_pg_loader_test.state'), current_setting('vcf_pg_loader_test.msg')",
        )
        .unwrap();
        (state.unwrap(), msg.unwrap())
    }

    fn sqlstate_of(sql: &str) -> String {
        error_of(sql).0
    }

    /// tests/data as copied by scripts/test.sh to a place the server user can read.
    fn data(name: &str) -> String {
        format!("/tmp/vcf_pg_loader_regress/local/{name}")
    }

    #[pg_test]
    fn version_names_the_crate() {
        let v = Spi::get_one::<String>("SELECT vcf_pg_loader_version()")
            .unwrap()
            .unwrap();
        assert_eq!(v, format!("vcf_pg_loader {}", env!("CARGO_PKG_VERSION")));
    }

    #[pg_test]
    fn round_trip_and_sqlstates() {
        assert_eq!(
            sqlstate_of("SELECT phi_encrypt('x')"),
            "55000",
            "no key configured"
        );
        let a = key_file("a");
        use_key_file(&a);
        Spi::run("SET vcf_pg_loader.reveal_reason = 'pg_test: round trip'").unwrap();
        let back =
            Spi::get_one::<String>("SELECT phi_decrypt(phi_encrypt('Zoë 患者', 'ctx'), 'ctx')")
                .unwrap()
                .unwrap();
        assert_eq!(back, "Zoë 患者");
        assert_eq!(
            sqlstate_of("SELECT phi_decrypt(phi_encrypt('x', 'a'), 'b')"),
            "XX001",
            "wrong context"
        );
        assert_eq!(
            sqlstate_of("SELECT phi_decrypt('\\x504801'::bytea)"),
            "XX001",
            "malformed"
        );
        Spi::run("CREATE TEMP TABLE c AS SELECT phi_encrypt('NA12878') AS c").unwrap();
        let b = key_file("b");
        use_key_file(&b);
        assert_eq!(
            sqlstate_of("SELECT phi_decrypt(c) FROM c"),
            "55000",
            "unknown key id"
        );
        std::fs::remove_file(a).ok();
        std::fs::remove_file(b).ok();
    }

    /// `phi_key_command` comes from the test server's postgresql.conf (see `pg_test` in
    /// lib.rs): `/bin/sh /tmp/vcf_pg_loader_keycmd.sh`. The script does what the mode file says.
    #[pg_test]
    fn key_command_output_is_the_keyring_and_failures_never_echo_it() {
        const SCRIPT: &str = "/tmp/vcf_pg_loader_keycmd.sh";
        const MODE: &str = "/tmp/vcf_pg_loader_keycmd.mode";
        let keys = key_file("cmd");
        std::fs::write(
            SCRIPT,
            format!(
                "case \"$(cat {MODE} 2>/dev/null)\" in\n\
                 fail) echo CANARY-NOT-A-KEY; exit 3 ;;\n\
                 silent) exit 0 ;;\n\
                 hang) sleep 30 ;;\n\
                 ok) cat {keys} ;;\n\
                 *) exit 1 ;;\n\
                 esac\n"
            ),
        )
        .unwrap();
        Spi::run("RESET vcf_pg_loader.phi_key_file").unwrap();
        Spi::run("RESET vcf_pg_loader.phi_key").unwrap();
        let attempt = |mode: &str| {
            std::fs::write(MODE, mode).unwrap();
            error_of("SELECT phi_encrypt('x')")
        };
        let (state, msg) = attempt("fail");
        assert_eq!(state, "55000");
        assert!(msg.contains("exit status 3"), "{msg}");
        assert!(
            !msg.contains("CANARY"),
            "the command's output leaked: {msg}"
        );
        let (state, msg) = attempt("silent");
        assert_eq!(state, "55000");
        assert!(msg.contains("printed no key"), "{msg}");
        let (state, msg) = attempt("hang");
        assert_eq!(state, "55000");
        assert!(msg.contains("did not finish within 10 s"), "{msg}");
        let (state, _) = attempt("ok");
        assert_eq!(state, "00000");
        let source =
            Spi::get_one::<String>("SELECT key_source FROM phi_encryption_status()").unwrap();
        assert_eq!(source.as_deref(), Some("command"));
        Spi::run("SET vcf_pg_loader.reveal_reason = 'pg_test: key command'").unwrap();
        let back = Spi::get_one::<String>("SELECT phi_decrypt(phi_encrypt('NA12878'))").unwrap();
        assert_eq!(back.as_deref(), Some("NA12878"));
        std::fs::write(MODE, "off").unwrap();
        std::fs::remove_file(keys).ok();
    }

    /// The one switch (privilege::as_owner): inside, the owner role in a security-restricted
    /// operation with search_path pinned; outside again — also after an ERROR inside it was
    /// caught — the caller's user, context and search_path.
    #[pg_test]
    fn owner_context_is_restricted_and_always_restored() {
        use crate::sql::privilege::as_owner;
        Spi::run("SET search_path = public, pg_temp").unwrap();
        let outside = || {
            Spi::get_two::<String, String>(
                "SELECT current_user::text, current_setting('search_path')",
            )
            .unwrap()
        };
        let before = outside();
        let inside = as_owner(|| {
            let restricted = unsafe { pg_sys::InSecurityRestrictedOperation() };
            let who = Spi::get_two::<String, String>(
                "SELECT current_user::text, current_setting('search_path')",
            )
            .unwrap();
            (restricted, who)
        });
        assert!(
            inside.0,
            "inside as_owner is a security-restricted operation"
        );
        assert_eq!(inside.1 .0.as_deref(), Some("vcf_pg_loader_owner"));
        assert_eq!(inside.1 .1.as_deref(), Some("pg_catalog, pg_temp"));
        assert_eq!(outside(), before);
        // An ERROR inside (a temp table is refused there) unwinds through the guard.
        let failed = std::panic::catch_unwind(|| {
            as_owner(|| Spi::run("CREATE TEMP TABLE not_here (x int)"))
        });
        assert!(
            failed.is_err(),
            "temp tables are refused in the owner context"
        );
        assert_eq!(
            outside(),
            before,
            "user and search_path restored after the ERROR"
        );
        let (mut user, mut ctx) = (pg_sys::InvalidOid, 0);
        unsafe { pg_sys::GetUserIdAndSecContext(&mut user, &mut ctx) };
        assert_eq!(ctx & pg_sys::SECURITY_RESTRICTED_OPERATION as i32, 0);
    }

    /// The owner role is refused as soon as someone makes it a superuser.
    #[pg_test]
    fn a_superuser_owner_role_is_refused() {
        let k = key_file("owner");
        use_key_file(&k);
        Spi::run("ALTER ROLE vcf_pg_loader_owner SUPERUSER").unwrap();
        let (state, msg) = error_of("SELECT count(*) FROM phi_lookup('x')");
        Spi::run("ALTER ROLE vcf_pg_loader_owner NOSUPERUSER").unwrap();
        assert_eq!(state, "42501", "{msg}");
        assert!(msg.contains("is a superuser"), "{msg}");
    }

    #[pg_test]
    fn loose_key_file_is_refused() {
        let p = key_file("loose");
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        use_key_file(&p);
        assert_eq!(sqlstate_of("SELECT phi_encrypt('x')"), "55000");
        std::fs::remove_file(p).ok();
    }

    #[pg_test]
    fn load_counts_and_rollback_on_error() {
        let k = key_file("load");
        use_key_file(&k);
        let (v, g) = Spi::get_two_with_args::<i64, i64>(
            "SELECT variants, genotypes FROM vcf_load($1)",
            &[data("small_cohort.vcf").into()],
        )
        .unwrap();
        assert_eq!((v, g), (Some(6), Some(18)));
        assert_eq!(
            sqlstate_of(&format!(
                "SELECT * FROM vcf_load('{}')",
                data("broken_middle.vcf")
            )),
            "22P04"
        );
        let batches = Spi::get_one::<i64>("SELECT count(*) FROM vcf.load_batches")
            .unwrap()
            .unwrap();
        assert_eq!(batches, 1, "the failed load left nothing behind");
        // Pseudonyms: no sample name in any vcf table.
        let leaks = Spi::get_one::<i64>(
            "SELECT count(*) FROM vcf.load_batches WHERE header LIKE '%PATIENT_0001%'",
        )
        .unwrap()
        .unwrap();
        assert_eq!(leaks, 0);
        std::fs::remove_file(k).ok();
    }

    #[pg_test]
    fn rotation_moves_rows_to_the_active_key() {
        let a = key_file("rot_a");
        use_key_file(&a);
        Spi::run(&format!(
            "SELECT * FROM vcf_load('{}')",
            data("small_cohort.vcf")
        ))
        .unwrap();
        let b = key_file("rot_b");
        let both = format!("{b}.both");
        let text = format!(
            "{}{}",
            std::fs::read_to_string(&b).unwrap(),
            std::fs::read_to_string(&a).unwrap()
        );
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&both)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
        use_key_file(&both);
        assert_eq!(
            Spi::get_one::<i64>("SELECT phi_rotate_key(dry_run => true)").unwrap(),
            Some(3)
        );
        assert_eq!(
            Spi::get_one::<i64>("SELECT phi_rotate_key(1)").unwrap(),
            Some(3)
        );
        assert_eq!(
            Spi::get_one::<i64>("SELECT phi_rotate_key()").unwrap(),
            Some(0)
        );
        use_key_file(&b);
        let ok = Spi::get_one::<i64>(
            "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE phi_reverse_lookup(anonymous_id, 'pg_test') LIKE 'PATIENT_%'",
        )
        .unwrap();
        assert_eq!(ok, Some(3));
        assert_eq!(
            Spi::get_one::<bool>("SELECT ok FROM phi_vault.verify_audit_chain()").unwrap(),
            Some(true)
        );
        for p in [a, b, both] {
            std::fs::remove_file(p).ok();
        }
    }

    /// The COPY path's own guard: CopyFrom skips privilege and RLS checks, so `unavailable`
    /// must refuse a role without INSERT and report RLS where it applies to the role.
    #[pg_test]
    fn copy_path_checks_privilege_and_row_security() {
        use crate::sql::copy;
        Spi::run(
            "CREATE ROLE copy_probe NOSUPERUSER NOBYPASSRLS;
             CREATE TABLE copy_open (x int); GRANT INSERT ON copy_open TO copy_probe;
             CREATE TABLE copy_rls (x int); GRANT INSERT ON copy_rls TO copy_probe;
             ALTER TABLE copy_rls ENABLE ROW LEVEL SECURITY;
             CREATE TABLE copy_closed (x int);",
        )
        .unwrap();
        let oid = |t: &str| {
            Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{t}'::regclass::oid"))
                .unwrap()
                .unwrap()
        };
        let role = Spi::get_one::<pg_sys::Oid>("SELECT 'copy_probe'::regrole::oid")
            .unwrap()
            .unwrap();
        let (open, rls, closed) = (oid("copy_open"), oid("copy_rls"), oid("copy_closed"));
        // Checked for the role named, whoever is current: the owner writes the rows, so the
        // decision must not depend on the caller being a superuser.
        let superuser =
            Spi::get_one::<pg_sys::Oid>("SELECT oid FROM pg_roles WHERE rolname = current_user")
                .unwrap()
                .unwrap();
        assert_eq!(copy::unavailable(&[open, rls], superuser), None);
        let as_probe_open = copy::unavailable(&[open], role);
        let as_probe_rls = copy::unavailable(&[open, rls], role);
        let denied = std::panic::catch_unwind(|| copy::unavailable(&[closed], role)).is_err();
        assert_eq!(as_probe_open, None);
        assert_eq!(
            as_probe_rls.as_deref(),
            Some("row-level security applies to copy_rls")
        );
        assert!(denied, "no INSERT privilege must raise, not fall through");
    }

    /// Binary COPY through `copy_into` writes exactly the encoded rows, with constraints
    /// (NOT NULL) enforced as COPY enforces them.
    #[pg_test]
    fn copy_into_writes_the_stream_and_keeps_constraints() {
        use crate::sql::copy;
        use vcf_pg_loader_core::vcf::copy_binary::{CopyBuffer, GENOTYPE_COLUMNS};
        use vcf_pg_loader_core::vcf::GenotypeRow;
        Spi::run(
            "CREATE TABLE g (LIKE vcf.genotypes);
             ALTER TABLE g ADD CHECK (dp >= 0)",
        )
        .unwrap();
        let g = Spi::get_one::<pg_sys::Oid>("SELECT 'g'::regclass::oid")
            .unwrap()
            .unwrap();
        let row = |dp: i32| GenotypeRow {
            variant: 0,
            sample_index: 0,
            gt: Some("0|1".into()),
            alt_dosage: Some(1),
            phased: Some(true),
            dp: Some(dp),
            gq: None,
            ad: Some(vec![Some(5), None]),
            format: Some("{\"PL\":[0,10,100]}".into()),
        };
        let mut buf = CopyBuffer::new();
        for i in 0..1000 {
            buf.genotype(i, &[9u8; 16], &row(i as i32));
        }
        assert_eq!(copy::copy_into(g, &GENOTYPE_COLUMNS, buf.finish()), 1000);
        let back = Spi::get_one::<String>(
            "SELECT concat_ws(' ', count(*), sum(dp), min(gt), bool_and(phased), min(ad::text), min(format::text), min(anonymous_id::text)) FROM g",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            back,
            "1000 499500 0|1 t {5,NULL} {\"PL\": [0, 10, 100]} 09090909-0909-0909-0909-090909090909"
        );
        let mut bad = CopyBuffer::new();
        bad.genotype(1, &[9u8; 16], &row(-1));
        let failed =
            std::panic::catch_unwind(|| copy::copy_into(g, &GENOTYPE_COLUMNS, bad.finish()));
        assert!(failed.is_err(), "a CHECK violation must fail the COPY");
        // The COPY ran with progress reporting muted: an ERROR inside it must not leave it so.
        // SAFETY: reads a backend-local GUC variable.
        assert!(
            unsafe { pg_sys::pgstat_track_activities },
            "track_activities restored after a failed COPY"
        );
    }
}
