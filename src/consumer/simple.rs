//! The low-level consumer (php's `RdKafka\Consumer` with `ConsumerTopic`): partitions are
//! started and stopped explicitly at an offset; no group membership. Stored offsets are
//! committed to the group coordinator (when `group.id` is set) on stop and on close.

use super::fetcher::Fetcher;
use super::message::Message;
use super::offsets::{CommitIdentity, Coordinator};
use crate::client::Client;
use crate::config::Config;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::{Event, EventQueue};
use crate::topic_partition::{TopicPartition, OFFSET_BEGINNING, OFFSET_END, OFFSET_STORED};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A per-partition consumer.
pub struct Consumer {
    client: Client,
    fetcher: Arc<Fetcher>,
    events: Arc<EventQueue>,
    coordinator: Option<Coordinator>,
    stored: Arc<Mutex<BTreeMap<(String, i32), i64>>>,
    /// Some partition was started once (librdkafka's simple-consumer mark): from then on
    /// offsets may be stored for partitions that are not started.
    started_once: AtomicBool,
    /// Topics whose metadata was asked for when the application named them.
    topics_named: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").finish_non_exhaustive()
    }
}

impl Consumer {
    /// Creates the consumer (nothing is fetched until a partition is started).
    ///
    /// # Errors
    /// When the runtime cannot start.
    pub fn new(conf: Config) -> Result<Consumer> {
        let client = Client::new_consumer(&conf)?;
        let events = Arc::new(EventQueue::new(10_000));
        client.cluster.log.attach(&events);
        let fetcher = Fetcher::start(client.clone(), events.clone());
        let stats_ms = conf.get_i64("statistics.interval.ms");
        if stats_ms > 0 {
            client.handle.spawn(emit_stats(
                Arc::downgrade(&fetcher),
                Arc::downgrade(&events),
                Duration::from_millis(stats_ms as u64),
            ));
        }
        let stored = Arc::new(Mutex::new(BTreeMap::new()));
        let group = conf.get_str("group.id");
        let interval = conf.get_i64("auto.commit.interval.ms");
        if let (Some(g), true, true) = (
            &group,
            conf.topic_config().get("auto.commit.enable").as_deref() == Some("true"),
            interval > 0,
        ) {
            client.handle.spawn(auto_commit(
                client.clone(),
                g.clone(),
                Arc::downgrade(&stored),
                Duration::from_millis(interval as u64),
            ));
        }
        Ok(Consumer {
            coordinator: group.map(|g| Coordinator::new(&g)),
            client,
            fetcher,
            events,
            stored,
            started_once: AtomicBool::new(false),
            topics_named: Mutex::new(HashSet::new()),
        })
    }

