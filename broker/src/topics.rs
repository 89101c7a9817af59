//! The topic registry: which topics exist, their ids and their partitions' logs.
//!
//! ```text
//! <data>/<topic>-<partition>/
//!     partition.metadata      "version: 0\ntopic_id: <base64url uuid>\n" (as Kafka writes it)
//!     0000….log / .index / .timeindex   (owned by `log::PartitionLog`)
//! ```
//!
//! Locking: the registry map is a `std::sync::RwLock` held only to look up or insert (never
//! across I/O that clients wait on, never across `.await`); each partition's log sits behind
//! its own `std::sync::Mutex`, so produce and fetch on different partitions never contend.
//! A `watch` channel per partition carries the log end offset, so long-polling fetches wake
//! on appends without polling.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tokio::sync::watch;
use uuid::Uuid;

use crate::log::{LogConfig, LogError, PartitionLog};
use crate::producer_state::ProducerState;
use crate::topic_config::{InvalidTopicConfig, TopicConfig};

/// Errors of topic administration, mapped to Kafka codes in `api/`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    #[error("topic {0:?} already exists")]
    AlreadyExists(String),
    #[error("invalid topic name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("unknown topic {0:?}")]
    Unknown(String),
    #[error("invalid partition count {count}: {reason}")]
    InvalidPartitions { count: i32, reason: &'static str },
    #[error(transparent)]
    InvalidConfig(#[from] InvalidTopicConfig),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Largest partition count one topic may have (bounds memory and open files).
pub const MAX_PARTITIONS: i32 = 10_000;

/// Checks a topic name the way Kafka does: 1–249 chars of `[a-zA-Z0-9._-]`, not `.`/`..`.
///
/// # Errors
/// `TopicError::InvalidName` with the reason.
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    let bad = |reason| {
        Err(TopicError::InvalidName {
            name: name.into(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name == "." || name == ".." {
        return bad("'.' and '..' are not allowed");
    }
    if name.len() > 249 {
        return bad("longer than 249 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return bad("only ASCII letters, digits, '.', '_' and '-' are allowed");
    }
    Ok(())
}

/// One partition: its log and the notifier long-polling fetches wait on.
#[derive(Debug)]
pub struct Partition {
    pub topic: String,
    pub index: i32,
    /// `None` once the topic is deleted.
    log: Mutex<Option<PartitionLog>>,
    /// Recent idempotent batches; locked only while `log` is held (lock order: log first).
    producers: Mutex<ProducerState>,
    end_offset: watch::Sender<i64>,
}

impl Partition {
    /// Wraps an opened log, rebuilding the idempotent-producer state from its tail. A log
    /// whose tail cannot be scanned still opens (reads will report the damage); its
    /// producers start out unknown.
    fn new(topic: &str, index: i32, mut log: PartitionLog) -> Self {
        let (end_offset, _) = watch::channel(log.log_end_offset());
        let producers = ProducerState::load(&mut log).unwrap_or_else(|e| {
            tracing::warn!(topic, partition = index, error = %e, "producer state not rebuilt from the log");
            ProducerState::default()
        });
        Partition {
            topic: topic.into(),
            index,
            log: Mutex::new(Some(log)),
            producers: Mutex::new(producers),
            end_offset,
        }
    }

    /// Locks the log. `None` inside means the partition was deleted meanwhile.
    pub fn log(&self) -> MutexGuard<'_, Option<PartitionLog>> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The idempotent-producer state. Lock only while holding [`Partition::log`].
    pub fn producers(&self) -> MutexGuard<'_, ProducerState> {
        self.producers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A receiver of the log end offset, changed after every append.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.end_offset.subscribe()
    }

    /// Wakes fetches waiting on this partition (call after an append).
    pub fn notify_appended(&self, log_end_offset: i64) {
        self.end_offset.send_replace(log_end_offset);
    }

    /// Closes and reopens the log with new settings.
    fn reopen(&self, dir: PathBuf, config: LogConfig) -> Result<(), LogError> {
        let mut guard = self.log();
        if let Some(old) = guard.as_mut() {
            old.flush()?;
        }
        drop(guard.take()); // close the files before opening them again
        *guard = Some(PartitionLog::open(dir, config)?);
        Ok(())
    }

    fn take_log(&self) -> Option<PartitionLog> {
        self.log().take()
    }
}

/// One topic.
#[derive(Debug)]
pub struct Topic {
    pub name: String,
    pub id: Uuid,
    /// Topic-level overrides (`retention.ms` …), and the broker's log settings with them
    /// applied; changed together by `TopicRegistry::alter_config`.
    settings: RwLock<(TopicConfig, LogConfig)>,
    partitions: RwLock<Vec<Arc<Partition>>>,
}

impl Topic {
    /// The topic-level overrides and the effective log settings.
    pub fn settings(&self) -> (TopicConfig, LogConfig) {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The topic-level overrides.
    pub fn config(&self) -> TopicConfig {
        self.settings().0
    }

    /// The partitions, in index order.
    pub fn partitions(&self) -> Vec<Arc<Partition>> {
        self.partitions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// One partition, if it exists.
    pub fn partition(&self, index: i32) -> Option<Arc<Partition>> {
        let parts = self.partitions.read().unwrap_or_else(|e| e.into_inner());
        usize::try_from(index)
            .ok()
            .and_then(|i| parts.get(i).cloned())
    }

    /// Number of partitions.
    pub fn partition_count(&self) -> i32 {
        self.partitions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len() as i32
    }
}

/// All topics of this broker.
#[derive(Debug)]
pub struct TopicRegistry {
    data_dir: PathBuf,
    log_config: LogConfig,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    /// Serialises create/delete/add-partitions so directory work does not race.
    admin: Mutex<()>,
}

impl TopicRegistry {
    /// Opens the data directory (creating it), loading every `<topic>-<partition>` directory.
    ///
    /// # Errors
    /// I/O errors, log recovery errors, a topic with missing partitions or mismatched ids.
    pub fn open(data_dir: &Path, log_config: LogConfig) -> Result<Self, TopicError> {
        std::fs::create_dir_all(data_dir)?;
        type Dirs = BTreeMap<i32, (PathBuf, Option<Uuid>)>;
        let mut found: BTreeMap<String, Dirs> = BTreeMap::new();
        for entry in std::fs::read_dir(data_dir)? {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some((topic, part)) = name.rsplit_once('-') else {
                continue;
            };
            let Ok(part) = part.parse::<i32>() else {
                continue;
            };
            if validate_topic_name(topic).is_err() || part < 0 {
                continue;
            }
            let id = read_partition_metadata(&entry.path());
            found
                .entry(topic.to_string())
                .or_default()
                .insert(part, (entry.path(), id));
        }
        let mut topics = BTreeMap::new();
        for (name, parts) in found {
            let mut id = parts.values().find_map(|(_, id)| *id);
            let id = *id.get_or_insert_with(new_topic_id);
            let config = parts
                .values()
                .find_map(|(dir, _)| TopicConfig::load(dir))
                .unwrap_or_default();
            let topic_log_config = config.log_config(&log_config).unwrap_or_else(|e| {
                tracing::warn!(topic = %name, error = %e, "ignoring stored topic config");
                log_config.clone()
            });
            let mut partitions = Vec::with_capacity(parts.len());
            for (expected, (index, (dir, pid))) in parts.into_iter().enumerate() {
                if index as usize != expected {
                    tracing::warn!(topic = %name, index, "partition directories are not contiguous; ignoring the rest");
                    break;
                }
                if pid != Some(id) {
                    write_partition_metadata(&dir, id)?;
                }
                let log = PartitionLog::open(dir, topic_log_config.clone())?;
                partitions.push(Arc::new(Partition::new(&name, index, log)));
            }
            tracing::info!(topic = %name, partitions = partitions.len(), "loaded topic");
            topics.insert(
                name.clone(),
                Arc::new(Topic {
                    name,
                    id,
                    settings: RwLock::new((config, topic_log_config)),
                    partitions: RwLock::new(partitions),
                }),
            );
        }
        Ok(TopicRegistry {
            data_dir: data_dir.to_path_buf(),
            log_config,
            topics: RwLock::new(topics),
            admin: Mutex::new(()),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A topic by name.
    pub fn get(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// A topic by id.
    pub fn get_by_id(&self, id: Uuid) -> Option<Arc<Topic>> {
        let topics = self.topics.read().unwrap_or_else(|e| e.into_inner());
        topics.values().find(|t| t.id == id).cloned()
    }

    /// All topics, sorted by name.
    pub fn list(&self) -> Vec<Arc<Topic>> {
        self.topics
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Creates a topic with `partitions` partitions (directories, metadata, empty logs).
    ///
    /// # Errors
    /// Invalid name or count, already exists, I/O.
    pub fn create(&self, name: &str, partitions: i32) -> Result<Arc<Topic>, TopicError> {
        self.create_with_config(name, partitions, TopicConfig::default())
    }

    /// Validates topic-level settings against the broker's log settings.
    ///
    /// # Errors
    /// An unknown or unusable setting.
    pub fn check_config(&self, config: &TopicConfig) -> Result<LogConfig, TopicError> {
        Ok(config.log_config(&self.log_config)?)
    }

    /// Creates a topic with topic-level overrides (`retention.ms` …).
    ///
    /// # Errors
    /// Invalid name, count or config, already exists, I/O.
    pub fn create_with_config(
        &self,
        name: &str,
        partitions: i32,
        config: TopicConfig,
    ) -> Result<Arc<Topic>, TopicError> {
        validate_topic_name(name)?;
        let log_config = self.check_config(&config)?;
        check_partition_count(partitions)?;
        let _admin = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        if self.get(name).is_some() {
            return Err(TopicError::AlreadyExists(name.into()));
        }
        let id = new_topic_id();
        let mut parts = Vec::with_capacity(partitions as usize);
        for index in 0..partitions {
            match self.open_partition(name, index, id, &log_config, &config) {
                Ok(p) => parts.push(Arc::new(p)),
                Err(e) => {
                    for p in parts {
                        if let Some(log) = p.take_log() {
                            let _ = log.delete();
                        }
                    }
                    return Err(e);
                }
            }
        }
        let topic = Arc::new(Topic {
            name: name.into(),
            id,
            settings: RwLock::new((config, log_config)),
            partitions: RwLock::new(parts),
        });
        self.topics
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.into(), topic.clone());
        tracing::info!(topic = name, partitions, "created topic");
        Ok(topic)
    }

    /// Grows a topic to `total` partitions.
    ///
    /// # Errors
    /// Unknown topic, `total` not larger than now, I/O.
    pub fn add_partitions(&self, name: &str, total: i32) -> Result<(), TopicError> {
        check_partition_count(total)?;
        let _admin = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        let topic = self
            .get(name)
            .ok_or_else(|| TopicError::Unknown(name.into()))?;
        let current = topic.partition_count();
        if total <= current {
            return Err(TopicError::InvalidPartitions {
                count: total,
                reason: "must be larger than the current partition count",
            });
        }
        for index in current..total {
            let (config, log_config) = topic.settings();
            let p = Arc::new(self.open_partition(name, index, topic.id, &log_config, &config)?);
            topic
                .partitions
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .push(p);
        }
        tracing::info!(topic = name, from = current, to = total, "added partitions");
        Ok(())
    }

    /// Replaces a topic's overrides: stored in every partition directory, then each log is
    /// reopened with the new settings (appends and reads wait on the partition lock meanwhile).
    ///
    /// # Errors
    /// Unknown topic, invalid config, I/O (a partition whose log fails to reopen reports
    /// errors until restart).
    pub fn alter_config(&self, name: &str, config: TopicConfig) -> Result<(), TopicError> {
        let log_config = self.check_config(&config)?;
        let _admin = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        let topic = self
            .get(name)
            .ok_or_else(|| TopicError::Unknown(name.into()))?;
        for p in topic.partitions() {
            let dir = self.data_dir.join(format!("{name}-{}", p.index));
            config.store(&dir)?;
            p.reopen(dir, log_config.clone())?;
        }
        *topic.settings.write().unwrap_or_else(|e| e.into_inner()) = (config, log_config);
        tracing::info!(topic = name, "altered topic config");
        Ok(())
    }

    /// Removes a topic and deletes its files. Fetches waiting on it see the partition gone.
    ///
    /// # Errors
    /// Unknown topic; I/O errors while deleting files are logged, not returned.
    pub fn delete(&self, name: &str) -> Result<Arc<Topic>, TopicError> {
        let _admin = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        let topic = self
            .topics
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
            .ok_or_else(|| TopicError::Unknown(name.into()))?;
        for p in topic.partitions() {
            if let Some(log) = p.take_log() {
                if let Err(e) = log.delete() {
                    tracing::warn!(topic = name, partition = p.index, error = %e, "deleting partition files failed");
                }
            }
            p.notify_appended(-1);
        }
        tracing::info!(topic = name, "deleted topic");
        Ok(topic)
    }

    /// Applies `f` to every live partition log (retention, flush); errors are logged.
    pub fn for_each_log(
        &self,
        mut f: impl FnMut(&Partition, &mut PartitionLog) -> Result<(), LogError>,
    ) {
        for topic in self.list() {
            for p in topic.partitions() {
                let mut guard = p.log();
                if let Some(log) = guard.as_mut() {
                    if let Err(e) = f(&p, log) {
                        tracing::warn!(topic = %p.topic, partition = p.index, error = %e, "log maintenance failed");
                    }
                }
            }
        }
    }

    fn open_partition(
        &self,
        name: &str,
        index: i32,
        id: Uuid,
        log_config: &LogConfig,
        config: &TopicConfig,
    ) -> Result<Partition, TopicError> {
        let dir = self.data_dir.join(format!("{name}-{index}"));
        let log = PartitionLog::open(dir.clone(), log_config.clone())?;
        write_partition_metadata(&dir, id)?;
        config.store(&dir)?;
        Ok(Partition::new(name, index, log))
    }
}

fn check_partition_count(count: i32) -> Result<(), TopicError> {
    if count < 1 {
        return Err(TopicError::InvalidPartitions {
            count,
            reason: "must be at least 1",
        });
    }
    if count > MAX_PARTITIONS {
        return Err(TopicError::InvalidPartitions {
            count,
            reason: "more than 10000",
        });
    }
    Ok(())
}

/// A fresh random (v4) topic id, never the all-zero or Kafka's reserved ids.
pub fn new_topic_id() -> Uuid {
    loop {
        let mut b: [u8; 16] = rand::random();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let id = Uuid::from_bytes(b);
        if id.as_u128() > 1 {
            return id;
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Kafka's text form of a topic id: URL-safe base64 without padding (22 characters).
pub fn topic_id_to_string(id: Uuid) -> String {
    let bytes = id.as_bytes();
    let mut out = String::with_capacity(22);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Parses [`topic_id_to_string`]'s form.
pub fn topic_id_from_str(s: &str) -> Option<Uuid> {
    if s.len() != 22 {
        return None;
    }
    let mut bits: u128 = 0;
    let mut nbits = 0u32;
    let mut out = Vec::with_capacity(16);
    for c in s.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u128;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    Some(Uuid::from_bytes(out.try_into().ok()?))
}

fn read_partition_metadata(dir: &Path) -> Option<Uuid> {
    let text = std::fs::read_to_string(dir.join("partition.metadata")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("topic_id:"))
        .and_then(|v| topic_id_from_str(v.trim()))
}

fn write_partition_metadata(dir: &Path, id: Uuid) -> Result<(), std::io::Error> {
    let tmp = dir.join("partition.metadata.tmp");
    std::fs::write(
        &tmp,
        format!("version: 0\ntopic_id: {}\n", topic_id_to_string(id)),
    )?;
    std::fs::rename(tmp, dir.join("partition.metadata"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_id_text_round_trips() {
        for _ in 0..100 {
            let id = new_topic_id();
            let s = topic_id_to_string(id);
            assert_eq!(s.len(), 22);
            assert_eq!(topic_id_from_str(&s), Some(id));
        }
        assert_eq!(topic_id_to_string(Uuid::nil()), "AAAAAAAAAAAAAAAAAAAAAA");
    }

    #[test]
    fn names_are_validated() {
        assert!(validate_topic_name("xiaojun.events_1-a").is_ok());
        for bad in ["", ".", "..", "a b", "é", &"x".repeat(250)] {
            assert!(validate_topic_name(bad).is_err(), "{bad:?}");
        }
    }
}
