//! Recovery on open: the log is the truth, the indexes are rebuilt from it.
//!
//! The active segment is re-validated from its last offset index entry: every batch from
//! there on must parse, fit in the file, carry a matching CRC-32C and continue the offsets.
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
        if h.base_offset < expected_offset || h.last_offset() - seg.base_offset() > u32::MAX as i64
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
