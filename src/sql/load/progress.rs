//! This load's row in `pg_stat_progress_copy`: type FILE, bytes of the file, tuples so far.
//! `BeginCopyFrom` restarts the row for each COPY call, so `report` rewrites all of it.

use pgrx::pg_sys;

pub struct Progress {
    relid: pg_sys::Oid,
    total: u64,
}

impl Progress {
    pub fn start(relid: pg_sys::Oid, total: u64) -> Self {
        let p = Progress { relid, total };
        p.report(0, 0);
        p
    }

    pub fn report(&self, bytes: u64, tuples: i64) {
        // SAFETY: progress reporting for this backend; ended on drop or by transaction abort.
        unsafe {
            pg_sys::pgstat_progress_start_command(
                pg_sys::ProgressCommandType::PROGRESS_COMMAND_COPY,
                self.relid,
            );
            for (param, value) in [
                (
                    pg_sys::PROGRESS_COPY_COMMAND,
                    pg_sys::PROGRESS_COPY_COMMAND_FROM as i64,
                ),
                (
                    pg_sys::PROGRESS_COPY_TYPE,
                    pg_sys::PROGRESS_COPY_TYPE_FILE as i64,
                ),
                (pg_sys::PROGRESS_COPY_BYTES_TOTAL, self.total as i64),
                (pg_sys::PROGRESS_COPY_BYTES_PROCESSED, bytes as i64),
                (pg_sys::PROGRESS_COPY_TUPLES_PROCESSED, tuples),
            ] {
                pg_sys::pgstat_progress_update_param(param as i32, value);
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // SAFETY: ends this backend's progress row.
        unsafe { pg_sys::pgstat_progress_end_command() };
    }
}
