//! Decompression, parsing, decomposition and (for COPY) encoding on a worker thread, so the
//! backend thread spends its time inserting. The worker never calls PostgreSQL: it talks to
//! the backend through two channels only — bounded batches out, blocks of variant ids in.
//!
//! Variant ids come from a PostgreSQL sequence the worker cannot call. The backend keeps the
//! worker two blocks ahead: each batch says how many blocks the worker has started, and the
//! backend answers with [`Pipeline::blocks_wanted`] more. A batch uses at most one new block
//! (limits are far below [`ID_BLOCK`]) and at most [`QUEUE`] batches wait, so the worker
//! never waits for ids the backend has not yet been asked for.

use super::copy_binary::CopyBuffer;
use super::decompose::{Decomposer, LoadOptions};
use super::error::{VcfError, Warnings};
use super::reader::VcfReader;
use super::rows::RowBatch;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Variant ids per sequence value (`variant_id = nextval * ID_BLOCK + i`).
pub const ID_BLOCK: i64 = 1 << 20;
/// Batches that may wait between the threads: bounds memory to a few batches.
pub const QUEUE: usize = 2;
/// Blocks the worker holds beyond the one it is using.
const AHEAD: u64 = 2;

/// What the worker produces.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Rows with their variant ids, for the batched INSERT path.
    Rows,
    /// Binary COPY streams for `vcf.variants` and `vcf.genotypes`.
    Copy {
        load_batch_id: [u8; 16],
        /// `samples[i]`: the pseudonym (uuid bytes) of sample column i.
        samples: Vec<[u8; 16]>,
    },
}

/// A batch is closed at whichever limit it reaches first.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub variants: usize,
    pub genotypes: usize,
}

#[derive(Debug)]
pub enum Payload {
    Rows {
        rows: RowBatch,
        variant_ids: Vec<i64>,
    },
    Copy {
        variants: Vec<u8>,
        genotypes: Vec<u8>,
    },
}

#[derive(Debug)]
pub struct Batch {
    pub payload: Payload,
    pub variants: u64,
    pub genotypes: u64,
    pub records: u64,
    /// Compressed file bytes consumed when the batch was closed.
    pub bytes_read: u64,
    /// Id blocks the worker has started so far.
    pub blocks_started: u64,
}

#[derive(Debug)]
pub enum Message {
    Batch(Batch),
    /// End of file; lenient warnings of the whole file.
    Done(Warnings),
    Failed(VcfError),
}

pub struct Pipeline {
    /// Set when the backend gives up (error, cancel): the worker stops at its next line.
    stop: Arc<AtomicBool>,
    batches: Option<Receiver<Message>>,
    blocks: Option<SyncSender<i64>>,
    blocks_sent: u64,
    worker: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Start the worker on an opened reader. `first_blocks` are the first id blocks
    /// (sequence values); the worker starts with them.
    pub fn spawn(
        reader: VcfReader,
        opts: LoadOptions,
        pseudonyms: Vec<String>,
        sink: Sink,
        limits: Limits,
        first_blocks: [i64; AHEAD as usize],
    ) -> Self {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        // Room for every block the backend may have sent and the worker not yet taken.
        let (btx, brx) = mpsc::sync_channel(AHEAD as usize + 1);
        for b in first_blocks {
            btx.send(b).expect("the receiver is alive");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stop_w = stop.clone();
        let worker = crate::threads::with_signals_blocked(|| {
            std::thread::Builder::new()
                .name("vcf_pg_loader parser".into())
                .spawn(move || {
                    let failed = tx.clone();
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        work(reader, opts, &pseudonyms, &sink, limits, &tx, &brx, &stop_w)
                    }));
                    if run.is_err() {
                        let _ = failed.send(Message::Failed(VcfError::internal(
                            "the parser thread failed unexpectedly",
                        )));
                    }
                })
        });
        Pipeline {
            stop,
            batches: Some(rx),
            blocks: Some(btx),
            blocks_sent: AHEAD,
            worker: worker.ok(),
        }
    }

    /// The next message; calls `waiting` about every 50 ms while the worker is busy (the
    /// backend checks for interrupts there).
    pub fn next(&mut self, mut waiting: impl FnMut()) -> Message {
        let Some(rx) = &self.batches else {
            return ended();
        };
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(m) => return m,
                Err(RecvTimeoutError::Timeout) => waiting(),
                Err(RecvTimeoutError::Disconnected) => return ended(),
            }
        }
    }

    /// How many more id blocks to send after a batch that reports `blocks_started`.
    pub fn blocks_wanted(&self, blocks_started: u64) -> u64 {
        (blocks_started + AHEAD).saturating_sub(self.blocks_sent)
    }

    pub fn supply_block(&mut self, block: i64) {
        if let Some(b) = &self.blocks {
            // A full or closed channel means the worker has stopped; its message says why.
            let _ = b.try_send(block);
            self.blocks_sent += 1;
        }
    }
}

