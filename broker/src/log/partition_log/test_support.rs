//! Helpers shared by the log tests: a small config, and reading a fetched slice back.

use std::os::unix::fs::FileExt;
use std::path::Path;

use super::super::batch::test_support::batch_of;
use super::super::batch::BatchHeader;
use super::{FetchSlice, LogConfig, PartitionLog};

pub(crate) fn small_config() -> LogConfig {
    LogConfig {
        index_interval_bytes: 256,
        max_index_bytes: 4096,
        ..LogConfig::default()
    }
}

pub(crate) fn bytes_of(slice: &FetchSlice) -> Vec<u8> {
    let mut buf = vec![0u8; slice.len as usize];
    slice.file.read_exact_at(&mut buf, slice.position).unwrap();
    buf
}

/// The (base offset, record count) of each batch in a fetched slice.
pub(crate) fn batches_in(bytes: &[u8]) -> Vec<(i64, i32)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let h = BatchHeader::parse(&bytes[at..]).unwrap().unwrap();
        h.check_crc(&bytes[at..at + h.size()]).unwrap();
        out.push((h.base_offset, h.record_count));
        at += h.size();
    }
    out
}

pub(crate) fn append_n(log: &mut PartitionLog, batches: usize, records: usize, ts: i64) {
    for i in 0..batches {
        let mut b = batch_of(records, 50, ts + i as i64);
        log.append(&mut b, ts + i as i64).unwrap();
    }
}

pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// Simulates `kill -9`: the log is never dropped, so nothing is trimmed or flushed by us.
pub(crate) fn crash(log: PartitionLog) {
    std::mem::forget(log);
}
