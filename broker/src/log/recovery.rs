//! Recovery on open: the log is the truth, the indexes are rebuilt from it.
//!
//! The active segment is re-validated from its last offset index entry: every batch from
//! there on must parse, fit in the file, carry a matching CRC-32C and continue the offsets
//! without a gap.
//! The first one that does not — a batch torn by a crash mid-write, a flipped byte — and
//! everything after it is cut off, so the log ends with its last valid batch. If the last
//! index entry does not point at the batch it names, or an index file is missing or was
//! left preallocated by a crash, the whole segment is scanned and its indexes rebuilt.
//!
//! Reading goes through a fixed 64 KiB buffer, so a corrupt length field can never make us
//! allocate: lengths are only believed once they fit in the file.

use std::os::unix::fs::FileExt;

use super::batch::{BatchHeader, HEADER_LEN};
use super::segment::{ScanState, Segment};
use super::LogError;

const CHUNK: usize = 64 * 1024;

/// What recovery did to a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecoveryReport {
    /// Bytes cut from the end of the `.log`.
    pub truncated_bytes: u64,
    /// Whether the indexes were rebuilt from a full scan.
    pub rebuilt_indexes: bool,
}

/// Re-validates the active segment's tail from its last index entry (or all of it if the
/// indexes disagree with the log), truncating a torn or corrupt tail. The indexes must be
/// preallocated.
///
/// # Errors
/// I/O errors reading or truncating.
pub fn recover_active(
    seg: &mut Segment,
    index_interval_bytes: u32,
) -> Result<RecoveryReport, LogError> {
    let first = first_timestamp(seg)?;
    let Some(entry) = seg.offset_index.last_entry() else {
        // Less than one index interval of log: scanning it all is the tail check.
        return rebuild(seg, index_interval_bytes).map(|r| RecoveryReport {
            rebuilt_indexes: false,
            ..r
        });
    };
    let file_len = seg.file().metadata()?.len();
    let header = match read_valid_batch(seg, entry.position as u64, file_len)? {
        Some(h) if h.last_offset() == entry.offset => h,
        _ => return rebuild(seg, index_interval_bytes),
    };
    // Resume from the batch the entry names: its entry exists, and the time index entry
    // written with it holds the largest timestamp up to it.
    seg.time_index.truncate_to(entry.offset + 1);
    let (max_timestamp, offset_of_max_timestamp) = seg
        .time_index
        .last_entry()
        .map_or((-1, seg.base_offset()), |e| (e.timestamp, e.offset));
    let state = ScanState {
        size: entry.position as u64,
        next_offset: header.base_offset,
        max_timestamp,
        offset_of_max_timestamp,
        rolling_timestamp: first,
        bytes_since_index_entry: 0,
    };
    let truncated_bytes = scan(seg, state, file_len, index_interval_bytes)?;
    Ok(RecoveryReport {
        truncated_bytes,
        rebuilt_indexes: false,
    })
}

/// Scans the whole segment, truncating a torn or corrupt tail, and rebuilds both indexes.
/// The indexes must be preallocated.
///
/// # Errors
/// I/O errors reading or truncating.
pub fn rebuild(seg: &mut Segment, index_interval_bytes: u32) -> Result<RecoveryReport, LogError> {
    let file_len = seg.file().metadata()?.len();
    seg.offset_index.clear();
    seg.time_index.clear();
    let state = ScanState {
        size: 0,
        next_offset: seg.base_offset(),
        max_timestamp: -1,
        offset_of_max_timestamp: seg.base_offset(),
        rolling_timestamp: None,
        bytes_since_index_entry: 0,
    };
    let truncated_bytes = scan(seg, state, file_len, index_interval_bytes)?;
    Ok(RecoveryReport {
        truncated_bytes,
        rebuilt_indexes: true,
    })
}

/// Whether a closed segment's indexes can be trusted without a scan: both files were
/// present, trimmed (no crash left them preallocated), and the last offset index entry
/// points at the batch it names.
///
/// # Errors
/// I/O errors reading the log.
pub fn closed_indexes_agree(seg: &Segment) -> Result<bool, LogError> {
    if seg.offset_index.has_slack() || seg.time_index.has_slack() {
        return Ok(false);
    }
    Ok(match seg.offset_index.last_entry() {
        None => true,
        Some(e) => {
            matches!(seg.header_at(e.position as u64), Ok(Some(h)) if h.last_offset() == e.offset)
        }
    })
}

fn first_timestamp(seg: &Segment) -> Result<Option<i64>, LogError> {
    let file_len = seg.file().metadata()?.len();
    Ok(read_valid_batch(seg, 0, file_len)?.map(|h| h.max_timestamp))
}

