//! What one VCF record becomes: rows shaped like `vcf.variants` and `vcf.genotypes`.
//! The insert mechanism (SPI batch, COPY) lives on the SQL side and only reads these.

/// One row of `vcf.variants`: one ALT allele of one record (CONTRACT §6).
#[derive(Debug, Clone, PartialEq)]
pub struct VariantRow {
    /// 1-based line of the record in the file.
    pub line: u64,
    pub chrom: String,
    pub pos: i64,
    pub end_pos: i64,
    pub ref_allele: String,
    /// None for a record whose ALT is `.`.
    pub alt: Option<String>,
    /// 1-based index of this ALT in the record's ALT column; None with `alt`.
    pub alt_index: Option<i16>,
    pub id: Option<String>,
    pub qual: Option<f32>,
    pub filter: Option<Vec<String>>,
    /// INFO as a JSON object text (types honoured, Number=A/R/G sliced to this ALT).
    pub info: String,
    pub gene: Option<String>,
    pub consequence: Option<String>,
    pub impact: Option<String>,
    pub af: Option<f32>,
}

/// One row of `vcf.genotypes` for the variant row at `variant` in the same batch.
#[derive(Debug, Clone, PartialEq)]
pub struct GenotypeRow {
    pub variant: usize,
    pub sample_index: usize,
    pub gt: Option<String>,
    pub alt_dosage: Option<i16>,
    pub phased: Option<bool>,
    pub dp: Option<i32>,
    pub gq: Option<i32>,
    pub ad: Option<Vec<Option<i32>>>,
    /// Other FORMAT fields as a JSON object text; None when there are none.
    pub format: Option<String>,
}

/// Rows of several records, handed from the parser to the inserter as one unit.
#[derive(Debug, Default, Clone)]
pub struct RowBatch {
    pub variants: Vec<VariantRow>,
    pub genotypes: Vec<GenotypeRow>,
    /// Records (lines) parsed into this batch.
    pub records: u64,
    /// Compressed file bytes consumed when the batch was closed (progress).
    pub bytes_read: u64,
}

impl RowBatch {
    pub fn clear(&mut self) {
        self.variants.clear();
        self.genotypes.clear();
        self.records = 0;
    }
}
