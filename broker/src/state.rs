//! The state every request handler shares: configuration, identity, topics, hooks.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::BrokerConfig;
use crate::topics::{TopicError, TopicRegistry};

/// Wall-clock milliseconds since the Unix epoch (Kafka timestamps).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Called with (topic name, topic id) after a topic is deleted.
pub type TopicDeletedHook = Box<dyn Fn(&str, Uuid) + Send + Sync>;

/// Shared broker state, one per running broker, behind an `Arc`.
pub struct BrokerState {
    pub config: BrokerConfig,
    /// `node.id`.
    pub node_id: i32,
    /// Host and port Metadata/FindCoordinator tell clients to connect to.
    pub advertised_host: String,
    pub advertised_port: i32,
    /// Persisted in `<data>/meta.properties`.
    pub cluster_id: String,
    pub topics: TopicRegistry,
    /// Consumer groups and committed offsets.
    pub groups: Arc<crate::group::GroupCoordinator>,
    /// Transactional ids and their transactions.
    pub txns: crate::txn::TransactionCoordinator,
    /// Cancelled when the broker shuts down; long-polls end early on it.
    pub shutdown: CancellationToken,
    topic_deleted_hooks: Mutex<Vec<TopicDeletedHook>>,
    next_producer_id: AtomicI64,
}

impl std::fmt::Debug for BrokerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerState")
            .field("node_id", &self.node_id)
            .field("advertised_host", &self.advertised_host)
            .field("advertised_port", &self.advertised_port)
            .finish_non_exhaustive()
    }
}

impl BrokerState {
    /// Opens the data directory (topics, cluster id).
    ///
    /// # Errors
    /// I/O or log recovery errors.
    pub fn open(
        config: BrokerConfig,
        advertised_host: String,
        advertised_port: i32,
        shutdown: CancellationToken,
    ) -> Result<Self, TopicError> {
        let topics = TopicRegistry::open(&config.data_dir, config.log.clone())?;
        let cluster_id = load_cluster_id(&config)?;
        let groups = crate::group::GroupCoordinator::open(&config.data_dir, (&config.group).into())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let txns = crate::txn::TransactionCoordinator::open(
            &config.data_dir,
            config.transaction_max_timeout_ms,
            config.transactional_id_expiration_ms,
        )?;
        let hook_groups = Arc::downgrade(&groups);
        let hooks: Vec<TopicDeletedHook> = vec![Box::new(move |name: &str, _id: Uuid| {
            if let Some(g) = hook_groups.upgrade() {
                g.forget_topic(name);
            }
        })];
        Ok(BrokerState {
            node_id: config.node_id,
            config,
            advertised_host,
            advertised_port,
            cluster_id,
            topics,
            groups,
            txns,
            shutdown,
            topic_deleted_hooks: Mutex::new(hooks),
            // Unique across restarts without persisting: milliseconds since 2020 << 8.
            next_producer_id: AtomicI64::new(((now_ms() - 1_577_836_800_000).max(0)) << 8),
        })
    }

    /// Registers a hook run after every topic deletion (e.g. to drop committed offsets).
    pub fn on_topic_deleted(&self, hook: TopicDeletedHook) {
        self.topic_deleted_hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(hook);
    }

    /// Deletes a topic and runs the hooks.
    ///
    /// # Errors
    /// Unknown topic.
    pub fn delete_topic(&self, name: &str) -> Result<Uuid, TopicError> {
        let topic = self.topics.delete(name)?;
        for hook in self
            .topic_deleted_hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            hook(&topic.name, topic.id);
        }
        Ok(topic.id)
    }

    /// A new producer id for InitProducerId.
    pub fn allocate_producer_id(&self) -> i64 {
        self.next_producer_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Shared handle.
pub type SharedState = Arc<BrokerState>;

fn load_cluster_id(config: &BrokerConfig) -> Result<String, std::io::Error> {
    let path = config.data_dir.join("meta.properties");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Some(id) = text.lines().find_map(|l| l.strip_prefix("cluster.id=")) {
            return Ok(id.trim().to_string());
        }
    }
    let id = crate::topics::topic_id_to_string(crate::topics::new_topic_id());
    let tmp = config.data_dir.join("meta.properties.tmp");
    std::fs::write(
        &tmp,
        format!("version=1\ncluster.id={id}\nnode.id={}\n", config.node_id),
    )?;
    std::fs::rename(tmp, path)?;
    Ok(id)
}
