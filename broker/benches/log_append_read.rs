//! The "O(1) persistence" claim: the cost of an append and of an offset lookup does not grow
//! with the size of the log.
//!
//! For each log size, a partition log is filled with 1 KiB batches, then criterion measures
//! - `append_1KiB`: validating, patching and writing one batch (page cache, no fsync);
//! - `read_random`: `read(offset, 0)` at a random offset — segment lookup, binary search in
//!   the mmap'd index, forward scan to the batch holding the offset;
//! - `timestamp_random`: `offset_for_timestamp` at a random time (time index lookup).
//!
//! Flat lines across the sizes are the claim. Each lookup costs a `BTreeMap` step, a binary
//! search in one segment's index and one or two 8 KiB `pread`s, whatever the log size; once
//! the log outgrows the free page cache those `pread`s go to the disk, and `read_random`
//! measures the disk's random-read latency instead (append stays flat: it only touches the
//! end of the log). Sizes default to 16 MiB, 512 MiB and 4 GiB
//! (several 1 GiB segments); set `KAFKARS_BENCH_LOG_MIB=16,1024,20480` for a log of tens of
//! GiB (the data dir is a temporary directory under `KAFKARS_BENCH_DIR` or `/tmp`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kafkars_broker::log::{LogConfig, PartitionLog};
use rand::{Rng, SeedableRng};

const BATCH_RECORDS: usize = 8;
const RECORD_VALUE: usize = 100;

fn varint(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// An uncompressed v2 batch of `BATCH_RECORDS` records, about 1 KiB, at `timestamp`.
fn batch(timestamp: i64) -> Vec<u8> {
    let mut records = Vec::new();
    let value = [b'v'; RECORD_VALUE];
    for i in 0..BATCH_RECORDS {
        let mut r = vec![0u8];
        varint(&mut r, 0);
        varint(&mut r, i as i64);
        varint(&mut r, -1);
        varint(&mut r, value.len() as i64);
        r.extend_from_slice(&value);
        varint(&mut r, 0);
        varint(&mut records, r.len() as i64);
        records.extend_from_slice(&r);
    }
    let n = BATCH_RECORDS as i32;
    let mut b = Vec::with_capacity(61 + records.len());
    b.extend_from_slice(&0i64.to_be_bytes());
    b.extend_from_slice(&((49 + records.len()) as i32).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.push(2);
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&0i16.to_be_bytes());
    b.extend_from_slice(&(n - 1).to_be_bytes());
    b.extend_from_slice(&timestamp.to_be_bytes());
    b.extend_from_slice(&timestamp.to_be_bytes());
    b.extend_from_slice(&(-1i64).to_be_bytes());
    b.extend_from_slice(&(-1i16).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.extend_from_slice(&n.to_be_bytes());
    b.extend_from_slice(&records);
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}

fn sizes_mib() -> Vec<u64> {
    std::env::var("KAFKARS_BENCH_LOG_MIB")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .filter(|v: &Vec<u64>| !v.is_empty())
        .unwrap_or_else(|| vec![16, 512, 4096])
}

/// A log of about `mib` MiB; batch `i` has timestamp `i` (one batch per millisecond).
fn filled_log(dir: &std::path::Path, mib: u64) -> PartitionLog {
    let config = LogConfig {
        retention_ms: None,
        segment_ms: None,
        ..LogConfig::default()
    };
    let mut log = PartitionLog::open(dir.join("bench-0"), config).expect("open log");
    let batches = mib * 1024 * 1024 / batch(0).len() as u64;
    for i in 0..batches {
        log.append(&mut batch(i as i64), i as i64).expect("append");
    }
    log
}

fn bench(c: &mut Criterion) {
    let base = std::env::var_os("KAFKARS_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let mut group = c.benchmark_group("partition_log");
    group.sample_size(30);
    group.measurement_time(std::time::Duration::from_secs(3));
    group.warm_up_time(std::time::Duration::from_millis(500));
    for mib in sizes_mib() {
        let dir = tempfile::tempdir_in(&base).expect("temp dir");
        let mut log = filled_log(dir.path(), mib);
        let label = format!("{mib}MiB/{}seg", log.segment_count());
        let end = log.log_end_offset();
        let max_ts = log.max_timestamp().map_or(0, |(ts, _)| ts);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);

        let mut b = batch(max_ts);
        group.throughput(Throughput::Bytes(b.len() as u64));
        group.bench_function(BenchmarkId::new("append_1KiB", &label), |bench| {
            bench.iter(|| log.append(black_box(&mut b), max_ts).expect("append"))
        });
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("read_random", &label), |bench| {
            bench.iter(|| {
                let offset = rng.gen_range(0..end);
                black_box(log.read(offset, 0).expect("read"))
            })
        });
        group.bench_function(BenchmarkId::new("timestamp_random", &label), |bench| {
            bench.iter(|| {
                let ts = rng.gen_range(0..=max_ts);
                black_box(log.offset_for_timestamp(ts).expect("lookup"))
            })
        });
        drop(log);
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
