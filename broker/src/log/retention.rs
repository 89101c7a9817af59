//! Which segments retention deletes — Kafka's `deleteOldSegments` rules, as a pure function.
//!
//! Only whole segments go, oldest first, and a pass stops at the first segment it keeps:
//! 1. by time: a segment whose largest timestamp is more than `retention.ms` old;
//! 2. by size: while the log is larger than `retention.bytes` by at least the oldest
//!    segment's size.
//!
//! The active segment counts like any other: when every segment goes, the partition log
//! first rolls a new empty segment at the log end offset (as Kafka does), so the log start
//! offset advances to the log end offset and the log end offset never goes back. An empty
//! active segment is never deleted.

/// What retention needs to know of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentStats {
    pub size: u64,
    /// The segment's largest batch timestamp (or its file's mtime when batches carry none).
    pub largest_timestamp: i64,
}

/// How many of the oldest segments (`segments` is ordered oldest first, the active one
/// last) retention deletes at `now_ms`.
pub fn segments_to_delete(
    segments: &[SegmentStats],
    now_ms: i64,
    retention_ms: Option<u64>,
    retention_bytes: Option<u64>,
) -> usize {
    let deletable = |i: usize| !(i + 1 == segments.len() && segments[i].size == 0);
    let mut n = 0;
    if let Some(ms) = retention_ms {
        while n < segments.len()
            && deletable(n)
            && now_ms.saturating_sub(segments[n].largest_timestamp) > ms.min(i64::MAX as u64) as i64
        {
            n += 1;
        }
    }
    if let Some(bytes) = retention_bytes {
        let total: u64 = segments[n..].iter().map(|s| s.size).sum();
        let mut excess = total.saturating_sub(bytes);
        while n < segments.len() && deletable(n) && excess >= segments[n].size && total > bytes {
            excess -= segments[n].size;
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(size: u64, ts: i64) -> SegmentStats {
        SegmentStats {
            size,
            largest_timestamp: ts,
        }
    }

    #[test]
    fn by_time_deletes_the_expired_prefix() {
        let s = [seg(10, 100), seg(10, 500), seg(10, 200), seg(10, 900)];
        assert_eq!(segments_to_delete(&s, 1000, Some(600), None), 1);
        assert_eq!(
            segments_to_delete(&s, 1000, Some(400), None),
            3,
            "stops at the first kept segment"
        );
        assert_eq!(
            segments_to_delete(&s, 1000, Some(50), None),
            4,
            "the active one too: the log rolls"
        );
        assert_eq!(segments_to_delete(&s, 1000, None, None), 0);
    }

    #[test]
    fn by_size_keeps_the_log_under_the_limit() {
        let s = [seg(100, 0), seg(100, 0), seg(100, 0), seg(50, 0)];
        assert_eq!(segments_to_delete(&s, 0, None, Some(350)), 0);
        assert_eq!(
            segments_to_delete(&s, 0, None, Some(300)),
            0,
            "50 over, less than a segment"
        );
        assert_eq!(segments_to_delete(&s, 0, None, Some(250)), 1);
        assert_eq!(segments_to_delete(&s, 0, None, Some(0)), 4);
    }

    #[test]
    fn never_deletes_an_empty_active_segment() {
        let s = [seg(100, 0), seg(0, -1)];
        assert_eq!(segments_to_delete(&s, 10_000, Some(1), Some(0)), 1);
    }

    use super::super::batch::test_support::batch;
    use super::super::partition_log::test_support::*;
    use super::super::segment::segment_paths;
    use super::super::{LogConfig, LogError, PartitionLog};

    #[test]
    fn retention_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_bytes: 1000,
            retention_ms: Some(10_000),
            ..small_config()
        };
        let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
        append_n(&mut log, 30, 1, 100_000);
        append_n(&mut log, 30, 1, 200_000);
        let segments = log.segment_count();
        assert_eq!(
            log.enforce_retention(100_100).unwrap(),
            0,
            "nothing expired yet"
        );
        let deleted = log.enforce_retention(200_000 + 9_000).unwrap();
        assert!(deleted > 0 && deleted < segments);
        let start = log.log_start_offset();
        assert!(
            start > 0 && start <= 30,
            "old segments gone: log start {start}"
        );
        assert!(matches!(
            log.read(0, 100),
            Err(LogError::OffsetOutOfRange { .. })
        ));
        assert!(log.read(start, 100).unwrap().len > 0);
        assert!(!segment_paths(log.dir(), 0).0.exists());
        // Everything expired: the log rolls, keeps its end offset, and is empty.
        log.enforce_retention(300_000).unwrap();
        assert_eq!(
            (
                log.log_start_offset(),
                log.log_end_offset(),
                log.segment_count()
            ),
            (60, 60, 1)
        );
        assert_eq!(log.read(60, 100).unwrap().len, 0);
        assert_eq!(
            log.append(&mut batch(&[b"x"], 300_000), 300_000)
                .unwrap()
                .base_offset,
            60
        );
        drop(log);
        let log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
        assert_eq!(
            (log.log_start_offset(), log.log_end_offset()),
            (60, 61),
            "survives a restart"
        );
    }

    #[test]
    fn retention_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_bytes: 1000,
            retention_bytes: Some(3000),
            retention_ms: None,
            ..small_config()
        };
        let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
        append_n(&mut log, 100, 1, 0);
        let before = log.size_bytes();
        assert!(before > 6000);
        let deleted = log.enforce_retention(0).unwrap();
        assert!(deleted > 0);
        assert!(log.size_bytes() <= 3000 + 1000, "size {}", log.size_bytes());
        assert!(log.size_bytes() > 3000 - 1000);
        assert_eq!(log.log_end_offset(), 100);
        assert_eq!(log.enforce_retention(0).unwrap(), 0, "idempotent");
    }
}
