//! Who the caller is, and the one switch to the extension's owner role (CONTRACT §9).
//!
//! This is the only module that changes the current user. A reviewer audits it alone:
//! - the caller's rights are read here, *before* any switch ([`Caller::current`]);
//! - [`as_owner`] switches the way PostgreSQL switches for VACUUM or REFRESH MATERIALIZED
//!   VIEW: to `vcf_pg_loader_owner` (NOLOGIN, never a superuser) with
//!   `SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION` (no temp objects, no
//!   `SET ROLE`, no session-state changes inside), in a new GUC nest level with
//!   `search_path = pg_catalog, pg_temp`, and restores both on every exit, an ERROR included;
//! - on Citus, [`as_owner`] first calls `vcf.citus_fence()`, so the owner's worker sessions
//!   (which Citus opens inside the caller's transaction) get the same pinned `search_path`,
//!   after any `SET LOCAL` the caller propagated;
//! - the transport check reads the connection itself, not a view a session can shadow.
//!
//! SQL run inside [`as_owner`] names every relation with its schema; with `pg_catalog` first
//! and `pg_temp` last, a caller's temp views, temp domains, or functions and operators in its
//! own schemas are never found.

use super::errors::raise;
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use std::ffi::CStr;

/// The role that owns the `vcf` and `phi_vault` tables and does the extension's writes.
pub const OWNER_ROLE: &CStr = c"vcf_pg_loader_owner";

fn role_oid(name: &CStr) -> pg_sys::Oid {
    // SAFETY: a syscache lookup; missing_ok.
    unsafe { pg_sys::get_role_oid(name.as_ptr(), true) }
}

/// The owner role's oid; refuses to act when it is missing or has been made a superuser
/// (then every switch would hand a caller superuser rights).
pub fn owner_role() -> pg_sys::Oid {
    let owner = role_oid(OWNER_ROLE);
    if owner == pg_sys::InvalidOid {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "role vcf_pg_loader_owner does not exist",
            Some("ALTER EXTENSION vcf_pg_loader UPDATE creates it (version 0.3.0)."),
        );
    }
    // SAFETY: syscache lookup of an existing role.
    if unsafe { pg_sys::superuser_arg(owner) } {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "role vcf_pg_loader_owner is a superuser: vcf_pg_loader refuses to act as it",
            Some("ALTER ROLE vcf_pg_loader_owner NOSUPERUSER;"),
        );
    }
    owner
}

/// The role calling an entry point, read before any switch.
pub struct Caller {
    pub oid: pg_sys::Oid,
    pub name: String,
    /// The login (session) role, which `SET ROLE` does not change.
    pub session: String,
    pub superuser: bool,
}

impl Caller {
    /// The current user. Inside [`as_owner`] that would be the owner: an internal error.
    pub fn current() -> Caller {
        let (mut user, mut ctx) = (pg_sys::InvalidOid, 0);
        // SAFETY: reads two backend globals.
        unsafe { pg_sys::GetUserIdAndSecContext(&mut user, &mut ctx) };
        if user == role_oid(OWNER_ROLE) {
            raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                "vcf_pg_loader: caller checked inside the owner context",
                None,
            );
        }
        // SAFETY: syscache lookups of the current and the session user.
        let (name, session, superuser) = unsafe {
            let name_of = |oid| {
                CStr::from_ptr(pg_sys::GetUserNameFromId(oid, false))
                    .to_string_lossy()
                    .into_owned()
            };
            (
                name_of(user),
                name_of(pg_sys::GetSessionUserId()),
                pg_sys::superuser_arg(user),
            )
        };
        Caller {
            oid: user,
            name,
            session,
            superuser,
        }
    }

    /// Holds the privileges of `role` (membership with INHERIT, as `pg_has_role(…, 'USAGE')`).
    pub fn has_privs_of(&self, role: &CStr) -> bool {
        let r = role_oid(role);
        // SAFETY: catalog lookups; a dropped role just means "no".
        self.superuser
            || (r != pg_sys::InvalidOid && unsafe { pg_sys::has_privs_of_role(self.oid, r) })
    }

    /// Whether this caller is the role named (`load_batches.loaded_by`), exactly — not a
    /// member of it: a group role many loaders share must not make their loads common.
    pub fn is_role_named(&self, role: &str) -> bool {
        std::ffi::CString::new(role).is_ok_and(|c| role_oid(&c) == self.oid)
    }

    pub fn is_phi_admin(&self) -> bool {
        self.has_privs_of(c"phi_admin")
    }

    pub fn may_read_server_files(&self) -> bool {
        self.has_privs_of(c"pg_read_server_files")
    }

    pub fn is_loader(&self) -> bool {
        self.has_privs_of(c"vcf_loader")
    }
}

