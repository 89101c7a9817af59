//! Every global constant php-rdkafka registers, with librdkafka's values.

use ext_php_rs::constant::IntoConst;
use kafkars::error::err_descs;

/// librdkafka release whose behaviour kafkars follows: `RD_KAFKA_VERSION` /
/// `RD_KAFKA_BUILD_VERSION` as 0xMMmmrrxx.
pub const LIBRDKAFKA_VERSION: i64 = kafkars::LIBRDKAFKA_VERSION as i64;
/// The same as text, for `phpinfo()`.
pub const LIBRDKAFKA_VERSION_STR: &str = kafkars::LIBRDKAFKA_VERSION_STR;

/// kafkars' own version (`KAFKARS_VERSION`, `phpinfo()`).
pub const KAFKARS_VERSION: &str = kafkars::VERSION;

pub const PARTITION_UA: i64 = -1;
pub const MSG_F_BLOCK: i64 = 0x4;
pub const OFFSET_TAIL_BASE: i64 = -2000;

const FIXED: &[(&str, i64)] = &[
    ("RD_KAFKA_CONSUMER", 1),
    ("RD_KAFKA_OFFSET_BEGINNING", -2),
    ("RD_KAFKA_OFFSET_END", -1),
    ("RD_KAFKA_OFFSET_STORED", -1000),
    ("RD_KAFKA_PARTITION_UA", PARTITION_UA),
    ("RD_KAFKA_PRODUCER", 0),
    ("RD_KAFKA_MSG_F_BLOCK", MSG_F_BLOCK),
    ("RD_KAFKA_PURGE_F_QUEUE", 1),
    ("RD_KAFKA_PURGE_F_INFLIGHT", 2),
    ("RD_KAFKA_PURGE_F_NON_BLOCKING", 4),
    ("RD_KAFKA_VERSION", LIBRDKAFKA_VERSION),
    ("RD_KAFKA_BUILD_VERSION", LIBRDKAFKA_VERSION),
    (
        "RD_KAFKA_CONF_UNKNOWN",
        kafkars::config::CONF_UNKNOWN as i64,
    ),
    (
        "RD_KAFKA_CONF_INVALID",
        kafkars::config::CONF_INVALID as i64,
    ),
    ("RD_KAFKA_CONF_OK", 0),
    ("RD_KAFKA_MSG_PARTITIONER_RANDOM", 2),
    ("RD_KAFKA_MSG_PARTITIONER_CONSISTENT", 3),
    ("RD_KAFKA_MSG_PARTITIONER_CONSISTENT_RANDOM", 4),
    ("RD_KAFKA_MSG_PARTITIONER_MURMUR2", 5),
    ("RD_KAFKA_MSG_PARTITIONER_MURMUR2_RANDOM", 6),
    ("RD_KAFKA_LOG_PRINT", 100),
    ("RD_KAFKA_LOG_SYSLOG", 101),
    ("RD_KAFKA_LOG_SYSLOG_PRINT", 102),
];

/// Registers the constants. MINIT only.
pub fn register(module_number: i32) -> ext_php_rs::error::Result<()> {
    for &(name, value) in FIXED {
        value.register_constant(name, module_number)?;
    }
    for desc in err_descs() {
        let name = format!("RD_KAFKA_RESP_ERR_{}", desc.name);
        i64::from(desc.code.0).register_constant(&name, module_number)?;
    }
    KAFKARS_VERSION.register_constant("KAFKARS_VERSION", module_number)?;
    Ok(())
}