impl Drop for Pipeline {
    /// The stop flag and the closed channels end the worker at its next line, send or block
    /// request. A worker still inside one huge line is not waited for: a cancel must return
    /// now, and the thread, which never touches PostgreSQL, ends on its own.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.batches.take();
        self.blocks.take();
        if let Some(w) = self.worker.take() {
            if w.is_finished() {
                let _ = w.join();
            }
        }
    }
}

fn ended() -> Message {
    Message::Failed(VcfError::internal(
        "the parser thread could not be started or ended without a result",
    ))
}

struct Ids<'a> {
    blocks: &'a Receiver<i64>,
    next: i64,
    end: i64,
    started: u64,
}

impl Ids<'_> {
    /// None when the backend has gone away.
    fn take(&mut self) -> Option<i64> {
        if self.next == self.end {
            let b = self.blocks.recv().ok()?;
            self.started += 1;
            self.next = b * ID_BLOCK;
            self.end = self.next + ID_BLOCK;
        }
        self.next += 1;
        Some(self.next - 1)
    }
}

#[allow(clippy::too_many_arguments)]
fn work(
    mut reader: VcfReader,
    opts: LoadOptions,
    pseudonyms: &[String],
    sink: &Sink,
    limits: Limits,
    tx: &SyncSender<Message>,
    blocks: &Receiver<i64>,
    stop: &AtomicBool,
) {
    let header = reader.header().clone();
    let mut dec = Decomposer::new(&header, opts, pseudonyms);
    let mut ids = Ids {
        blocks,
        next: 0,
        end: 0,
        started: 0,
    };
    let mut rows = RowBatch::default();
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let done = match reader.next_line() {
            Err(e) => {
                let _ = tx.send(Message::Failed(e));
                return;
            }
            Ok(None) => true,
            Ok(Some((ln, line))) => {
                if let Err(e) = dec.decompose(ln, line, &mut rows) {
                    let _ = tx.send(Message::Failed(e));
                    return;
                }
                false
            }
        };
        if done
            || rows.variants.len() >= limits.variants
            || rows.genotypes.len() >= limits.genotypes
        {
            if !rows.variants.is_empty() || rows.records > 0 {
                let Some(batch) = close(&mut rows, sink, &mut ids, reader.bytes_read()) else {
                    return;
                };
                if tx.send(Message::Batch(batch)).is_err() {
                    return;
                }
            }
            if done {
                let mut w = dec.warnings.clone();
                w.add_n("blank_line", reader.blank_lines);
                let _ = tx.send(Message::Done(w));
                return;
            }
        }
    }
}

