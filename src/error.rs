//! librdkafka's error model: codes, names, texts, and the classification users rely on.
//!
//! Codes are librdkafka's numbers: negative codes are client-side ("Local: ...") errors,
//! non-negative codes are the Kafka protocol's own error codes, so a broker error code maps to
//! the same number here. The table in `error_table.rs` is librdkafka 2.15.0's
//! `rd_kafka_get_err_descs()` and is the single source of names and texts.

use crate::error_table::ERR_DESCS;
use std::fmt;

/// A librdkafka error code (`rd_kafka_resp_err_t`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ErrorCode(pub i32);

macro_rules! codes {
    ($($name:ident = $v:expr),* $(,)?) => {
        impl ErrorCode { $(#[allow(missing_docs)] pub const $name: ErrorCode = ErrorCode($v);)* }
    };
}

codes! {
    BAD_MSG = -199, BAD_COMPRESSION = -198, DESTROY = -197, FAIL = -196, TRANSPORT = -195,
    RESOLVE = -193, MSG_TIMED_OUT = -192, PARTITION_EOF = -191, UNKNOWN_PARTITION = -190,
    UNKNOWN_TOPIC = -188, ALL_BROKERS_DOWN = -187, INVALID_ARG = -186, TIMED_OUT = -185,
    QUEUE_FULL = -184, WAIT_COORD = -180, UNKNOWN_GROUP = -179, IN_PROGRESS = -178,
    ASSIGN_PARTITIONS = -175, REVOKE_PARTITIONS = -174, CONFLICT = -173, STATE = -172,
    UNKNOWN_PROTOCOL = -171, NOT_IMPLEMENTED = -170, NO_OFFSET = -168, OUTDATED = -167,
    TIMED_OUT_QUEUE = -166, UNSUPPORTED_FEATURE = -165, INTR = -163, PARTIAL = -158,
    NOENT = -156, UNDERFLOW = -155, RETRY = -153, PURGE_QUEUE = -152, PURGE_INFLIGHT = -151,
    FATAL = -150, INCONSISTENT = -149, MAX_POLL_EXCEEDED = -147, UNKNOWN_BROKER = -146,
    NOT_CONFIGURED = -145, FENCED = -144, ASSIGNMENT_LOST = -142, NOOP = -141,
    AUTO_OFFSET_RESET = -140, SSL = -181, AUTHENTICATION = -169,
    UNKNOWN = -1, NO_ERROR = 0, OFFSET_OUT_OF_RANGE = 1, INVALID_MSG = 2,
    UNKNOWN_TOPIC_OR_PART = 3, INVALID_MSG_SIZE = 4, LEADER_NOT_AVAILABLE = 5,
    NOT_LEADER_FOR_PARTITION = 6, REQUEST_TIMED_OUT = 7, BROKER_NOT_AVAILABLE = 8,
    REPLICA_NOT_AVAILABLE = 9, MSG_SIZE_TOO_LARGE = 10, NETWORK_EXCEPTION = 13,
    COORDINATOR_LOAD_IN_PROGRESS = 14, COORDINATOR_NOT_AVAILABLE = 15, NOT_COORDINATOR = 16,
    TOPIC_EXCEPTION = 17, NOT_ENOUGH_REPLICAS = 19, NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    ILLEGAL_GENERATION = 22, INCONSISTENT_GROUP_PROTOCOL = 23, INVALID_GROUP_ID = 24,
    UNKNOWN_MEMBER_ID = 25, INVALID_SESSION_TIMEOUT = 26, REBALANCE_IN_PROGRESS = 27,
    TOPIC_AUTHORIZATION_FAILED = 29, GROUP_AUTHORIZATION_FAILED = 30,
    CLUSTER_AUTHORIZATION_FAILED = 31, UNSUPPORTED_VERSION = 35, TOPIC_ALREADY_EXISTS = 36,
    OUT_OF_ORDER_SEQUENCE_NUMBER = 45, DUPLICATE_SEQUENCE_NUMBER = 46,
    INVALID_PRODUCER_EPOCH = 47, TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
    KAFKA_STORAGE_ERROR = 56, UNKNOWN_PRODUCER_ID = 59, FETCH_SESSION_ID_NOT_FOUND = 70,
    INVALID_FETCH_SESSION_EPOCH = 71, LISTENER_NOT_FOUND = 72, FENCED_LEADER_EPOCH = 74,
    UNKNOWN_LEADER_EPOCH = 75, OFFSET_NOT_AVAILABLE = 78, MEMBER_ID_REQUIRED = 79,
    PREFERRED_LEADER_NOT_AVAILABLE = 80, FENCED_INSTANCE_ID = 82,
    ELIGIBLE_LEADERS_NOT_AVAILABLE = 83, UNSTABLE_OFFSET_COMMIT = 88,
    THROTTLING_QUOTA_EXCEEDED = 89, PRODUCER_FENCED = 90, UNKNOWN_TOPIC_ID = 100,
}

/// One row of `rd_kafka_get_err_descs()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrDesc {
    /// The code.
    pub code: ErrorCode,
    /// Name without the `RD_KAFKA_RESP_ERR_` prefix (e.g. `_QUEUE_FULL`).
    pub name: &'static str,
    /// `rd_kafka_err2str()` text; empty for the `_BEGIN`/`_END` markers.
    pub desc: &'static str,
}

/// All error descriptions in librdkafka's order (as php-rdkafka's `rd_kafka_get_err_descs()`).
pub fn err_descs() -> impl Iterator<Item = ErrDesc> {
    ERR_DESCS.iter().map(|&(c, n, d)| ErrDesc {
        code: ErrorCode(c),
        name: n,
        desc: d,
    })
}

fn lookup(code: i32) -> Option<&'static (i32, &'static str, &'static str)> {
    ERR_DESCS
        .binary_search_by_key(&code, |e| e.0)
        .ok()
        .map(|i| &ERR_DESCS[i])
}

