//! Per-partition batches: `produce()` encodes each record straight into its partition's open
//! batch; full batches wait in `ready` for the sender.
//!
//! One mutex guards the whole accumulator: the caller's thread holds it for one record
//! encode, the sender for a scan. No `.await` happens under it.
//!
//! A batch buffer starts with room for the 61-byte RecordBatch header, so an uncompressed
//! batch is sent from the very buffer its records were encoded into (the header is filled
//! in when the batch is sent); after the broker's answer the buffer comes back to `spare`
//! for a later batch instead of being freed (fresh megabyte buffers cost page faults).

use crate::net::records::{encode_record_sized, HeaderRef, BATCH_HEADER_LEN};
use crate::partitioner::{random_partition, Partitioner};
use bytes::{BufMut, Bytes, BytesMut};
use rustc_hash::FxBuildHasher;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a delivery report needs from one message.
#[derive(Debug)]
pub(crate) struct MsgMeta {
    pub opaque: u64,
    pub timestamp: i64,
    /// Bytes counted against `queue.buffering.max.kbytes`.
    pub size: usize,
    pub len: usize,
    pub copy: Option<Box<MsgCopy>>,
}

/// Copies of key, payload and headers, kept only when reports must carry them.
#[derive(Debug)]
pub(crate) struct MsgCopy {
    pub key: Option<Bytes>,
    pub payload: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// A batch being filled: `records` is the header space followed by the records.
#[derive(Debug)]
pub(crate) struct OpenBatch {
    pub records: BytesMut,
    pub base_ts: i64,
    pub max_ts: i64,
    pub created: Instant,
    pub msgs: Vec<MsgMeta>,
}

/// A closed batch, waiting for or coming back from the broker.
#[derive(Debug)]
pub(crate) struct Batch {
    pub topic: Arc<str>,
    pub partition: i32,
    /// Header space (filled in when sent) followed by the records section.
    pub records: BytesMut,
    pub base_ts: i64,
    pub max_ts: i64,
    pub created: Instant,
    pub msgs: Vec<MsgMeta>,
    pub base_seq: i32,
    /// Wire form once built (kept for retries so sequence numbers stay the same).
    pub wire: Option<Bytes>,
    pub attempts: u32,
}

impl OpenBatch {
    fn close(self, topic: &Arc<str>, partition: i32) -> Batch {
        Batch {
            topic: topic.clone(),
            partition,
            records: self.records,
            base_ts: self.base_ts,
            max_ts: self.max_ts,
            created: self.created,
            msgs: self.msgs,
            base_seq: -1,
            wire: None,
            attempts: 0,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct PartQueue {
    pub open: Option<OpenBatch>,
    pub ready: VecDeque<Batch>,
    pub in_flight: bool,
    pub next_seq: i32,
    pub backoff_until: Option<Instant>,
    /// Messages in this partition's last closed batch (sizes the next one's list).
    pub last_batch_msgs: usize,
    /// Messages and bytes delivered (statistics `txmsgs`/`txbytes`).
    pub txmsgs: u64,
    pub txbytes: u64,
}

#[derive(Debug)]
pub(crate) struct TopicQueue {
    pub name: Arc<str>,
    pub parts: Vec<PartQueue>,
    pub partitioner: Partitioner,
    /// The partition null-keyed messages stick to, and since when (wall clock, ms).
    sticky: Option<(i32, i64)>,
}

/// The topics' queues by name. Looked up once per produced message, and applications
/// mostly produce to one topic after another: the last hit is compared first, before an
/// FxHash lookup (topic names come from the application, not from the network, so there is
/// no hash-flooding to defend against).
#[derive(Debug, Default)]
pub(crate) struct Topics {
    list: Vec<TopicQueue>,
    index: HashMap<String, usize, FxBuildHasher>,
    last: usize,
}

impl Topics {
    pub fn get_mut(&mut self, name: &str) -> Option<&mut TopicQueue> {
        let hit = self.list.get(self.last).is_some_and(|t| &*t.name == name);
        if !hit {
            self.last = *self.index.get(name)?;
        }
        self.list.get_mut(self.last)
    }

    fn get_or_insert_with(
        &mut self,
        name: &str,
        make: impl FnOnce() -> TopicQueue,
    ) -> &mut TopicQueue {
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.list.push(make());
                self.index.insert(name.to_string(), self.list.len() - 1);
                self.list.len() - 1
            }
        };
        &mut self.list[i]
    }

    pub fn values(&self) -> impl Iterator<Item = &TopicQueue> {
        self.list.iter()
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut TopicQueue> {
        self.list.iter_mut()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|t| &*t.name)
    }
}

/// A message produced before its topic's partition count was known.
#[derive(Debug)]
pub(crate) struct UaMessage {
    pub topic: String,
    pub partition: i32,
    pub key: Option<Bytes>,
    pub payload: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
    pub meta: MsgMeta,
    pub enqueued: Instant,
}

/// Batch limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub batch_size: usize,
    pub batch_num: usize,
    pub sticky_linger: Duration,
}

#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    pub topics: Topics,
    pub ua: VecDeque<UaMessage>,
    pub flushing: usize,
    /// Per-topic partitioners set through a topic configuration.
    pub partitioners: HashMap<String, Partitioner>,
    /// Messages and bytes `produce()` queued and not yet added to the producer's out-queue
    /// counters (see `Inner::lock_acc`).
    pub unfolded: (usize, usize),
    /// Buffers of sent batches, for reuse (at most [`SPARE_BUFFERS`]).
    pub spare: Vec<BytesMut>,
    /// Message lists of finished batches, emptied, for reuse (at most [`SPARE_BUFFERS`]):
    /// a full batch's list is hundreds of kilobytes, fresh pages each time otherwise.
    pub spare_msgs: Vec<Vec<MsgMeta>>,
}