/// Walks batches from `state.size`, accounting each valid one into the segment, and cuts the
/// file after the last valid one. Returns the bytes cut.
fn scan(
    seg: &mut Segment,
    state: ScanState,
    file_len: u64,
    index_interval_bytes: u32,
) -> Result<u64, LogError> {
    seg.set_scan_state(state);
    let mut position = state.size;
    let mut expected_offset = state.next_offset;
    while let Some(h) = read_valid_batch(seg, position, file_len)? {
        // Offsets are contiguous in our logs (no compaction): a base offset that does not
        // continue them is damage the CRC cannot see, as it only covers bytes 21 onward.
        if h.base_offset != expected_offset || h.last_offset() - seg.base_offset() > u32::MAX as i64
        {
            break;
        }
        seg.account_batch(&h, position, index_interval_bytes);
        expected_offset = h.next_offset();
        position += h.size() as u64;
    }
    let next_offset = seg.next_offset();
    let mut s = seg.scan_state();
    s.size = position;
    seg.set_scan_state(s);
    if position < file_len {
        seg.truncate_to(position, next_offset)?;
        tracing::warn!(
            log = %seg.log_path().display(),
            position,
            truncated = file_len - position,
            "truncated a torn or corrupt tail of the log"
        );
    }
    Ok(file_len - position)
}