impl ErrorCode {
    /// librdkafka's `rd_kafka_err2name()`: the name without prefix, or `ERR_<n>?` if unknown.
    pub fn name(self) -> String {
        match lookup(self.0) {
            Some(&(_, n, d)) if !d.is_empty() => n.to_string(),
            _ => format!("ERR_{}?", self.0),
        }
    }

    /// librdkafka's `rd_kafka_err2str()`: the human text, or `Err-<n>?` if unknown.
    pub fn description(self) -> String {
        match lookup(self.0) {
            Some(&(_, _, d)) if !d.is_empty() => d.to_string(),
            _ => format!("Err-{}?", self.0),
        }
    }

    /// Whether the code is a known, described librdkafka error code.
    pub fn is_known(self) -> bool {
        matches!(lookup(self.0), Some(&(_, _, d)) if !d.is_empty())
    }

    /// Maps a Kafka protocol error code (from a response) to a librdkafka code (same number).
    pub fn from_kafka(code: i16) -> ErrorCode {
        ErrorCode(i32::from(code))
    }

    /// True when this code is not an error.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// Whether retrying the same operation may succeed (Kafka's `RetriableException` set plus
    /// librdkafka's transient local errors).
    pub fn is_retriable(self) -> bool {
        matches!(
            self.0,
            -195 | -187
                | -185
                | -180
                | -166
                | -153
                | 2
                | 3
                | 5
                | 6
                | 7
                | 8
                | 9
                | 13
                | 14
                | 15
                | 16
                | 19
                | 20
                | 51
                | 56
                | 70
                | 71
                | 72
                | 74
                | 75
                | 78
                | 80
                | 83
                | 88
                | 89
                | 100
        )
    }

    /// Whether the error is fatal for an (idempotent) producer: the instance is unusable.
    pub fn is_fatal(self) -> bool {
        matches!(self.0, -150 | -144 | 31 | 47 | 53 | 59 | 90)
    }

    /// Whether this is a "not leader / stale metadata" class error that calls for a metadata
    /// refresh before retrying.
    pub fn needs_metadata_refresh(self) -> bool {
        matches!(self.0, -195 | 3 | 5 | 6 | 9 | 74 | 75 | 100)
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description())
    }
}

