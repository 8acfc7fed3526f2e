//! Every row the core makes of one file, one line each, for before/after comparisons of the
//! decomposition (`diff` the outputs of two builds).
//!
//!   dump_rows FILE [all|carriers|none]

use vcf_pg_loader_core::vcf::{Decomposer, GenotypeMode, LoadOptions, RowBatch, VcfReader};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: dump_rows FILE [all|carriers|none]");
    let mode = GenotypeMode::parse(args.get(2).map_or("all", String::as_str)).expect("mode");
    let mut reader = VcfReader::open(std::path::Path::new(path)).expect("open");
    let header = reader.header().clone();
    let names: Vec<String> = (0..header.samples.len())
        .map(|i| format!("P-{i}"))
        .collect();
    let opts = LoadOptions {
        normalize: true,
        genotypes: mode,
        keep_header_commands: false,
    };
    let mut d = Decomposer::new(&header, opts, &names);
    print!("{}", d.scrubbed_header());
    loop {
        let (ln, line) = match reader.next_line() {
            Ok(Some((ln, line))) => (ln, line.to_vec()),
            Ok(None) => break,
            Err(e) => {
                println!("ERROR {e}");
                break;
            }
        };
        let mut b = RowBatch::default();
        if let Err(e) = d.decompose(ln, &line, &mut b) {
            println!("ERROR {e}");
            break;
        }
        for v in &b.variants {
            println!("V {v:?}");
        }
        for g in &b.genotypes {
            println!("G {g:?}");
        }
    }
    println!("WARNINGS {}", d.warnings.to_json());
}
