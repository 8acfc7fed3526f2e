//! The one path to SPI. Every statement carries a label saying what it does, and any failure
//! becomes an ERROR naming that label — nothing that guards data is dropped with `.ok()`.
//! (An ERROR raised by the statement itself keeps its own SQLSTATE: pgrx propagates it.)
//! Statements run with whatever user and `search_path` are current: the extension's run
//! inside `privilege::as_owner`, which pins `search_path = pg_catalog, pg_temp`.

use super::errors::raise;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiHeapTupleData;
use pgrx::PgSqlErrorCode;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        format!("vcf_pg_loader: {what} failed: {e}"),
        None,
    )
}

/// Run a statement for its effect.
pub fn run(what: &str, sql: &str, args: &[DatumWithOid]) {
    Spi::run_with_args(sql, args).unwrap_or_else(|e| fail(what, e))
}

/// Run a data-modifying statement; returns the rows it processed.
pub fn count(what: &str, sql: &str, args: &[DatumWithOid]) -> i64 {
    Spi::connect_mut(|c| {
        c.update(sql, None, args)
            .unwrap_or_else(|e| fail(what, e))
            .len() as i64
    })
}

/// The first column of the first row (None: no row or NULL).
pub fn one<T: FromDatum + IntoDatum>(what: &str, sql: &str, args: &[DatumWithOid]) -> Option<T> {
    Spi::get_one_with_args::<T>(sql, args).unwrap_or_else(|e| match e {
        pgrx::spi::SpiError::InvalidPosition => None,
        e => fail(what, e),
    })
}

/// Every row, mapped by `f` (a read-write client, so `FOR UPDATE` and DML with RETURNING work).
pub fn rows<T>(
    what: &str,
    sql: &str,
    args: &[DatumWithOid],
    mut f: impl FnMut(&Row) -> T,
) -> Vec<T> {
    Spi::connect_mut(|c| {
        let table = c.update(sql, None, args).unwrap_or_else(|e| fail(what, e));
        table.map(|r| f(&Row { what, row: r })).collect()
    })
}

/// One result row; columns are 1-based, as in SQL.
pub struct Row<'a, 'conn> {
    what: &'a str,
    row: SpiHeapTupleData<'conn>,
}

impl Row<'_, '_> {
    pub fn get<T: FromDatum + IntoDatum>(&self, column: usize) -> Option<T> {
        self.row
            .get::<T>(column)
            .unwrap_or_else(|e| fail(self.what, e))
    }

    /// A column the schema declares NOT NULL.
    pub fn req<T: FromDatum + IntoDatum>(&self, column: usize) -> T {
        self.get(column)
            .unwrap_or_else(|| fail(self.what, format!("column {column} is NULL")))
    }
}
