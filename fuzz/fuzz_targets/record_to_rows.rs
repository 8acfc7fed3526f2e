//! Data lines under a fixed header (every INFO/FORMAT Number kind, two samples) → rows →
//! binary COPY, in all three genotype modes. Errors are fine; panics and hangs are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vcf_pg_loader_core::vcf::copy_binary::CopyBuffer;
use vcf_pg_loader_core::vcf::{Decomposer, GenotypeMode, LoadOptions, RowBatch, VcfReader};

const HEADER: &str = "##fileformat=VCFv4.2\n##contig=<ID=1>\n\
##INFO=<ID=AF,Number=A,Type=Float,Description=\"x\">\n##INFO=<ID=RC,Number=R,Type=Integer,Description=\"x\">\n\
##INFO=<ID=GL,Number=G,Type=Float,Description=\"x\">\n##INFO=<ID=DB,Number=0,Type=Flag,Description=\"x\">\n\
##INFO=<ID=END,Number=1,Type=Integer,Description=\"x\">\n##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name'\">\n\
##INFO=<ID=CSQ,Number=.,Type=String,Description=\"Format: Allele|Consequence|IMPACT|SYMBOL\">\n\
##FORMAT=<ID=GT,Number=1,Type=String,Description=\"x\">\n##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"x\">\n\
##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"x\">\n##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"x\">\n\
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n";

fuzz_target!(|data: &[u8]| {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(data);
    for mode in [GenotypeMode::All, GenotypeMode::Carriers, GenotypeMode::None] {
        let Ok(mut r) = VcfReader::from_bytes(bytes.clone()) else { return };
        let header = r.header().clone();
        let names = vec!["P-1".to_string(), "P-2".to_string()];
        let mut d = Decomposer::new(&header, LoadOptions { normalize: true, genotypes: mode, keep_header_commands: false }, &names);
        let mut batch = RowBatch::default();
        while let Ok(Some((ln, line))) = r.next_line() {
            let line = line.to_vec();
            if d.decompose(ln, &line, &mut batch).is_err() {
                break;
            }
        }
        let mut c = CopyBuffer::new();
        for v in &batch.variants {
            c.variant(1, &[0; 16], v);
        }
        for g in &batch.genotypes {
            assert!(g.variant < batch.variants.len());
            c.genotype(1, &[0; 16], g);
        }
        let _ = c.finish();
    }
});
