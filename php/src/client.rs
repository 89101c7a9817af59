//! The binding's view of one client instance (`RdKafka\Producer`,
//! `RdKafka\Consumer`, `RdKafka\KafkaConsumer`): the configuration and
//! callables it was built from, its owner process, and the core handle.
//!
//! Every network operation goes to the core crate; this module only adapts
//! types. Opaque values (`$msg_opaque`) stay on the PHP side in
//! [`OpaqueStore`]: the core carries a number, never a zval.

use std::cell::RefCell;
use std::collections::HashMap;

use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::Zval;
use kafkars::error::{ErrorCode, KafkaError};
use kafkars::runtime::ProcessGuard;
use kafkars::{Config, TopicConfig};

use crate::callbacks::Callbacks;
use crate::exception;

/// `Result` with a librdkafka-coded error from the core.
pub type KResult<T> = Result<T, KafkaError>;

/// `RD_KAFKA_PRODUCER` or `RD_KAFKA_CONSUMER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    Producer,
    Consumer,
}

/// Opaque zvals of in-flight messages, keyed by the number the core carries.
#[derive(Default)]
pub struct OpaqueStore {
    next: u64,
    values: HashMap<u64, Zval>,
}

impl OpaqueStore {
    /// Keeps `opaque` and returns its key (0 means "no opaque").
    pub fn insert(&mut self, opaque: Option<&Zval>) -> u64 {
        let Some(opaque) = opaque.filter(|z| !z.is_null()) else { return 0 };
        self.next += 1;
        self.values.insert(self.next, opaque.shallow_clone());
        self.next
    }

    /// Takes back the opaque of a finished message.
    pub fn take(&mut self, key: u64) -> Option<Zval> {
        if key == 0 {
            return None;
        }
        self.values.remove(&key)
    }

    /// Forgets an opaque whose message was never queued.
    pub fn discard(&mut self, key: u64) {
        self.values.remove(&key);
    }
}

/// The state every client class holds.
pub struct ClientState {
    pub kind: ClientKind,
    pub config: Config,
    pub callbacks: Callbacks,
    pub opaques: RefCell<OpaqueStore>,
    guard: ProcessGuard,
}

impl ClientState {
    pub fn new(kind: ClientKind, config: Config, callbacks: Callbacks) -> Self {
        ClientState {
            kind,
            config,
            callbacks,
            opaques: RefCell::new(OpaqueStore::default()),
            guard: ProcessGuard::new(),
        }
    }

    /// Refuses work in a process forked from the one that created the client.
    pub fn check_process(&self) -> PhpResult<()> {
        self.guard.check().map_err(exception::from_kafka)
    }

    /// The effective topic configuration for `newTopic()`.
    pub fn topic_config(&self, given: Option<&TopicConfig>) -> TopicConfig {
        given.cloned().unwrap_or_else(|| self.config.topic_config().clone())
    }
}

/// The error for an operation the core does not offer yet.
pub fn not_implemented() -> KafkaError {
    KafkaError::new(ErrorCode::NOT_IMPLEMENTED)
}