    /// The role-independent queries.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The application named `topic` (`newTopic()`): as librdkafka does for a new topic
    /// object, its metadata is asked for in the background (once per name, without creating
    /// the topic), so that its partitions become known to [`Consumer::check_partition`].
    pub fn name_topic(&self, topic: &str) {
        if !self.client.guard.is_owner() {
            return;
        }
        let first = self
            .topics_named
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic.to_string());
        if first {
            let cluster = self.client.cluster.clone();
            let topics = [topic.to_string()];
            self.client.handle.spawn(async move {
                // A failure leaves the topic unknown until a later refresh; nothing waits.
                let _ = cluster.fetch_metadata(Some(&topics), false).await;
            });
        }
    }

    fn in_metadata(&self, topic: &str, partition: i32) -> bool {
        self.client
            .cluster
            .topic(topic)
            .is_some_and(|t| t.err.is_ok() && t.partitions.iter().any(|p| p.id == partition))
    }

    /// librdkafka's partition lookup for the per-partition calls (`consume`,
    /// `consume_batch`, `consume_stop`, consume callbacks): a partition is known when the
    /// cached metadata lists it or when it is started; `PARTITION_UA` (-1) always is.
    ///
    /// # Errors
    /// `_UNKNOWN_PARTITION` otherwise (e.g. right after `newTopic()`, before its metadata
    /// arrived, or past the topic's partition count).
    pub fn check_partition(&self, topic: &str, partition: i32) -> Result<()> {
        if partition == crate::topic_partition::PARTITION_UA
            || self.fetcher.is_started(topic, partition)
            || self.in_metadata(topic, partition)
        {
            Ok(())
        } else {
            Err(KafkaError::new(ErrorCode::UNKNOWN_PARTITION))
        }
    }

    fn reset_offset(&self) -> i64 {
        match self.client.conf.get("auto.offset.reset").as_deref() {
            Some("smallest") => OFFSET_BEGINNING,
            _ => OFFSET_END,
        }
    }

    /// Starts fetching `topic`/`partition` at `offset`: absolute, `OFFSET_BEGINNING`,
    /// `OFFSET_END`, `OFFSET_STORED` (committed offset, else `auto.offset.reset`) or a tail
    /// offset (`offset_tail(n)`).
    ///
    /// As with librdkafka this returns at once: the committed offset for `OFFSET_STORED` is
    /// fetched in the background (retried until it arrives or the partition is stopped), so
    /// an unreachable coordinator shows as nothing to consume, not as an error here.
    ///
    /// # Errors
    /// `_INVALID_ARG` for a negative partition; `_STATE` in a forked child.
    pub fn consume_start(&self, topic: &str, partition: i32, offset: i64) -> Result<()> {
        self.client.guard.check()?;
        if partition < 0 {
            return Err(KafkaError::new(ErrorCode::INVALID_ARG));
        }
        let stored = offset == OFFSET_STORED;
        let off = match (&self.coordinator, stored) {
            (None, true) => self.reset_offset(),
            _ => offset,
        };
        let epoch = self.fetcher.start_partition(topic, partition, off);
        self.started_once.store(true, Ordering::Relaxed);
        if let (Some(c), true) = (&self.coordinator, stored) {
            self.client.handle.spawn(resolve_stored(
                self.client.clone(),
                Arc::downgrade(&self.fetcher),
                c.group_id.clone(),
                TopicPartition::new(topic, partition, OFFSET_STORED),
                epoch,
                self.reset_offset(),
            ));
        }
        Ok(())
    }

    /// Stops fetching a partition (committing its stored offset when `group.id` is set).
    ///
    /// # Errors
    /// `_UNKNOWN_PARTITION` as [`Consumer::check_partition`]; `_STATE` in a forked child.
    pub fn consume_stop(&self, topic: &str, partition: i32) -> Result<()> {
        self.client.guard.check()?;
        self.check_partition(topic, partition)?;
        self.fetcher.stop_partition(topic, partition);
        let off = self
            .stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(topic.to_string(), partition));
        if let Some(off) = off {
            self.commit(vec![TopicPartition::new(topic, partition, off)]);
        }
        Ok(())
    }

    fn commit(&self, tps: Vec<TopicPartition>) {
        let Some(c) = &self.coordinator else { return };
        let cluster = self.client.cluster.clone();
        let group = c.group_id.clone();
        let id = CommitIdentity {
            generation: -1,
            member_id: String::new(),
        };
        let _ = self
            .client
            .block_on(self.client.cluster.request_timeout(), async move {
                Coordinator::new(&group).commit(&cluster, &id, &tps).await
            });
    }

    /// One message of a partition, waiting up to `timeout` (`None` on timeout).
    pub fn consume(&self, topic: &str, partition: i32, timeout: Duration) -> Option<Message> {
        if !self.client.guard.is_owner() {
            return None;
        }
        self.fetcher.pop(Some((topic, partition)), timeout)
    }

    /// Up to `max` messages of a partition within `timeout`.
    pub fn consume_batch(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
        max: usize,
    ) -> Vec<Message> {
        let deadline = crate::runtime::deadline_after(timeout);
        let mut out = Vec::new();
        while out.len() < max {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.consume(
                topic,
                partition,
                if out.is_empty() { left } else { Duration::ZERO },
            ) {
                Some(m) => out.push(m),
                None => break,
            }
        }
        out
    }

    /// The next message of any started partition (php's `Queue::consume`).
    pub fn consume_any(&self, timeout: Duration) -> Option<Message> {
        if !self.client.guard.is_owner() {
            return None;
        }
        self.fetcher.pop(None, timeout)
    }

    /// Stores `offset` as the partition's offset to commit (`offsetStore`); php passes the
    /// consumed message's offset, and the next offset (`offset + 1`) is what gets committed.
    ///
    /// As librdkafka, the partition must be in the cached metadata (being started is not
    /// enough), and before any partition was ever started only logical offsets are taken.
    ///
    /// # Errors
    /// `_UNKNOWN_PARTITION` for a partition the metadata does not list; `_STATE` for an
    /// absolute offset before any `consume_start`, and in a forked child.
    pub fn offset_store(&self, topic: &str, partition: i32, offset: i64) -> Result<()> {
        self.client.guard.check()?;
        if !self.in_metadata(topic, partition) {
            return Err(KafkaError::new(ErrorCode::UNKNOWN_PARTITION));
        }
        if !self.started_once.load(Ordering::Relaxed) && offset.saturating_add(1) >= 0 {
            return Err(KafkaError::new(ErrorCode::STATE));
        }
        self.stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((topic.to_string(), partition), offset + 1);
        Ok(())
    }

    /// Moves a started partition to `offset`.
    ///
    /// # Errors
    /// `_UNKNOWN_PARTITION` when the partition is not started.
    pub fn seek(&self, topic: &str, partition: i32, offset: i64) -> Result<()> {
        self.fetcher.seek(topic, partition, offset)
    }

    /// Takes pending events (errors, logs).
    pub fn poll_events(&self, max: usize, timeout: Duration) -> Vec<Event> {
        self.events.pop(max, timeout)
    }

    /// Pauses (or resumes) partitions.
    pub fn set_paused(&self, tps: &[TopicPartition], paused: bool) -> Vec<TopicPartition> {
        tps.iter()
            .map(|tp| {
                let mut o = tp.clone();
                o.err = self.fetcher.set_paused(&tp.topic, tp.partition, paused);
                o
            })
            .collect()
    }
}

