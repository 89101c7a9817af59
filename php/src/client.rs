//! The binding's view of one client instance (`RdKafka\Producer`,
//! `RdKafka\Consumer`, `RdKafka\KafkaConsumer`): the configuration and
//! callables it was built from, the core client behind it, and the events
//! taken from the core but not yet handed to PHP.
//!
//! Opaque values (`$msg_opaque`) stay on the PHP side in [`OpaqueStore`]: the
//! core carries a number, never a zval.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};

use ext_php_rs::exception::{PhpException, PhpResult};
use ext_php_rs::types::Zval;
use kafkars::client::Client;
use kafkars::consumer::{Consumer, KafkaConsumer, Message};
use kafkars::error::{ErrorCode, KafkaError};
use kafkars::event::Event;
use kafkars::producer::Producer;
use kafkars::runtime::ProcessGuard;
use kafkars::{Config, TopicConfig};

use crate::callbacks::{CallbackKind, Callbacks};
use crate::exception::{self, from_kafka, from_kafka_detailed};

/// `Result` with a librdkafka-coded error from the core.
pub type KResult<T> = Result<T, KafkaError>;

/// Which core client a PHP class wraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// `RdKafka\Producer`.
    Producer,
    /// `RdKafka\Consumer` (low level).
    Consumer,
    /// `RdKafka\KafkaConsumer` (group managed).
    GroupConsumer,
}

/// Opaque zvals of in-flight messages, keyed by the number the core carries.
#[derive(Default)]
pub struct OpaqueStore {
    next: u64,
    values: HashMap<u64, Zval>,
}

impl OpaqueStore {
    /// Keeps `opaque` and returns its key (0 means "no opaque").
    pub fn insert(&mut self, opaque: Zval) -> u64 {
        self.next += 1;
        self.values.insert(self.next, opaque);
        self.next
    }

    /// Takes back the opaque of a finished (or never queued) message.
    pub fn take(&mut self, key: u64) -> Option<Zval> {
        if key == 0 {
            return None;
        }
        self.values.remove(&key)
    }
}

/// The core object behind a client (one per PHP object, never moved).
#[allow(clippy::large_enum_variant)]
pub enum Backend {
    Producer(Producer),
    Consumer(Consumer),
    GroupConsumer(KafkaConsumer),
}

/// The state every client class holds.
pub struct ClientState {
    pub kind: ClientKind,
    pub callbacks: Callbacks,
    pub opaques: RefCell<OpaqueStore>,
    /// Events taken from the core and not yet served (a callback threw).
    pub pending: RefCell<VecDeque<Event>>,
    /// A message taken from the core while callbacks were still to run.
    pub stashed: RefCell<Option<Message>>,
    /// Topic names as PHP strings, shared by the messages this client returns.
    pub topic_names: crate::message::TopicNames,
    config: Config,
    guard: ProcessGuard,
    /// `KafkaConsumer::close()` was called: php-rdkafka drops its handle
    /// then, and every later method call throws.
    closed: Cell<bool>,
    /// Partitions started with `consumeStart()`/`consumeQueueStart()` and not
    /// stopped (php-rdkafka refuses a second start of the same partition).
    consuming: RefCell<HashSet<(String, i32)>>,
    backend: Backend,
}

/// php-rdkafka throws what `rd_kafka_new()` wrote to its error string, with code 0.
fn construction_error(err: kafkars::KafkaError) -> PhpException {
    crate::exception::rdkafka_exception(err.message, 0)
}

