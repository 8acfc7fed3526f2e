//! Rows → PostgreSQL's binary COPY format (the wire format of `COPY … FROM STDIN (FORMAT
//! binary)`), so PostgreSQL's own COPY machinery can insert them. Encoding happens on the
//! parser thread; the backend only hands the bytes to `CopyFrom`.
//!
//! Column lists here and in the SQL layer's COPY call must name the same columns in the same
//! order: [`VARIANT_COLUMNS`], [`GENOTYPE_COLUMNS`].

use super::rows::{GenotypeRow, VariantRow};

/// `vcf.variants` columns in the order [`CopyBuffer::variant`] writes them.
pub const VARIANT_COLUMNS: [&str; 17] = [
    "variant_id",
    "load_batch_id",
    "chrom",
    "pos",
    "end_pos",
    "ref",
    "alt",
    "alt_index",
    "id",
    "qual",
    "filter",
    "info",
    "gene",
    "consequence",
    "impact",
    "af",
    "source_line",
];

/// `vcf.genotypes` columns in the order [`CopyBuffer::genotype`] writes them.
pub const GENOTYPE_COLUMNS: [&str; 9] = [
    "variant_id",
    "anonymous_id",
    "gt",
    "alt_dosage",
    "phased",
    "dp",
    "gq",
    "ad",
    "format",
];

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Element type oids of the arrays we write (pg_type.oid of text and int4: fixed since 1996).
const TEXTOID: u32 = 25;
const INT4OID: u32 = 23;
/// jsonb's binary representation: a version byte, then the JSON text.
const JSONB_VERSION: u8 = 1;

/// One binary COPY stream: header, tuples, trailer.
#[derive(Debug, Default)]
pub struct CopyBuffer {
    buf: Vec<u8>,
    tuples: u64,
}

