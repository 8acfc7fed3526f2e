//! A whole file (plain, gzip or BGZF, any header) → reader → rows. Seeds: the real files of
//! ../shared/data/vcf. Errors are fine; panics and hangs are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vcf_pg_loader_core::vcf::{Decomposer, GenotypeMode, LoadOptions, RowBatch, VcfReader};

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = VcfReader::from_bytes(data.to_vec()) else { return };
    let header = r.header().clone();
    let names: Vec<String> = (0..header.samples.len()).map(|i| format!("P-{i}")).collect();
    let mut d = Decomposer::new(&header, LoadOptions { normalize: true, genotypes: GenotypeMode::All }, &names);
    let _ = d.scrubbed_header();
    let mut batch = RowBatch::default();
    while let Ok(Some((ln, line))) = r.next_line() {
        let line = line.to_vec();
        if d.decompose(ln, &line, &mut batch).is_err() {
            break;
        }
        if batch.genotypes.len() > 100_000 {
            batch.clear();
        }
    }
});
