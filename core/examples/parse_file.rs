//! Parse-only throughput of the pure core on one file, as `vcf_load` runs it (worker thread,
//! COPY encoding), without PostgreSQL: the ceiling the loader can reach.
//!
//!   parse_file FILE [all|carriers|none]

use std::time::Instant;
use vcf_pg_loader_core::vcf::pipeline::{Limits, Message, Pipeline, Sink};
use vcf_pg_loader_core::vcf::{GenotypeMode, LoadOptions, VcfReader};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: parse_file FILE [all|carriers|none]");
    let mode = GenotypeMode::parse(args.get(2).map_or("all", String::as_str)).expect("mode");
    let t = Instant::now();
    let reader = VcfReader::open(std::path::Path::new(path)).expect("open");
    let n = reader.header().samples.len();
    let names = (0..n).map(|i| format!("S{i}")).collect();
    let sink = Sink::Copy {
        load_batch_id: [0; 16],
        samples: vec![[0; 16]; n],
    };
    let opts = LoadOptions {
        normalize: true,
        genotypes: mode,
        keep_header_commands: false,
    };
    let limits = Limits {
        variants: 20_000,
        genotypes: 200_000,
    };
    let mut p = Pipeline::spawn(reader, opts, names, sink, limits, [1, 2]);
    let (mut v, mut g, mut bytes, mut block) = (0u64, 0u64, 0u64, 3);
    loop {
        match p.next(|| {}) {
            Message::Batch(b) => {
                for _ in 0..p.blocks_wanted(b.blocks_started) {
                    p.supply_block(block);
                    block += 1;
                }
                v += b.variants;
                g += b.genotypes;
                if let vcf_pg_loader_core::vcf::pipeline::Payload::Copy {
                    variants,
                    genotypes,
                } = &b.payload
                {
                    bytes += (variants.len() + genotypes.len()) as u64;
                }
            }
            Message::Done(_) => break,
            Message::Failed(e) => panic!("{e}"),
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!("{path}: {v} variant rows, {g} genotype rows, {bytes} COPY bytes in {s:.3} s ({:.0} rows/s)", (v + g) as f64 / s);
}
