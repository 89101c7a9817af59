//! `PartitionLog` behaviour: round trips, rolls, reopen, flush policy, a model-based test.

use super::super::batch::test_support::{batch, batch_of};
use super::test_support::*;
use super::*;

#[test]
fn append_and_read_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 0));
    let mut b = batch(&[b"one", b"two", b"three"], 1000);
    let info = log.append(&mut b, 1000).unwrap();
    assert_eq!(
        info,
        AppendInfo {
            base_offset: 0,
            last_offset: 2,
            record_count: 3,
            log_start_offset: 0
        }
    );
    let mut b2 = batch(&[b"four"], 1001);
    assert_eq!(log.append(&mut b2, 1001).unwrap().base_offset, 3);
    assert_eq!(log.log_end_offset(), 4);

    let s = log.read(0, 1 << 20).unwrap();
    let got = bytes_of(&s);
    assert_eq!(batches_in(&got), vec![(0, 3), (3, 1)]);
    assert_eq!(&got[..b.len()], &b[..], "stored exactly as patched");
    assert_eq!(&got[12..16], &LEADER_EPOCH.to_be_bytes());
    assert_eq!(
        file_names(log.dir()),
        [
            "00000000000000000000.index",
            "00000000000000000000.log",
            "00000000000000000000.timeindex"
        ]
    );
}

#[test]
fn read_inside_a_batch_returns_that_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
    append_n(&mut log, 100, 10, 0);
    for offset in [0, 5, 9, 10, 555, 999] {
        let s = log.read(offset, 1).unwrap();
        assert_eq!(
            batches_in(&bytes_of(&s)),
            vec![(offset / 10 * 10, 10)],
            "offset {offset}"
        );
    }
}

#[test]
fn max_bytes_gives_whole_batches_and_at_least_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
    append_n(&mut log, 200, 2, 0);
    let one = log.read(0, 0).unwrap().len;
    assert_eq!(batches_in(&bytes_of(&log.read(0, 0).unwrap())).len(), 1);
    assert_eq!(log.read(0, one).unwrap().len, one);
    assert_eq!(log.read(0, 2 * one - 1).unwrap().len, one);
    for n in [2u32, 7, 50, 150] {
        let s = log.read(20, n * one + one / 2).unwrap();
        assert_eq!(s.len, n * one, "{n} batches");
        assert_eq!(batches_in(&bytes_of(&s))[0].0, 20);
    }
    assert_eq!(log.read(0, u32::MAX).unwrap().len as u64, log.size_bytes());
}

#[test]
fn out_of_range_and_log_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
    assert_eq!(
        log.read(0, 100).unwrap().len,
        0,
        "empty log, offset 0 = log end"
    );
    append_n(&mut log, 3, 2, 0);
    assert_eq!(log.read(6, 100).unwrap().len, 0);
    assert!(matches!(
        log.read(7, 100),
        Err(LogError::OffsetOutOfRange {
            requested: 7,
            log_start: 0,
            log_end: 6
        })
    ));
    assert!(matches!(
        log.read(-1, 100),
        Err(LogError::OffsetOutOfRange { .. })
    ));
}

#[test]
fn invalid_batches_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
    append_n(&mut log, 1, 2, 0);
    let size = log.size_bytes();
    let mut good_then_bad = batch(&[b"a"], 0);
    let mut bad = batch(&[b"b"], 0);
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    good_then_bad.extend(bad);
    assert!(matches!(
        log.append(&mut good_then_bad, 0),
        Err(LogError::CorruptBatch { .. })
    ));
    let mut big = batch_of(1, 2_000_000, 0);
    assert!(matches!(
        log.append(&mut big, 0),
        Err(LogError::MessageTooLarge { .. })
    ));
    assert!(log.append(&mut [0u8; 3], 0).is_err());
    assert_eq!((log.log_end_offset(), log.size_bytes()), (2, size));
}

#[test]
fn rolls_by_size_and_reads_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 2000,
        ..small_config()
    };
    let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
    append_n(&mut log, 100, 3, 0);
    assert!(log.segment_count() > 5);
    for seg in log.segments.values() {
        assert!(seg.size() <= 2000);
    }
    for offset in (0..300).step_by(7) {
        let s = log.read(offset, 500).unwrap();
        let got = batches_in(&bytes_of(&s));
        assert_eq!(got[0].0, offset / 3 * 3);
    }
    let second = *log.segments.keys().nth(1).unwrap();
    assert!(file_names(log.dir()).contains(&format!("{second:020}.log")));
    // Closed segments' indexes are trimmed to their entries, like Kafka's.
    let (_, index, _) = segment_paths(log.dir(), 0);
    assert_eq!(std::fs::metadata(index).unwrap().len() % 8, 0);
    assert!(
        std::fs::metadata(segment_paths(log.dir(), 0).1)
            .unwrap()
            .len()
            < 4096
    );
}