/// Most bytes a record's offset and timestamp deltas (varints, at most 5 and 10 bytes) and
/// its grown length prefix add to its size computed with zero deltas.
const RECORD_DELTA_SLACK: usize = 16;

/// Batch buffers kept for reuse.
const SPARE_BUFFERS: usize = 4;

/// Outcome of an append.
pub(crate) enum Appended {
    /// Appended; `true` when the sender should look now (a batch filled up or started).
    Ok(bool),
    /// The partition does not exist.
    UnknownPartition,
}

/// Asks for the cache lines the next records will be written to. A recycled batch buffer
/// was last read by the sender's thread and the kernel; without this, the stores of each
/// record wait for those lines and the accumulator lock's release waits for the stores.
#[inline]
fn prefetch_tail(buf: &BytesMut) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let end = buf.as_ptr().wrapping_add(buf.len());
        for ahead in [128, 192, 256] {
            if buf.len() + ahead < buf.capacity() {
                // SAFETY: a prefetch is only a hint; it never faults, whatever the address
                // (and this one is inside the buffer's allocation).
                unsafe { _mm_prefetch::<_MM_HINT_T0>(end.wrapping_add(ahead).cast::<i8>()) };
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = buf;
}

impl Accumulator {
    /// Creates or grows a topic's queues to `count` partitions.
    pub fn ensure_topic(&mut self, topic: &str, count: usize, default: Partitioner) {
        let partitioner = self.partitioners.get(topic).copied().unwrap_or(default);
        let tq = self.topics.get_or_insert_with(topic, || TopicQueue {
            name: Arc::from(topic),
            parts: Vec::new(),
            partitioner,
            sticky: None,
        });
        while tq.parts.len() < count {
            tq.parts.push(PartQueue::default());
        }
    }

    /// Appends a record to its partition's open batch. The topic must exist. `zero_body` is
    /// the record's `body_size(0, 0, ...)`; `now_ms` is the wall clock (for
    /// `sticky.partitioning.linger.ms`).
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        tq: &mut TopicQueue,
        spare: &mut Vec<BytesMut>,
        spare_msgs: &mut Vec<Vec<MsgMeta>>,
        partition: i32,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: &[HeaderRef<'_>],
        zero_body: usize,
        meta: MsgMeta,
        now_ms: i64,
        limits: &Limits,
    ) -> Appended {
        let cnt = tq.parts.len() as i32;
        let p = if partition >= 0 {
            if partition >= cnt {
                return Appended::UnknownPartition;
            }
            partition
        } else {
            match tq.partitioner.key_partition(key, cnt) {
                Some(p) => p,
                None if limits.sticky_linger.is_zero() => random_partition(cnt),
                None => match tq.sticky {
                    Some((p, at))
                        if now_ms.saturating_sub(at) < limits.sticky_linger.as_millis() as i64
                            && p < cnt =>
                    {
                        p
                    }
                    _ => {
                        let p = random_partition(cnt);
                        tq.sticky = Some((p, now_ms));
                        p
                    }
                },
            }
        };
        let pq = &mut tq.parts[p as usize];
        let mut wake = false;
        if let Some(open) = &pq.open {
            // `meta.size` is the record's size with zero deltas; the real deltas add at most
            // RECORD_DELTA_SLACK bytes (cheaper than sizing the record again).
            let sz = meta.size + RECORD_DELTA_SLACK;
            if open.msgs.len() >= limits.batch_num || open.records.len() + sz > limits.batch_size {
                if let Some(open) = pq.open.take() {
                    pq.last_batch_msgs = open.msgs.len();
                    pq.ready.push_back(open.close(&tq.name, p));
                }
                wake = true;
            }
        }
        let open = pq.open.get_or_insert_with(|| {
            wake = true;
            let mut records = spare
                .pop()
                .unwrap_or_else(|| BytesMut::with_capacity(limits.batch_size.min(16 * 1024)));
            records.put_bytes(0, BATCH_HEADER_LEN);
            OpenBatch {
                records,
                base_ts: meta.timestamp,
                max_ts: meta.timestamp,
                created: Instant::now(),
                msgs: spare_msgs.pop().unwrap_or_else(|| {
                    Vec::with_capacity(pq.last_batch_msgs.clamp(16, limits.batch_num))
                }),
            }
        });
        encode_record_sized(
            &mut open.records,
            zero_body,
            meta.timestamp - open.base_ts,
            open.msgs.len() as i32,
            key,
            payload,
            headers,
        );
        open.max_ts = open.max_ts.max(meta.timestamp);
        open.msgs.push(meta);
        prefetch_tail(&open.records);
        Appended::Ok(wake)
    }

    /// Keeps the buffer of a finished batch for a later one: its records buffer, or (sent
    /// uncompressed) its wire form once nobody else holds it.
    pub fn recycle(&mut self, b: &mut Batch) {
        if self.spare.len() >= SPARE_BUFFERS {
            return;
        }
        let buf = if b.records.capacity() > 0 {
            Some(std::mem::take(&mut b.records))
        } else {
            b.wire.take().and_then(|w| w.try_into_mut().ok())
        };
        if let Some(mut buf) = buf {
            buf.clear();
            self.spare.push(buf);
        }
    }

    /// Keeps a (reported) batch's message list for a later batch.
    pub fn recycle_msgs(&mut self, mut msgs: Vec<MsgMeta>) {
        if self.spare_msgs.len() < SPARE_BUFFERS && msgs.capacity() > 0 {
            msgs.clear();
            self.spare_msgs.push(msgs);
        }
    }

    /// Closes open batches that lingered long enough (or all when flushing) and returns the
    /// earliest moment another one will be due.
    pub fn close_due(&mut self, linger: Duration, now: Instant) -> Option<Instant> {
        let all = self.flushing > 0;
        let mut next: Option<Instant> = None;
        for tq in self.topics.values_mut() {
            let name = tq.name.clone();
            for (i, pq) in tq.parts.iter_mut().enumerate() {
                if let Some(open) = &pq.open {
                    let due = open.created + linger;
                    if all || due <= now {
                        if let Some(open) = pq.open.take() {
                            pq.ready.push_back(open.close(&name, i as i32));
                        }
                    } else {
                        next = Some(next.map_or(due, |n| n.min(due)));
                    }
                }
            }
        }
        next
    }

    /// Whether nothing is queued (open, ready, or unassigned).
    pub fn is_empty(&self) -> bool {
        self.ua.is_empty()
            && self.topics.values().all(|t| {
                t.parts
                    .iter()
                    .all(|p| p.open.is_none() && p.ready.is_empty())
            })
    }
}