/// The batch at `position` if it is whole within `file_len` and its CRC-32C matches.
fn read_valid_batch(
    seg: &Segment,
    position: u64,
    file_len: u64,
) -> Result<Option<BatchHeader>, LogError> {
    if position + HEADER_LEN as u64 > file_len {
        return Ok(None);
    }
    let file = seg.file();
    let mut head = [0u8; HEADER_LEN];
    file.read_exact_at(&mut head, position)?;
    let header = match BatchHeader::parse(&head) {
        Ok(Some(h)) => h,
        _ => return Ok(None),
    };
    let end = position + header.size() as u64;
    if end > file_len {
        return Ok(None);
    }
    let mut crc = BatchHeader::crc_of_header_tail(&head);
    let mut buf = vec![0u8; CHUNK.min(header.size() - HEADER_LEN)];
    let mut at = position + HEADER_LEN as u64;
    while at < end {
        let n = ((end - at) as usize).min(buf.len());
        file.read_exact_at(&mut buf[..n], at)?;
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        at += n as u64;
    }
    Ok((crc == header.crc).then_some(header))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::FileExt;

    use super::super::batch::test_support::batch;
    use super::super::partition_log::test_support::*;
    use super::super::segment::segment_paths;
    use super::super::{LogConfig, PartitionLog};
    use proptest::prelude::*;

    #[test]
    fn recovers_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
        append_n(&mut log, 40, 3, 0);
        let size = log.size_bytes();
        crash(log);
        let file = segment_paths(&path, 0).0;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .unwrap()
            .set_len(size - 7)
            .unwrap();
        let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
        assert_eq!(log.log_end_offset(), 117, "the torn last batch is gone");
        assert_eq!(std::fs::metadata(&file).unwrap().len(), log.size_bytes());
        assert_eq!(
            log.append(&mut batch(&[b"x"], 5), 5).unwrap().base_offset,
            117
        );
        assert_eq!(
            batches_in(&bytes_of(&log.read(110, u32::MAX).unwrap())).last(),
            Some(&(117, 1))
        );
    }

    #[test]
    fn recovers_a_corrupt_byte_in_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
        append_n(&mut log, 40, 3, 0);
        let s = log.read(114, 1).unwrap();
        let (position, len) = (s.position, s.len as u64);
        crash(log);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(segment_paths(&path, 0).0)
            .unwrap();
        let mut byte = [0u8; 1];
        file.read_exact_at(&mut byte, position + len - 3).unwrap();
        file.write_all_at(&[byte[0] ^ 0x40], position + len - 3)
            .unwrap();
        let log = PartitionLog::open(path, small_config()).unwrap();
        assert_eq!(
            log.log_end_offset(),
            114,
            "cut at the batch with the bad CRC"
        );
        assert_eq!(log.size_bytes(), position);
        assert_eq!(
            batches_in(&bytes_of(&log.read(0, u32::MAX).unwrap())).len(),
            38
        );
    }

    #[test]
    fn garbage_after_the_last_batch_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
        append_n(&mut log, 10, 1, 0);
        let size = log.size_bytes();
        crash(log);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(segment_paths(&path, 0).0)
            .unwrap();
        // A plausible header claiming a huge batch: must not be believed or allocated.
        let mut fake = batch(&[b"zz"], 0);
        fake[8..12].copy_from_slice(&i32::MAX.to_be_bytes());
        file.write_all_at(&fake, size).unwrap();
        let log = PartitionLog::open(path, small_config()).unwrap();
        assert_eq!((log.log_end_offset(), log.size_bytes()), (10, size));
    }

    #[test]
    fn missing_indexes_are_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        let config = LogConfig {
            segment_bytes: 10_000,
            ..small_config()
        };
        {
            let mut log = PartitionLog::open(path.clone(), config.clone()).unwrap();
            append_n(&mut log, 300, 2, 1_000);
        }
        let bases: Vec<i64> = {
            let log = PartitionLog::open(path.clone(), config.clone()).unwrap();
            log.segments.keys().copied().collect()
        };
        let closed = segment_paths(&path, bases[0]);
        let active = segment_paths(&path, *bases.last().unwrap());
        let closed_index_len = std::fs::metadata(&closed.1).unwrap().len();
        for p in [&closed.1, &closed.2, &active.1, &active.2] {
            std::fs::remove_file(p).unwrap();
        }
        let log = PartitionLog::open(path.clone(), config).unwrap();
        assert_eq!(log.log_end_offset(), 600);
        assert_eq!(
            std::fs::metadata(&closed.1).unwrap().len(),
            closed_index_len,
            "same entries as before"
        );
        assert!(log.segments.values().next().unwrap().offset_index.entries() > 0);
        assert!(
            log.segments
                .values()
                .next_back()
                .unwrap()
                .offset_index
                .entries()
                > 0
        );
        for offset in (0..600).step_by(13) {
            assert_eq!(
                batches_in(&bytes_of(&log.read(offset, 1).unwrap()))[0].0,
                offset / 2 * 2
            );
        }
        assert_eq!(
            log.offset_for_timestamp(1_000 + 1 + 250).unwrap(),
            Some((500, 1_251))
        );
        assert_eq!(log.max_timestamp(), Some((1_000 + 1 + 299, 599)));
    }

    #[test]
    fn an_index_that_disagrees_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
        append_n(&mut log, 100, 2, 0);
        let entries = log.active().offset_index.entries() as u64;
        assert!(entries > 2);
        crash(log);
        // Point the last entry one byte into its batch.
        let index = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(segment_paths(&path, 0).1)
            .unwrap();
        let mut e = [0u8; 4];
        index.read_exact_at(&mut e, (entries - 1) * 8 + 4).unwrap();
        index
            .write_all_at(
                &(u32::from_be_bytes(e) + 1).to_be_bytes(),
                (entries - 1) * 8 + 4,
            )
            .unwrap();
        let log = PartitionLog::open(path, small_config()).unwrap();
        assert_eq!(log.log_end_offset(), 200);
        for offset in (0..200).step_by(3) {
            assert_eq!(
                batches_in(&bytes_of(&log.read(offset, 1).unwrap()))[0].0,
                offset / 2 * 2
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Whatever a crash leaves at the end of the active segment, open never panics and
        /// keeps exactly the valid batches before the damage.
        #[test]
        fn damaged_tails_never_panic(
            garbage in proptest::collection::vec(any::<u8>(), 0..300),
            cut in 0u64..400,
            flip in proptest::option::of((1u64..170, 1u8..=255)),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t-0");
            let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
            append_n(&mut log, 30, 2, 0);
            let size = log.size_bytes();
            crash(log);
            let file = std::fs::OpenOptions::new().read(true).write(true).open(segment_paths(&path, 0).0).unwrap();
            let end = size - cut.min(size);
            file.set_len(end).unwrap();
            file.write_all_at(&garbage, end).unwrap();
            // Damage the last batch (175 bytes), the part a crash can tear.
            if let Some((back, x)) = flip {
                let at = end.saturating_sub(back);
                let mut b = [0u8; 1];
                if file.read_exact_at(&mut b, at).is_ok() {
                    file.write_all_at(&[b[0] ^ x], at).unwrap();
                }
            }
            let log = PartitionLog::open(path, small_config()).unwrap();
            let leo = log.log_end_offset();
            prop_assert!(leo <= 60 && leo % 2 == 0);
            let all = log.read(0, u32::MAX).unwrap();
            let batches = batches_in(&bytes_of(&all));
            prop_assert_eq!(batches.len() as i64, leo / 2);
        }

        /// A segment file of random bytes opens as an empty (or valid-prefix) log.
        #[test]
        fn random_segment_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t-0");
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(segment_paths(&path, 0).0, &bytes).unwrap();
            std::fs::write(segment_paths(&path, 0).1, &bytes[..bytes.len() / 8 * 8]).unwrap();
            let log = PartitionLog::open(path, small_config()).unwrap();
            let _ = log.read(0, u32::MAX);
        }
    }
}