#[test]
fn rolls_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_ms: Some(1000),
        ..small_config()
    };
    let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
    log.append(&mut batch(&[b"a"], 10_000), 10_000).unwrap();
    log.append(&mut batch(&[b"b"], 10_900), 10_900).unwrap();
    assert_eq!(log.segment_count(), 1);
    log.append(&mut batch(&[b"c"], 11_100), 11_100).unwrap();
    assert_eq!(log.segment_count(), 2);
    assert_eq!(*log.segments.keys().next_back().unwrap(), 2);
    // enforce_retention rolls an idle active segment once it is old enough.
    log.enforce_retention(11_500).unwrap();
    assert_eq!(log.segment_count(), 2);
    log.enforce_retention(12_200).unwrap();
    assert_eq!(log.segment_count(), 3);
    assert_eq!(log.log_end_offset(), 3);
}

#[test]
fn rolls_by_wall_time_when_batches_carry_no_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_ms: Some(1000),
        ..small_config()
    };
    let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
    let now = wall_clock_ms();
    log.append(&mut batch(&[b"a"], -1), now).unwrap();
    log.append(&mut batch(&[b"b"], -1), now + 500).unwrap();
    assert_eq!(log.segment_count(), 1);
    log.append(&mut batch(&[b"c"], -1), now + 5_000).unwrap();
    assert_eq!(log.segment_count(), 2);
    assert_eq!(log.max_timestamp(), None);
    assert_eq!(log.offset_for_timestamp(0).unwrap(), None);
}

#[test]
fn rolls_when_an_index_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t-0");
    // An entry for every batch but the first; room for 3 offset and 4 time entries.
    let config = LogConfig {
        index_interval_bytes: 0,
        max_index_bytes: 48,
        ..small_config()
    };
    {
        let mut log = PartitionLog::open(path.clone(), config.clone()).unwrap();
        append_n(&mut log, 20, 1, 100);
        // Several batches in one append must fit the index room too.
        let mut three = batch(&[b"a"], 200);
        three.extend(batch(&[b"b"], 201));
        three.extend(batch(&[b"c"], 202));
        log.append(&mut three, 0).unwrap();
        assert!(log.segment_count() >= 5);
        for seg in log.segments.values().take(log.segment_count() - 1) {
            let last = seg.time_index.last_entry().unwrap();
            assert_eq!(
                last.timestamp,
                seg.max_timestamp(),
                "closed segment keeps its max"
            );
        }
    }
    let log = PartitionLog::open(path, config).unwrap();
    assert_eq!(log.log_end_offset(), 23);
    for offset in 0..23 {
        assert_eq!(
            batches_in(&bytes_of(&log.read(offset, 1).unwrap()))[0].0,
            offset
        );
    }
    assert_eq!(log.offset_for_timestamp(110).unwrap(), Some((10, 110)));
    assert_eq!(log.max_timestamp(), Some((202, 22)));
}

#[test]
fn index_lookup_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t-0");
    let config = LogConfig {
        segment_bytes: 20_000,
        ..small_config()
    };
    {
        let mut log = PartitionLog::open(path.clone(), config.clone()).unwrap();
        append_n(&mut log, 500, 4, 5_000);
    }
    let log = PartitionLog::open(path, config).unwrap();
    assert_eq!(log.log_end_offset(), 2000);
    assert!(log.segment_count() > 3);
    for offset in (0..2000).step_by(37) {
        let s = log.read(offset, 1).unwrap();
        assert_eq!(batches_in(&bytes_of(&s)), vec![(offset / 4 * 4, 4)]);
    }
    assert_eq!(
        log.offset_for_timestamp(5_000 + 3 + 250).unwrap(),
        Some((1000, 5_000 + 3 + 250))
    );
}

#[test]
fn appends_continue_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t-0");
    {
        let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
        append_n(&mut log, 50, 2, 0);
    }
    let mut log = PartitionLog::open(path, small_config()).unwrap();
    assert_eq!(
        log.append(&mut batch(&[b"x"], 99), 99).unwrap().base_offset,
        100
    );
    let s = log.read(0, u32::MAX).unwrap();
    assert_eq!(batches_in(&bytes_of(&s)).len(), 51);
}
#[test]
fn timestamp_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 3000,
        ..small_config()
    };
    let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
    assert_eq!(log.offset_for_timestamp(0).unwrap(), None);
    assert_eq!(log.max_timestamp(), None);
    // Batch i (2 records at offsets 2i, 2i+1) has max timestamp 10_000 + 10 i + 1.
    for i in 0..200i64 {
        log.append(&mut batch(&[b"a", b"b"], 10_000 + 10 * i), 0)
            .unwrap();
    }
    assert!(log.segment_count() > 3);
    assert_eq!(log.offset_for_timestamp(0).unwrap(), Some((0, 10_001)));
    assert_eq!(log.offset_for_timestamp(10_001).unwrap(), Some((0, 10_001)));
    assert_eq!(log.offset_for_timestamp(10_002).unwrap(), Some((2, 10_011)));
    assert_eq!(
        log.offset_for_timestamp(10_000 + 10 * 123 + 1).unwrap(),
        Some((246, 11_231))
    );
    assert_eq!(
        log.offset_for_timestamp(10_000 + 10 * 199 + 1).unwrap(),
        Some((398, 11_991))
    );
    assert_eq!(log.offset_for_timestamp(12_000).unwrap(), None);
    assert_eq!(log.max_timestamp(), Some((11_991, 399)));
    // An older timestamp later in the log does not move the answers.
    log.append(&mut batch(&[b"late"], 10_500), 0).unwrap();
    assert_eq!(
        log.offset_for_timestamp(10_500).unwrap(),
        Some((100, 10_501))
    );
    assert_eq!(log.max_timestamp(), Some((11_991, 399)));
}

