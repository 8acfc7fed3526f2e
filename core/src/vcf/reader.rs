//! Streaming line reader: parses the header on open, then yields data lines (without line
//! ending) with their 1-based line numbers. Decompression errors become `22P04` errors that
//! name the line reached.

use super::error::VcfError;
use super::header::Header;
use super::input::{self, Compression};
use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct VcfReader {
    input: Box<dyn BufRead + Send>,
    pub compression: Compression,
    pub file_size: u64,
    bytes_read: Arc<AtomicU64>,
    header: Header,
    line_no: u64,
    buf: Vec<u8>,
    pub blank_lines: u64,
}

impl std::fmt::Debug for VcfReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VcfReader")
            .field("line", &self.line_no)
            .finish()
    }
}

impl VcfReader {
    pub fn open(path: &Path) -> Result<Self, VcfError> {
        let inp = input::open(path)?;
        Self::from_parts(inp.reader, inp.compression, inp.file_size, inp.bytes_read)
    }

    /// A reader over any byte stream (tests, fuzzing): content is detected the same way.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, VcfError> {
        let compression = input::detect(&bytes);
        let size = bytes.len() as u64;
        let cursor = std::io::Cursor::new(bytes);
        let reader: Box<dyn BufRead + Send> = match compression {
            Compression::None => Box::new(cursor),
            Compression::Gzip => Box::new(std::io::BufReader::new(
                flate2::bufread::MultiGzDecoder::new(cursor),
            )),
            Compression::Bgzf => Box::new(noodles_bgzf::io::Reader::new(cursor)),
        };
        Self::from_parts(reader, compression, size, Arc::new(AtomicU64::new(size)))
    }

    fn from_parts(
        input: Box<dyn BufRead + Send>,
        compression: Compression,
        file_size: u64,
        bytes_read: Arc<AtomicU64>,
    ) -> Result<Self, VcfError> {
        let mut r = VcfReader {
            input,
            compression,
            file_size,
            bytes_read,
            header: Header::default(),
            line_no: 0,
            buf: Vec::with_capacity(1 << 12),
            blank_lines: 0,
        };
        r.read_header()?;
        Ok(r)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Compressed bytes consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    fn read_line(&mut self) -> Result<bool, VcfError> {
        self.buf.clear();
        let n = self.input.read_until(b'\n', &mut self.buf).map_err(|e| {
            VcfError::format(
                self.line_no + 1,
                "file",
                format!(
                    "bad or truncated compressed data ({} input): {e}",
                    self.compression.as_str()
                ),
            )
        })?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(true)
    }

    fn read_header(&mut self) -> Result<(), VcfError> {
        loop {
            if !self.read_line()? {
                return Err(if self.line_no == 0 {
                    VcfError::format(0, "file", "empty file: no VCF header")
                } else {
                    VcfError::format(self.line_no, "header", "missing #CHROM line")
                });
            }
            let ln = self.line_no;
            if self.buf.is_empty() {
                continue;
            }
            if self.buf.contains(&0) {
                return Err(VcfError::format(ln, "header", "NUL byte in header line"));
            }
            let line = std::str::from_utf8(&self.buf)
                .map_err(|_| VcfError::format(ln, "header", "invalid UTF-8"))?
                .to_string();
            if line.starts_with("##") {
                self.header.add_meta_line(ln, &line)?;
            } else if line.starts_with("#CHROM") {
                self.header.set_column_line(ln, &line)?;
                if self.header.file_format.is_none() && ln == 1 {
                    // htslib accepts a file without ##fileformat; so do we.
                }
                return Ok(());
            } else {
                return Err(VcfError::format(
                    ln,
                    "header",
                    "missing #CHROM line before the first record",
                ));
            }
        }
    }

    /// The next data line, or None at the end. Blank lines are skipped (and counted).
    pub fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, VcfError> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            if self.buf.is_empty() {
                self.blank_lines += 1;
                continue;
            }
            return Ok(Some((self.line_no, &self.buf)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const VCF: &str = "##fileformat=VCFv4.2\r\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\r\n1\t1\t.\tA\tC\t.\t.\t.\r\n\n1\t2\t.\tA\tC\t.\t.\t.";

    #[test]
    fn plain_crlf_and_blank_lines() {
        let mut r = VcfReader::from_bytes(VCF.as_bytes().to_vec()).unwrap();
        assert_eq!(r.header().file_format.as_deref(), Some("VCFv4.2"));
        assert_eq!(
            r.next_line().unwrap().unwrap(),
            (3, &b"1\t1\t.\tA\tC\t.\t.\t."[..])
        );
        assert_eq!(r.next_line().unwrap().unwrap().0, 5);
        assert!(r.next_line().unwrap().is_none());
        assert_eq!(r.blank_lines, 1);
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_multi_member_and_truncated() {
        let mut two = gzip(&VCF.as_bytes()[..60]);
        two.extend(gzip(&VCF.as_bytes()[60..]));
        let mut r = VcfReader::from_bytes(two).unwrap();
        assert_eq!(r.compression, Compression::Gzip);
        assert_eq!(r.next_line().unwrap().unwrap().0, 3);
        assert_eq!(r.next_line().unwrap().unwrap().0, 5);
        let full = gzip(VCF.as_bytes());
        let cut = full[..full.len() - 12].to_vec();
        let res = VcfReader::from_bytes(cut).and_then(|mut r| {
            while r.next_line()?.is_some() {}
            Ok(())
        });
        let e = res.unwrap_err();
        assert!(e.what.contains("truncated"), "{e}");
    }

    #[test]
    fn bgzf_round_trip() {
        let mut w = noodles_bgzf::io::Writer::new(Vec::new());
        w.write_all(VCF.as_bytes()).unwrap();
        let bytes = w.finish().unwrap();
        let mut r = VcfReader::from_bytes(bytes).unwrap();
        assert_eq!(r.compression, Compression::Bgzf);
        assert_eq!(r.next_line().unwrap().unwrap().0, 3);
    }

    #[test]
    fn header_errors() {
        assert_eq!(
            VcfReader::from_bytes(vec![]).unwrap_err().what,
            "empty file: no VCF header"
        );
        let e = VcfReader::from_bytes(b"##fileformat=VCFv4.2\n1\t1\t.\tA\tC\t.\t.\t.\n".to_vec())
            .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.what.contains("#CHROM"));
        let e = VcfReader::from_bytes(b"##fileformat=VCFv4.2\n".to_vec()).unwrap_err();
        assert!(e.what.contains("missing #CHROM"));
        let e = VcfReader::from_bytes(b"##x=\xff\n".to_vec()).unwrap_err();
        assert!(e.what.contains("UTF-8"));
        let garbage = gzip(&[0xffu8; 100]);
        assert!(VcfReader::from_bytes(garbage).is_err());
    }
}
