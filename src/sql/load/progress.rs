//! This load's row in `pg_stat_progress_copy`, owned by the load for its whole length (the COPY
//! calls run with progress reporting muted, `copy::ProgressMuted`): `relid` names
//! `vcf.variants`; type FILE; `bytes_total` the file's size; `bytes_processed` the file bytes
//! (compressed, as on disk) the parser had read when the batch being written was closed —
//! monotonic and never above the total; `tuples_processed` variant and genotype rows written
//! so far, for the whole load. Updated once per batch (20,000 variant / 200,000 genotype rows).

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
