//! One data line read column by column, as noodles-vcf models a record: [`fixed`] (CHROM
//! to FILTER, one `parse_<column>` each), [`info`] (the INFO entries, the keys the
//! decomposer reads itself, values prepared once per record, one row's INFO object),
//! [`samples`] (FORMAT, the sample columns and one genotype row), and [`pick`] (which items
//! of a Number=A/R/G list belong to one ALT row). [`super::decompose`] assembles the rows.

pub mod fixed;
pub mod info;
pub mod pick;
pub mod samples;

/// Which row of a record is being written: ALT `k` (1-based; None for a record without
/// ALT) of `n_alt`, and whether it is the record's first row (warnings count once per
/// record).
#[derive(Debug, Clone, Copy)]
pub struct AltRow {
    pub k: Option<usize>,
    pub n_alt: usize,
    pub first: bool,
}