#[test]
fn flush_interval_messages_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        flush_interval_messages: Some(5),
        ..small_config()
    };
    let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
    append_n(&mut log, 2, 2, 0);
    assert_eq!(log.unflushed_messages, 4);
    append_n(&mut log, 1, 2, 0);
    assert_eq!(log.unflushed_messages, 0);
    let config = LogConfig {
        flush_interval_ms: Some(100),
        ..small_config()
    };
    let mut log = PartitionLog::open(dir.path().join("t-1"), config).unwrap();
    log.last_flush_ms = 0;
    log.append(&mut batch(&[b"a"], 0), 50).unwrap();
    assert_eq!(log.unflushed_messages, 1);
    assert!(!log.flush_if_due(60).unwrap());
    assert!(log.flush_if_due(150).unwrap());
    assert_eq!(log.unflushed_messages, 0);
}

#[test]
fn delete_removes_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t-0");
    let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
    append_n(&mut log, 5, 1, 0);
    let slice = log.read(0, u32::MAX).unwrap();
    log.delete().unwrap();
    assert!(!path.exists());
    assert_eq!(
        batches_in(&bytes_of(&slice)).len(),
        5,
        "in-flight reads still see the bytes"
    );
}

#[test]
fn stray_files_are_cleaned_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t-0");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("00000000000000000042.index"), [0u8; 16]).unwrap();
    std::fs::write(path.join("00000000000000000007.log.deleted"), b"x").unwrap();
    std::fs::write(path.join("leader-epoch-checkpoint"), b"0\n0\n").unwrap();
    let log = PartitionLog::open(path.clone(), small_config()).unwrap();
    assert_eq!(log.log_end_offset(), 0);
    assert_eq!(
        file_names(&path),
        [
            "00000000000000000000.index",
            "00000000000000000000.log",
            "00000000000000000000.timeindex",
            "leader-epoch-checkpoint"
        ]
    );
}

#[derive(Debug, Clone)]
enum Op {
    Append {
        batches: usize,
        records: usize,
        value: usize,
    },
    Reopen,
    Crash,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        8 => (1usize..4, 1usize..6, 0usize..300)
            .prop_map(|(batches, records, value)| Op::Append { batches, records, value }),
        1 => Just(Op::Reopen),
        1 => Just(Op::Crash),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    /// Against a model (the list of batches appended), through rolls, clean reopens and
    /// crashes: every offset reads back as the batch that holds it, whole and valid.
    #[test]
    fn behaves_like_its_model(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        let config = LogConfig {
            segment_bytes: 1500,
            index_interval_bytes: 100,
            max_index_bytes: 120,
            ..small_config()
        };
        let mut log = PartitionLog::open(path.clone(), config.clone()).unwrap();
        let mut model: Vec<(i64, i32)> = Vec::new();
        let mut next = 0i64;
        for op in ops {
            match op {
                Op::Append { batches, records, value } => {
                    let mut bytes = Vec::new();
                    for _ in 0..batches {
                        bytes.extend(batch_of(records, value, next));
                        model.push((next, records as i32));
                        next += records as i64;
                    }
                    let info = log.append(&mut bytes, 0).unwrap();
                    proptest::prop_assert_eq!(info.last_offset, next - 1);
                }
                Op::Reopen => {
                    drop(log);
                    log = PartitionLog::open(path.clone(), config.clone()).unwrap();
                }
                Op::Crash => {
                    crash(log);
                    log = PartitionLog::open(path.clone(), config.clone()).unwrap();
                }
            }
            proptest::prop_assert_eq!(log.log_end_offset(), next);
        }
        for &(base, count) in &model {
            for offset in [base, base + count as i64 - 1] {
                let got = batches_in(&bytes_of(&log.read(offset, 1).unwrap()));
                proptest::prop_assert_eq!(got, vec![(base, count)]);
            }
        }
        // Batch timestamps equal their offsets, so a time lookup finds the same batch.
        for &(base, count) in model.iter().step_by(3) {
            let last = base + count as i64 - 1;
            proptest::prop_assert_eq!(log.offset_for_timestamp(last).unwrap(), Some((base, last)));
        }
        let all = batches_in(&bytes_of(&log.read(0, u32::MAX).unwrap()));
        proptest::prop_assert_eq!(&all[..], &model[..all.len()]);
    }
}
