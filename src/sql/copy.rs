//! The COPY fast path: binary COPY streams (encoded by the parser thread) go to PostgreSQL's
//! own COPY machinery — `BeginCopyFrom` with a data-source callback, `CopyFrom`,
//! `EndCopyFrom` — which brings multi-insert batching, partition routing, constraints,
//! index maintenance and triggers exactly as `COPY … FROM` does.
//!
//! `CopyFrom` does not check privileges or row-level security (DoCopy does that before it),
//! so [`unavailable`] checks INSERT privilege and RLS for the role that writes the rows —
//! named explicitly (the owner role, `privilege::owner_role`), not read from whatever user
//! is current; where RLS applies to it (FORCE ROW LEVEL SECURITY) the loader takes the
//! INSERT path, whose statements RLS does see. The range-table
//! layout `CopyFrom` expects is PostgreSQL 15's (the `pg15` feature gates this path); other
//! major versions use the INSERT path until tested.

use super::errors::raise;
use pgrx::prelude::*;
use pgrx::{PgMemoryContexts, PgSqlErrorCode};

/// Why the COPY path cannot be used for rows written as `writer`, if it cannot.
pub fn unavailable(relids: &[pg_sys::Oid], writer: pg_sys::Oid) -> Option<String> {
    if !cfg!(feature = "pg15") {
        return Some("the COPY path is built for PostgreSQL 15 only".into());
    }
    // SAFETY: plain catalog/encoding lookups in a transaction.
    unsafe {
        // Binary text input converts from the client encoding: only a UTF-8 session passes
        // our UTF-8 bytes through unchanged.
        if pg_sys::GetDatabaseEncoding() != pg_sys::pg_enc::PG_UTF8 as i32
            || pg_sys::pg_get_client_encoding() != pg_sys::pg_enc::PG_UTF8 as i32
        {
            return Some("the database or client encoding is not UTF8".into());
        }
        for &relid in relids {
            let name = match pg_sys::get_rel_name(relid) {
                p if p.is_null() => format!("relation {}", relid.to_u32()),
                p => std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned(),
            };
            // CopyFrom would fill the coordinator's empty shell table; INSERT statements are
            // planned by Citus and reach the shards.
            if super::distribute::is_citus_table(relid) {
                return Some(format!("{name} is distributed by Citus"));
            }
            if pg_sys::pg_class_aclcheck(relid, writer, pg_sys::ACL_INSERT as pg_sys::AclMode)
                != pg_sys::AclResult::ACLCHECK_OK
            {
                raise(
                    PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                    format!("permission denied for table {name}"),
                    None,
                );
            }
            if pg_sys::check_enable_rls(relid, writer, true)
                == pg_sys::CheckEnableRlsResult::RLS_ENABLED as i32
            {
                return Some(format!("row-level security applies to {name}"));
            }
        }
    }
    None
}

thread_local! {
    /// The stream the data-source callback reads: PostgreSQL 15's callback has no user-data
    /// pointer, and a backend runs one COPY at a time.
    static SOURCE: std::cell::RefCell<(Vec<u8>, usize)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
}

#[pg_guard]
unsafe extern "C-unwind" fn read_source(
    outbuf: *mut std::ffi::c_void,
    _minread: std::ffi::c_int,
    maxread: std::ffi::c_int,
) -> std::ffi::c_int {
    SOURCE.with(|s| {
        let mut s = s.borrow_mut();
        let (buf, pos) = &mut *s;
        let n = (maxread.max(0) as usize).min(buf.len() - *pos);
        // SAFETY: PostgreSQL gives a buffer of at least maxread bytes.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr().add(*pos), outbuf as *mut u8, n) };
        *pos += n;
        n as std::ffi::c_int
    })
}

/// While it lives, PostgreSQL's progress reporting is off for this backend, so the COPY
/// machinery (which starts, overwrites with its own stream's bytes and tuples, and ends the
/// `pg_stat_progress_copy` row on every call) leaves the load's own row alone: the load owns
/// it (`load::progress`). Restored on every exit, an ERROR unwinding through here included.
struct ProgressMuted(bool);

impl ProgressMuted {
    fn new() -> Self {
        // SAFETY: a backend-local GUC variable, read and written on this backend's thread.
        unsafe {
            let was = pg_sys::pgstat_track_activities;
            pg_sys::pgstat_track_activities = false;
            ProgressMuted(was)
        }
    }
}

impl Drop for ProgressMuted {
    fn drop(&mut self) {
        // SAFETY: restores the value saved in `new`, on the same thread.
        unsafe { pg_sys::pgstat_track_activities = self.0 };
    }
}

/// COPY one binary stream into `relid` (columns in `columns` order); returns rows inserted.
/// The caller has checked [`unavailable`]. The backend's progress row is not touched.
pub fn copy_into(relid: pg_sys::Oid, columns: &[&str], stream: Vec<u8>) -> u64 {
    /// Empties the source on every exit, an ERROR included, so a failed load does not keep
    /// a batch of rows in an idle backend.
    struct Source;
    impl Drop for Source {
        fn drop(&mut self) {
            SOURCE.with(|s| *s.borrow_mut() = (Vec::new(), 0));
        }
    }
    SOURCE.with(|s| *s.borrow_mut() = (stream, 0));
    let _source = Source;
    let mut cxt = PgMemoryContexts::new("vcf_pg_loader COPY");
    // SAFETY: the same calls DoCopy makes, with the relation in the parse state's range table
    // as CopyFrom expects; everything palloc'd lives in `cxt`, freed on drop.
    unsafe {
        cxt.switch_to(|_| {
            let lock = pg_sys::RowExclusiveLock as i32;
            let rel = pg_sys::table_open(relid, lock);
            let pstate = pg_sys::make_parsestate(std::ptr::null_mut());
            pg_sys::addRangeTableEntryForRelation(
                pstate,
                rel,
                lock,
                std::ptr::null_mut(),
                false,
                false,
            );
            let mut attnames: *mut pg_sys::List = std::ptr::null_mut();
            for c in columns {
                let name = std::ffi::CString::new(*c).expect("column names have no NUL");
                attnames = pg_sys::lappend(
                    attnames,
                    pg_sys::makeString(pg_sys::pstrdup(name.as_ptr())).cast(),
                );
            }
            let format = pg_sys::makeDefElem(
                pg_sys::pstrdup(c"format".as_ptr()),
                pg_sys::makeString(pg_sys::pstrdup(c"binary".as_ptr())).cast(),
                -1,
            );
            let options = pg_sys::lappend(std::ptr::null_mut(), format.cast());
            let _muted = ProgressMuted::new();
            let cstate = pg_sys::BeginCopyFrom(
                pstate,
                rel,
                std::ptr::null_mut(),
                std::ptr::null(),
                false,
                Some(read_source),
                attnames,
                options,
            );
            let n = pg_sys::CopyFrom(cstate);
            pg_sys::EndCopyFrom(cstate);
            pg_sys::free_parsestate(pstate);
            pg_sys::table_close(rel, pg_sys::NoLock as i32);
            n
        })
    }
}