impl ClientState {
    /// Creates the core client for `config`.
    ///
    /// # Errors
    /// `RdKafka\Exception` (code 0, as php-rdkafka's constructors after a failed
    /// `rd_kafka_new()`) when the core refuses the configuration or cannot start its runtime.
    pub fn new(kind: ClientKind, config: Config, callbacks: Callbacks) -> PhpResult<Self> {
        crate::oauthbearer::check_conf(&config, &callbacks)?;
        let backend = match kind {
            ClientKind::Producer => {
                let producer = Producer::new(config.clone()).map_err(construction_error)?;
                if callbacks.is_set(CallbackKind::DrMsg) {
                    producer.enable_delivery_reports(true);
                }
                Backend::Producer(producer)
            }
            ClientKind::Consumer => {
                Backend::Consumer(Consumer::new(config.clone()).map_err(construction_error)?)
            }
            ClientKind::GroupConsumer => {
                let consumer = KafkaConsumer::new(config.clone()).map_err(construction_error)?;
                consumer.set_rebalance_callback(callbacks.is_set(CallbackKind::Rebalance));
                consumer.set_offset_commit_callback(callbacks.is_set(CallbackKind::OffsetCommit));
                Backend::GroupConsumer(consumer)
            }
        };
        let core_client = match &backend {
            Backend::Producer(p) => p.client(),
            Backend::Consumer(c) => c.client(),
            Backend::GroupConsumer(c) => c.client(),
        };
        // php-rdkafka sets `log.queue` with a log callback: lines are served at poll points.
        // Without one, librdkafka's default logger prints them to stderr as they happen.
        let logger = core_client.logger();
        logger.set_log_events(callbacks.is_set(CallbackKind::Log));
        logger.set_print(!callbacks.is_set(CallbackKind::Log));
        logger.set_error_events(callbacks.is_set(CallbackKind::Error));
        core_client.warn_config();
        crate::oauthbearer::on_create(core_client, &callbacks);
        Ok(ClientState {
            kind,
            callbacks,
            opaques: RefCell::new(OpaqueStore::default()),
            pending: RefCell::new(VecDeque::new()),
            stashed: RefCell::new(None),
            topic_names: crate::message::TopicNames::default(),
            config,
            guard: ProcessGuard::new(),
            closed: Cell::new(false),
            consuming: RefCell::new(HashSet::new()),
            backend,
        })
    }

    /// Refuses work in a process forked from the one that created the client.
    /// Also refuses a closed `KafkaConsumer`, with php-rdkafka's exception.
    pub fn check_process(&self) -> PhpResult<()> {
        if self.closed.get() {
            return Err(PhpException::from_message(
                "RdKafka\\KafkaConsumer::__construct() has not been called, or RdKafka\\KafkaConsumer::close() was already called"
                    .into(),
            ));
        }
        // One atomic load while no fork() happened (the core's fork generation).
        self.guard.check().map_err(from_kafka_detailed)
    }

    /// Marks the client closed (`KafkaConsumer::close()`, even one whose
    /// callbacks threw, as php-rdkafka).
    pub fn mark_closed(&self) {
        self.closed.set(true);
    }

    /// php-rdkafka's check before starting to consume a partition.
    ///
    /// # Errors
    /// `RdKafka\Exception` (code 0) when the partition is already consumed.
    pub fn check_not_consuming(&self, topic: &str, partition: i32) -> PhpResult<()> {
        if self
            .consuming
            .borrow()
            .contains(&(topic.to_owned(), partition))
        {
            return Err(exception::rdkafka_exception(
                format!(
                    "{topic}:{partition} is already being consumed by the same Consumer instance"
                ),
                0,
            ));
        }
        Ok(())
    }

    /// Records a started (`true`) or stopped (`false`) partition.
    pub fn set_consuming(&self, topic: &str, partition: i32, consuming: bool) {
        let key = (topic.to_owned(), partition);
        let mut set = self.consuming.borrow_mut();
        if consuming {
            set.insert(key);
        } else {
            set.remove(&key);
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The effective topic configuration for `newTopic()`.
    pub fn topic_config(&self, given: Option<&TopicConfig>) -> TopicConfig {
        given
            .cloned()
            .unwrap_or_else(|| self.config.topic_config().clone())
    }

    /// The role-independent core client (metadata, watermarks …).
    pub fn client(&self) -> &Client {
        match &self.backend {
            Backend::Producer(p) => p.client(),
            Backend::Consumer(c) => c.client(),
            Backend::GroupConsumer(c) => c.client(),
        }
    }

    pub fn producer(&self) -> Option<&Producer> {
        match &self.backend {
            Backend::Producer(p) => Some(p),
            _ => None,
        }
    }

    /// The low-level consumer, or `_INVALID_ARG` for other clients.
    pub fn consumer(&self) -> PhpResult<&Consumer> {
        match &self.backend {
            Backend::Consumer(c) => Ok(c),
            _ => Err(from_kafka(KafkaError::new(ErrorCode::INVALID_ARG))),
        }
    }

    /// The group consumer, or `_INVALID_ARG` for other clients.
    pub fn group_consumer(&self) -> PhpResult<&KafkaConsumer> {
        match &self.backend {
            Backend::GroupConsumer(c) => Ok(c),
            _ => Err(from_kafka(KafkaError::new(ErrorCode::INVALID_ARG))),
        }
    }

    /// Takes up to `max` events from the core, waiting up to `timeout`.
    pub fn poll_events(&self, max: usize, timeout: std::time::Duration) -> Vec<Event> {
        match &self.backend {
            Backend::Producer(p) => p.poll_events(max, timeout),
            Backend::Consumer(c) => c.poll_events(max, timeout),
            Backend::GroupConsumer(c) => c.poll_events(max, timeout),
        }
    }
}