/// Restores the caller's user, security context and settings when dropped — on return and
/// while an ERROR unwinds through `as_owner` alike.
struct Restore {
    user: pg_sys::Oid,
    ctx: i32,
    nest: i32,
}

impl Drop for Restore {
    fn drop(&mut self) {
        // SAFETY: undoes exactly what as_owner did, innermost first; AtEOXact_GUC(false, …)
        // discards every setting changed inside (search_path and anything the SQL set).
        unsafe {
            pg_sys::AtEOXact_GUC(false, self.nest);
            pg_sys::SetUserIdAndSecContext(self.user, self.ctx);
        }
    }
}

/// Run `f` as the caller, with `search_path = pg_catalog, pg_temp` for the SQL it runs
/// (superuser-only maintenance, `vcf_distribute`), restored on every exit.
pub fn with_pinned_search_path<R>(f: impl FnOnce() -> R) -> R {
    struct Nest(i32);
    impl Drop for Nest {
        fn drop(&mut self) {
            // SAFETY: discards the settings made in the nest level opened below.
            unsafe { pg_sys::AtEOXact_GUC(false, self.0) };
        }
    }
    // SAFETY: a GUC nest level and one setting in it, undone by Nest.
    let _nest = unsafe {
        let nest = Nest(pg_sys::NewGUCNestLevel());
        pin_search_path();
        nest
    };
    f()
}

/// `search_path = pg_catalog, pg_temp` in the current GUC nest level.
unsafe fn pin_search_path() {
    pg_sys::set_config_option(
        c"search_path".as_ptr(),
        c"pg_catalog, pg_temp".as_ptr(),
        pg_sys::GucContext::PGC_USERSET,
        pg_sys::GucSource::PGC_S_SESSION,
        pg_sys::GucAction::GUC_ACTION_SAVE,
        true,
        pgrx::PgLogLevel::ERROR as i32,
        false,
    );
}

/// Run `f` as `vcf_pg_loader_owner` in a security-restricted operation with
/// `search_path = pg_catalog, pg_temp`. The caller's rights must have been checked first.
pub fn as_owner<R>(f: impl FnOnce() -> R) -> R {
    let owner = owner_role();
    let (mut user, mut ctx) = (pg_sys::InvalidOid, 0);
    // SAFETY: the sequence of ExecRefreshMatView / vacuum_rel; Restore undoes it.
    let _restore = unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut ctx);
        let nest = pg_sys::NewGUCNestLevel();
        let restore = Restore { user, ctx, nest };
        pg_sys::SetUserIdAndSecContext(
            owner,
            ctx | (pg_sys::SECURITY_LOCAL_USERID_CHANGE | pg_sys::SECURITY_RESTRICTED_OPERATION)
                as i32,
        );
        pin_search_path();
        restore
    };
    citus_fence();
    f()
}

/// On a Citus cluster, `vcf.citus_fence()`: refuse on a worker, and pin the owner's
/// search_path on the worker connections Citus opens for it (Citus would otherwise replay the
/// caller's propagated `SET LOCAL search_path` there first). Nothing without Citus.
fn citus_fence() {
    // SAFETY: a syscache lookup.
    if unsafe { pg_sys::get_extension_oid(c"citus".as_ptr(), true) } == pg_sys::InvalidOid {
        return;
    }
    super::spi::run(
        "fencing the owner's Citus connections",
        "SELECT vcf.citus_fence()",
        &[],
    );
}

/// Whether this connection may receive identifiers under `require_ssl`: a Unix-socket
/// connection, or TCP with TLS in use — read from this backend's own status entry, which
/// the connection code fills in and no SQL object can shadow.
pub fn transport_is_protected() -> bool {
    // SAFETY: MyBEEntry is this backend's own entry in shared memory, or null.
    unsafe {
        let be = pg_sys::MyBEEntry;
        if be.is_null() {
            return false;
        }
        // AF_UNSPEC: no client connection at all (a background worker): nothing in transit.
        let family = (*be).st_clientaddr.addr.ss_family as i32;
        family == libc::AF_UNIX || family == libc::AF_UNSPEC || (*be).st_ssl
    }
}