/// Fetches the committed offset of a partition started at `OFFSET_STORED` and hands it (or
/// `reset` when nothing is committed) to the fetcher; retries after a failure, every
/// `fetch.error.backoff.ms`, until it succeeds or the partition is stopped or restarted.
async fn resolve_stored(
    client: Client,
    fetcher: std::sync::Weak<Fetcher>,
    group: String,
    tp: TopicPartition,
    epoch: u64,
    reset: i64,
) {
    let coordinator = Coordinator::new(&group);
    let backoff = Duration::from_millis(
        client
            .conf
            .get_i64("fetch.error.backoff.ms")
            .clamp(10, 60_000) as u64,
    );
    loop {
        let result = coordinator
            .fetch(&client.cluster, std::slice::from_ref(&tp), false)
            .await;
        let Some(f) = fetcher.upgrade() else { return };
        match result {
            Ok(r) => {
                let off = r
                    .first()
                    .map(|t| t.offset)
                    .filter(|o| *o >= 0)
                    .unwrap_or(reset);
                f.resolve_stored(&tp.topic, tp.partition, epoch, off);
                return;
            }
            Err(_) if f.awaits_stored(&tp.topic, tp.partition, epoch) => {
                drop(f);
                coordinator.reset();
                tokio::time::sleep(backoff).await;
            }
            Err(_) => return,
        }
    }
}

/// Queues statistics every `interval` until the consumer is gone.
async fn emit_stats(
    fetcher: std::sync::Weak<Fetcher>,
    events: std::sync::Weak<EventQueue>,
    interval: Duration,
) {
    loop {
        tokio::time::sleep(interval).await;
        let (Some(f), Some(q)) = (fetcher.upgrade(), events.upgrade()) else {
            return;
        };
        let (n, bytes) = f.queued();
        let snap = crate::stats::Snapshot {
            replyq: q.len(),
            msg_cnt: n,
            msg_size: bytes,
            msg_max: 0,
            msg_size_max: f.queued_max_bytes(),
            partitions: f.partition_stats(),
            cgrp: None,
        };
        let cluster = &f.client().cluster;
        q.push(Event::Stats(cluster.instance.json(
            &cluster.known_brokers(),
            cluster.metadata_cache_cnt(),
            &f.counters,
            &snap,
        )));
    }
}

/// Commits changed stored offsets every `interval` (`auto.commit.enable`), until the
/// consumer is gone.
async fn auto_commit(
    client: Client,
    group: String,
    stored: std::sync::Weak<Mutex<BTreeMap<(String, i32), i64>>>,
    interval: Duration,
) {
    let coord = Coordinator::new(&group);
    let mut committed: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let id = CommitIdentity {
        generation: -1,
        member_id: String::new(),
    };
    loop {
        tokio::time::sleep(interval).await;
        let Some(stored) = stored.upgrade() else {
            return;
        };
        let todo: Vec<TopicPartition> = stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(k, v)| committed.get(*k) != Some(*v))
            .map(|((t, p), o)| TopicPartition::new(t.clone(), *p, *o))
            .collect();
        drop(stored);
        if todo.is_empty() {
            continue;
        }
        if let Ok(res) = coord.commit(&client.cluster, &id, &todo).await {
            for tp in res.into_iter().filter(|tp| tp.err.is_ok()) {
                committed.insert((tp.topic, tp.partition), tp.offset);
            }
        }
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        if !self.client.guard.is_owner() {
            return;
        }
        let stored: Vec<TopicPartition> =
            std::mem::take(&mut *self.stored.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .map(|((t, p), o)| TopicPartition::new(t, p, o))
                .collect();
        if !stored.is_empty() {
            self.commit(stored);
        }
        self.fetcher.shutdown();
    }
}
