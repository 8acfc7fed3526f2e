//! A whole file (plain, gzip or BGZF, any header) → reader → rows. Seeds: the real files of
//! ../shared/data/vcf. Errors are fine; panics and hangs are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vcf_pg_loader_core::vcf::{Decomposer, GenotypeMode, LoadOptions, RowBatch, VcfReader};

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = VcfReader::from_bytes(data.to_vec()) else { return };
    let header = r.header().clone();
    let names: Vec<String> = (0..header.samples.len()).map(|i| format!("P-{i}")).collect();
    let keep_header_commands = data.len() % 2 == 0;
    let opts = LoadOptions { normalize: true, genotypes: GenotypeMode::All, keep_header_commands };
    let mut d = Decomposer::new(&header, opts, &names);
    let _ = d.scrubbed_header();
    let _ = d.redact_text(&String::from_utf8_lossy(&data[..data.len().min(4096)]));
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