impl From<i16> for ErrorCode {
    fn from(c: i16) -> Self {
        ErrorCode::from_kafka(c)
    }
}

/// An error with a librdkafka code and a message (librdkafka's `rd_kafka_error_t`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct KafkaError {
    /// The librdkafka error code.
    pub code: ErrorCode,
    /// Human-readable detail; defaults to the code's text.
    pub message: String,
    /// Fatal error: the client instance must be recreated.
    pub fatal: bool,
    /// The operation may be retried.
    pub retriable: bool,
    /// A transaction must be aborted (transactional producer).
    pub txn_requires_abort: bool,
}

impl KafkaError {
    /// An error with the code's standard text.
    pub fn new(code: ErrorCode) -> Self {
        Self::with_message(code, code.description())
    }

    /// An error with a specific message.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        KafkaError {
            code,
            message: message.into(),
            fatal: code.is_fatal(),
            retriable: code.is_retriable(),
            txn_requires_abort: false,
        }
    }

    /// The code's name (`rd_kafka_err2name`).
    pub fn name(&self) -> String {
        self.code.name()
    }

    /// The code's standard text (`rd_kafka_err2str`).
    pub fn description(&self) -> String {
        self.code.description()
    }
}

impl From<ErrorCode> for KafkaError {
    fn from(c: ErrorCode) -> Self {
        KafkaError::new(c)
    }
}

/// Shorthand result type of the client core.
pub type Result<T, E = KafkaError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        assert!(ERR_DESCS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(ERR_DESCS.len(), 190);
        assert_eq!(ERR_DESCS[0], (-200, "_BEGIN", ""));
        assert_eq!(ERR_DESCS.last().unwrap().0, 133);
    }

    #[test]
    fn names_and_texts() {
        assert_eq!(ErrorCode::QUEUE_FULL.name(), "_QUEUE_FULL");
        assert_eq!(ErrorCode::QUEUE_FULL.description(), "Local: Queue full");
        assert_eq!(ErrorCode(-192).description(), "Local: Message timed out");
        assert_eq!(ErrorCode(0).name(), "NO_ERROR");
        assert_eq!(ErrorCode(0).description(), "Success");
        assert_eq!(ErrorCode(-191).description(), "Broker: No more messages");
        assert_eq!(
            ErrorCode(49).description(),
            "Broker: Producer attempted to use a producer id which is not currently assigned to its transactional id"
        );
        assert_eq!(ErrorCode(133).name(), "SHARE_SESSION_LIMIT_REACHED");
    }

    #[test]
    fn unknown_codes_format_like_librdkafka() {
        assert_eq!(ErrorCode(98).name(), "ERR_98?");
        assert_eq!(ErrorCode(98).description(), "Err-98?");
        assert_eq!(ErrorCode(-200).name(), "ERR_-200?");
        assert_eq!(ErrorCode(-100).description(), "Err--100?");
        assert_eq!(ErrorCode(5000).name(), "ERR_5000?");
        assert!(!ErrorCode(-100).is_known());
    }

    #[test]
    fn kafka_codes_map_to_same_number() {
        assert_eq!(
            ErrorCode::from_kafka(6),
            ErrorCode::NOT_LEADER_FOR_PARTITION
        );
        assert_eq!(ErrorCode::from_kafka(-1), ErrorCode::UNKNOWN);
    }

    #[test]
    fn classification() {
        assert!(ErrorCode::NOT_LEADER_FOR_PARTITION.is_retriable());
        assert!(ErrorCode::TIMED_OUT.is_retriable());
        assert!(!ErrorCode::MSG_SIZE_TOO_LARGE.is_retriable());
        assert!(ErrorCode::FATAL.is_fatal());
        assert!(ErrorCode::PRODUCER_FENCED.is_fatal());
        assert!(!ErrorCode::QUEUE_FULL.is_fatal());
        let e = KafkaError::new(ErrorCode::QUEUE_FULL);
        assert_eq!(e.to_string(), "Local: Queue full");
        assert_eq!(e.name(), "_QUEUE_FULL");
    }
}
