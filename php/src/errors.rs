//! Error names and texts from the core's librdkafka table (`kafkars::error`).

use kafkars::error::ErrorCode;

/// `rd_kafka_err2str()`.
pub fn err2str(code: i32) -> String {
    ErrorCode(code).description()
}

/// `rd_kafka_err2name()`.
pub fn err2name(code: i32) -> String {
    ErrorCode(code).name()
}
