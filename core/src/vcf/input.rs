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

/// Open a regular file. Checked with stat *before* open: opening a FIFO would block.
fn open_regular(path: &Path) -> Result<(File, std::fs::Metadata), VcfError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !meta.is_file() {
        return Err(VcfError {
            kind: VcfErrorKind::NotRegularFile,
            line: 0,
            field: "file",
            what: "not a regular file".to_string(),
        });
    }
    let file = File::open(path).map_err(|e| io_error(path, &e))?;
    Ok((file, meta))
}

/// SHA-256 (lower-case hex) and size of a file, read in 1 MiB chunks. `before_chunk` runs
/// before every read: the SQL side checks for cancel there.
pub fn sha256_file(path: &Path, mut before_chunk: impl FnMut()) -> Result<(String, u64), VcfError> {
    use sha2::{Digest, Sha256};
    let (mut file, _) = open_regular(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        before_chunk();
        let n = file.read(&mut buf).map_err(|e| VcfError {
            kind: VcfErrorKind::Io,
            line: 0,
            field: "file",
            what: format!("could not read: {e}"),
        })?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    let hex = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, total))
}

pub fn open(path: &Path) -> Result<Input, VcfError> {
    let (file, meta) = open_regular(path)?;
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
        // BGZF blocks inflate independently: two threads (the machines we target have two
        // or more cores; inflating is most of a sites-only load).
        Compression::Bgzf => Box::new(crate::threads::with_signals_blocked(|| {
            noodles_bgzf::io::MultithreadedReader::with_worker_count(
                std::num::NonZero::new(2).expect("2 is not zero"),
                buffered,
            )
        })),
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

    #[test]
    fn hashes_regular_files_only() {
        let dir = std::env::temp_dir().join(format!("vcf_pg_loader_input_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("abc.txt");
        std::fs::write(&f, b"abc").unwrap();
        let mut chunks = 0;
        let (hex, n) = sha256_file(&f, || chunks += 1).unwrap();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!((n, chunks), (3, 2));
        assert_eq!(
            sha256_file(&dir, || {}).unwrap_err().kind,
            VcfErrorKind::NotRegularFile
        );
        assert_eq!(
            sha256_file(&dir.join("missing"), || {}).unwrap_err().kind,
            VcfErrorKind::NotFound
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