/// Number the batch's variants and package it for the sink; None when the backend is gone.
fn close(rows: &mut RowBatch, sink: &Sink, ids: &mut Ids, bytes_read: u64) -> Option<Batch> {
    let variant_ids = (0..rows.variants.len())
        .map(|_| ids.take())
        .collect::<Option<Vec<i64>>>()?;
    let (variants, genotypes, records) = (
        rows.variants.len() as u64,
        rows.genotypes.len() as u64,
        rows.records,
    );
    let payload = match sink {
        Sink::Rows => Payload::Rows {
            rows: std::mem::take(rows),
            variant_ids,
        },
        Sink::Copy {
            load_batch_id,
            samples,
        } => {
            let mut v = CopyBuffer::new();
            for (r, &id) in rows.variants.iter().zip(&variant_ids) {
                v.variant(id, load_batch_id, r);
            }
            let mut g = CopyBuffer::new();
            for r in &rows.genotypes {
                g.genotype(variant_ids[r.variant], &samples[r.sample_index], r);
            }
            rows.clear();
            Payload::Copy {
                variants: v.finish(),
                genotypes: g.finish(),
            }
        }
    };
    Some(Batch {
        payload,
        variants,
        genotypes,
        records,
        bytes_read,
        blocks_started: ids.started,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcf::decompose::GenotypeMode;
    use crate::vcf::error::VcfErrorKind;

    fn vcf(records: usize) -> Vec<u8> {
        let mut s = String::from(
            "##fileformat=VCFv4.2\n##contig=<ID=1>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n",
        );
        for i in 0..records {
            s.push_str(&format!(
                "1\t{}\t.\tA\tC,G\t.\tPASS\t.\tGT\t0/1\t1/2\n",
                i + 1
            ));
        }
        s.into_bytes()
    }

    fn opts() -> LoadOptions {
        LoadOptions {
            normalize: true,
            genotypes: GenotypeMode::All,
            keep_header_commands: false,
        }
    }

    /// A rows-sink pipeline over `bytes` with two samples and the given batch limits.
    fn rows_pipeline(
        bytes: Vec<u8>,
        variants: usize,
        genotypes: usize,
        blocks: [i64; 2],
    ) -> Pipeline {
        let r = VcfReader::from_bytes(bytes).unwrap();
        let lim = Limits {
            variants,
            genotypes,
        };
        Pipeline::spawn(
            r,
            opts(),
            vec!["a".into(), "b".into()],
            Sink::Rows,
            lim,
            blocks,
        )
    }

    /// Drive a pipeline the way the backend does, supplying blocks 10, 11, ….
    fn drain(p: &mut Pipeline) -> (Vec<Batch>, Result<Warnings, VcfError>) {
        let mut next_block = 12;
        let mut out = Vec::new();
        loop {
            match p.next(|| {}) {
                Message::Batch(b) => {
                    for _ in 0..p.blocks_wanted(b.blocks_started) {
                        p.supply_block(next_block);
                        next_block += 1;
                    }
                    out.push(b);
                }
                Message::Done(w) => return (out, Ok(w)),
                Message::Failed(e) => return (out, Err(e)),
            }
        }
    }

    #[test]
    fn rows_are_numbered_from_the_blocks_and_batched_by_limit() {
        let mut p = rows_pipeline(vcf(1000), 300, 1_000_000, [10, 11]);
        let (batches, done) = drain(&mut p);
        assert!(done.unwrap().is_empty());
        let ids: Vec<i64> = batches
            .iter()
            .flat_map(|b| match &b.payload {
                Payload::Rows { variant_ids, .. } => variant_ids.clone(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(ids.len(), 2000);
        assert_eq!(ids[0], 10 * ID_BLOCK);
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
        assert_eq!(batches.iter().map(|b| b.records).sum::<u64>(), 1000);
        assert_eq!(batches.iter().map(|b| b.genotypes).sum::<u64>(), 4000);
        assert!(batches.iter().all(|b| b.variants <= 300 + 1));
    }

    #[test]
    fn ids_cross_blocks_without_waiting_forever() {
        // More variants than one block holds: the worker must get block 11 and then 12.
        let records = (ID_BLOCK as usize) / 2 + 5;
        let r = VcfReader::from_bytes(vcf(records)).unwrap();
        let lim = Limits {
            variants: 50_000,
            genotypes: 1 << 30,
        };
        let sink = Sink::Copy {
            load_batch_id: [0; 16],
            samples: vec![[1; 16], [2; 16]],
        };
        let o = LoadOptions {
            normalize: true,
            genotypes: GenotypeMode::None,
            keep_header_commands: false,
        };
        let mut p = Pipeline::spawn(r, o, vec!["a".into(), "b".into()], sink, lim, [10, 11]);
        let (batches, done) = drain(&mut p);
        done.unwrap();
        assert_eq!(
            batches.iter().map(|b| b.variants).sum::<u64>() as usize,
            2 * records
        );
        assert_eq!(batches.last().unwrap().blocks_started, 2);
    }

    #[test]
    fn a_bad_line_fails_with_its_line_number() {
        let mut v = vcf(10);
        v.extend_from_slice(b"1\tnotanumber\t.\tA\tC\t.\t.\t.\tGT\t0/1\t0/0\n");
        let mut p = rows_pipeline(v, 5, 100, [1, 2]);
        let (_, done) = drain(&mut p);
        let e = done.unwrap_err();
        assert_eq!(e.kind, VcfErrorKind::Format);
        assert_eq!(e.line, 15);
    }

    #[test]
    fn dropping_the_pipeline_stops_the_worker() {
        let mut p = rows_pipeline(vcf(100_000), 10, 100, [1, 2]);
        assert!(matches!(p.next(|| {}), Message::Batch(_)));
        drop(p); // joins: returns only if the worker noticed
    }
}