impl CopyBuffer {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(1 << 16);
        buf.extend_from_slice(SIGNATURE);
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        CopyBuffer { buf, tuples: 0 }
    }

    pub fn tuples(&self) -> u64 {
        self.tuples
    }

    /// The finished stream (with its trailer).
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }

    fn fields(&mut self, n: i16) {
        self.tuples += 1;
        self.buf.extend_from_slice(&n.to_be_bytes());
    }
    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(&(b.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(b);
    }
    fn text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.bytes(s.as_bytes()),
            None => self.null(),
        }
    }
    fn jsonb(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.buf
                    .extend_from_slice(&(s.len() as i32 + 1).to_be_bytes());
                self.buf.push(JSONB_VERSION);
                self.buf.extend_from_slice(s.as_bytes());
            }
            None => self.null(),
        }
    }
    /// A fixed-width value in network byte order (int8/4/2, float4 bits, bool), or NULL.
    fn fixed<const N: usize>(&mut self, v: Option<[u8; N]>) {
        match v {
            Some(b) => self.bytes(&b),
            None => self.null(),
        }
    }

    /// A one-dimensional array: length, then ndim, has-null flag, element oid, dimension
    /// and lower bound 1, then the elements. Empty arrays have no dimensions.
    fn array<T>(
        &mut self,
        oid: u32,
        items: &[T],
        has_null: bool,
        mut elem: impl FnMut(&mut Self, &T),
    ) {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // length, patched below
        let ndim: i32 = if items.is_empty() { 0 } else { 1 };
        self.buf.extend_from_slice(&ndim.to_be_bytes());
        self.buf.extend_from_slice(&(has_null as i32).to_be_bytes());
        self.buf.extend_from_slice(&oid.to_be_bytes());
        if ndim == 1 {
            self.buf
                .extend_from_slice(&(items.len() as i32).to_be_bytes());
            self.buf.extend_from_slice(&1i32.to_be_bytes());
        }
        for it in items {
            elem(self, it);
        }
        let len = (self.buf.len() - start - 4) as i32;
        self.buf[start..start + 4].copy_from_slice(&len.to_be_bytes());
    }

    /// One `vcf.variants` tuple, columns as [`VARIANT_COLUMNS`].
    pub fn variant(&mut self, variant_id: i64, load_batch_id: &[u8; 16], r: &VariantRow) {
        self.fields(VARIANT_COLUMNS.len() as i16);
        self.fixed(Some(variant_id.to_be_bytes()));
        self.bytes(load_batch_id);
        self.text(Some(&r.chrom));
        self.fixed(Some(r.pos.to_be_bytes()));
        self.fixed(Some(r.end_pos.to_be_bytes()));
        self.text(Some(&r.ref_allele));
        self.text(r.alt.as_deref());
        self.fixed(r.alt_index.map(i16::to_be_bytes));
        self.text(r.id.as_deref());
        self.fixed(r.qual.map(|q| q.to_bits().to_be_bytes()));
        match &r.filter {
            Some(items) => self.array(TEXTOID, items, false, |b, s| b.bytes(s.as_bytes())),
            None => self.null(),
        }
        self.jsonb(Some(&r.info));
        self.text(r.gene.as_deref());
        self.text(r.consequence.as_deref());
        self.text(r.impact.as_deref());
        self.fixed(r.af.map(|a| a.to_bits().to_be_bytes()));
        self.fixed(Some((r.line as i64).to_be_bytes()));
    }

    /// One `vcf.genotypes` tuple, columns as [`GENOTYPE_COLUMNS`].
    pub fn genotype(&mut self, variant_id: i64, anonymous_id: &[u8; 16], r: &GenotypeRow) {
        self.fields(GENOTYPE_COLUMNS.len() as i16);
        self.fixed(Some(variant_id.to_be_bytes()));
        self.bytes(anonymous_id);
        self.text(r.gt.as_deref());
        self.fixed(r.alt_dosage.map(i16::to_be_bytes));
        self.fixed(r.phased.map(|p| [p as u8]));
        self.fixed(r.dp.map(i32::to_be_bytes));
        self.fixed(r.gq.map(i32::to_be_bytes));
        match &r.ad {
            Some(items) => {
                let has_null = items.iter().any(Option::is_none);
                self.array(INT4OID, items, has_null, |b, v| {
                    b.fixed(v.map(i32::to_be_bytes))
                })
            }
            None => self.null(),
        }
        self.jsonb(r.format.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant() -> VariantRow {
        VariantRow {
            line: 7,
            chrom: "chr1".into(),
            pos: 100,
            end_pos: 100,
            ref_allele: "A".into(),
            alt: Some("G".into()),
            alt_index: Some(1),
            id: None,
            qual: Some(50.5),
            filter: Some(vec!["PASS".into()]),
            info: "{\"DP\":10}".into(),
            gene: None,
            consequence: None,
            impact: None,
            af: None,
        }
    }

    #[test]
    fn stream_has_signature_and_trailer() {
        let b = CopyBuffer::new().finish();
        assert_eq!(&b[..11], SIGNATURE);
        assert_eq!(&b[11..19], &[0u8; 8]);
        assert_eq!(&b[19..], &[0xff, 0xff]);
    }

    #[test]
    fn variant_tuple_layout() {
        let mut c = CopyBuffer::new();
        c.variant(42, &[7u8; 16], &variant());
        assert_eq!(c.tuples(), 1);
        let b = c.finish();
        let t = &b[19..];
        assert_eq!(&t[..2], &17i16.to_be_bytes());
        // variant_id: length 8, value 42
        assert_eq!(&t[2..6], &8i32.to_be_bytes());
        assert_eq!(&t[6..14], &42i64.to_be_bytes());
        // load_batch_id: 16 bytes
        assert_eq!(&t[14..18], &16i32.to_be_bytes());
        assert_eq!(&t[18..34], &[7u8; 16]);
        // chrom
        assert_eq!(&t[34..38], &4i32.to_be_bytes());
        assert_eq!(&t[38..42], b"chr1");
        // the stream ends with the trailer and nothing else
        assert_eq!(&b[b.len() - 2..], &[0xff, 0xff]);
        // the jsonb field carries version 1 before the text
        let j = b"{\"DP\":10}";
        let pos = b.windows(j.len()).position(|w| w == j).unwrap();
        assert_eq!(b[pos - 1], 1);
        assert_eq!(&b[pos - 5..pos - 1], &(j.len() as i32 + 1).to_be_bytes());
    }

    #[test]
    fn arrays_with_nulls_set_the_flag() {
        let mut c = CopyBuffer::new();
        let g = GenotypeRow {
            variant: 0,
            sample_index: 0,
            gt: Some("0/1".into()),
            alt_dosage: Some(1),
            phased: Some(false),
            dp: None,
            gq: Some(99),
            ad: Some(vec![Some(3), None]),
            format: None,
        };
        c.genotype(1, &[1u8; 16], &g);
        let b = c.finish();
        // find the int4 element oid (23) and check the header before it
        let oid = 23u32.to_be_bytes();
        let at = b.windows(4).rposition(|w| w == oid).unwrap();
        assert_eq!(&b[at - 8..at - 4], &1i32.to_be_bytes(), "ndim");
        assert_eq!(&b[at - 4..at], &1i32.to_be_bytes(), "has-null flag");
        assert_eq!(&b[at + 4..at + 8], &2i32.to_be_bytes(), "dimension");
        assert_eq!(&b[at + 8..at + 12], &1i32.to_be_bytes(), "lower bound");
        assert_eq!(&b[at + 12..at + 20], &[0, 0, 0, 4, 0, 0, 0, 3]);
        assert_eq!(&b[at + 20..at + 24], &(-1i32).to_be_bytes());
        let len = i32::from_be_bytes(b[at - 12..at - 8].try_into().unwrap());
        assert_eq!(len, 4 * 5 + 8 + 4, "array length covers its body");
    }

    #[test]
    fn empty_array_has_no_dimensions() {
        let mut c = CopyBuffer::new();
        c.array::<String>(TEXTOID, &[], false, |b, s| b.bytes(s.as_bytes()));
        let b = c.buf;
        assert_eq!(&b[19..23], &12i32.to_be_bytes());
        assert_eq!(&b[23..27], &0i32.to_be_bytes());
    }
}
