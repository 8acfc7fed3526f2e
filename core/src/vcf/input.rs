//! Opening a VCF: plain text, plain (multi-member) gzip or BGZF, decided by the bytes, not
//! the file name. Compressed bytes consumed are counted for `pg_stat_progress_copy`.

use super::error::{VcfError, VcfErrorKind};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bgzf,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Bgzf => "bgzf",
        }
    }
}

/// Counts bytes read from the underlying file.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub struct Input {
    pub reader: Box<dyn BufRead + Send>,
    pub compression: Compression,
    pub file_size: u64,
    /// Compressed bytes consumed so far.
    pub bytes_read: Arc<AtomicU64>,
}

/// Classify the first bytes of a file. BGZF is gzip with an FEXTRA "BC" subfield.
pub fn detect(head: &[u8]) -> Compression {
    if head.len() < 2 || head[0] != 0x1f || head[1] != 0x8b {
        return Compression::None;
    }
    if head.len() >= 16 && head[3] & 0x04 != 0 && head[12] == b'B' && head[13] == b'C' {
        return Compression::Bgzf;
    }
    Compression::Gzip
}

pub fn io_error(path: &Path, e: &io::Error) -> VcfError {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => VcfErrorKind::NotFound,
        io::ErrorKind::PermissionDenied => VcfErrorKind::PermissionDenied,
        _ => VcfErrorKind::Io,
    };
    VcfError {
        kind,
        line: 0,
        field: "file",
        what: format!("could not open \"{}\": {e}", path.display()),
    }
}

pub fn open(path: &Path) -> Result<Input, VcfError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !meta.is_file() {
        return Err(VcfError {
            kind: VcfErrorKind::Io,
            line: 0,
            field: "file",
            what: format!("\"{}\" is not a regular file", path.display()),
        });
    }
    let file = File::open(path).map_err(|e| io_error(path, &e))?;
    let count = Arc::new(AtomicU64::new(0));
    let mut buffered = BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: file,
            count: count.clone(),
        },
    );
    let head = buffered
        .fill_buf()
        .map_err(|e| io_error(path, &e))?
        .to_vec();
    let compression = detect(&head);
    let reader: Box<dyn BufRead + Send> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(buffered),
        )),
        Compression::Bgzf => Box::new(noodles_bgzf::io::Reader::new(buffered)),
    };
    Ok(Input {
        reader,
        compression,
        file_size: meta.len(),
        bytes_read: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        assert_eq!(detect(b"##fileformat=VCFv4.2\n"), Compression::None);
        assert_eq!(detect(b""), Compression::None);
        assert_eq!(
            detect(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]),
            Compression::Gzip
        );
        let bgzf = [
            0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0,
        ];
        assert_eq!(detect(&bgzf), Compression::Bgzf);
    }
}
