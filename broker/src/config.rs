//! Broker settings: Kafka's `server.properties` names, then command-line flags on top.
//!
//! Unknown or invalid settings are an error naming the setting, so a typo never silently
//! falls back to a default. `group.*` settings are parsed here too (for the group
//! coordinator); add new ones to [`BrokerConfig::set`].

use std::path::{Path, PathBuf};

use crate::log::LogConfig;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path:?}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown setting `{key}` (line {line} of the config file)")]
    Unknown { key: String, line: usize },
    #[error("invalid value {value:?} for setting `{key}`: {reason}")]
    Invalid {
        key: String,
        value: String,
        reason: &'static str,
    },
    #[error("line {line} of the config file is not `name=value`")]
    Syntax { line: usize },
}

/// Settings of the group coordinator (`group.*`).
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// `group.initial.rebalance.delay.ms` (default 3000).
    pub initial_rebalance_delay_ms: u64,
    /// `group.min.session.timeout.ms` (default 6000).
    pub min_session_timeout_ms: u64,
    /// `group.max.session.timeout.ms` (default 1800000).
    pub max_session_timeout_ms: u64,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            initial_rebalance_delay_ms: 3000,
            min_session_timeout_ms: 6000,
            max_session_timeout_ms: 1_800_000,
        }
    }
}

/// Everything the broker is configured with.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// `listeners` / `--listen`: the address to bind, `HOST:PORT` (port 0 = any free port).
    pub listen: String,
    /// `advertised.listeners` / `--advertise`: what Metadata tells clients. Default: the
    /// bound address (127.0.0.1 when bound to an unspecified address).
    pub advertise: Option<String>,
    /// `log.dirs` (first directory) / `--data-dir`.
    pub data_dir: PathBuf,
    /// `node.id` / `broker.id` (default 1).
    pub node_id: i32,
    /// `num.partitions` (default 1): partitions of auto-created topics and of CreateTopics -1.
    pub num_partitions: i32,
    /// `auto.create.topics.enable` (default true).
    pub auto_create_topics: bool,
    /// `log.*` and `message.max.bytes`.
    pub log: LogConfig,
    /// `log.retention.check.interval.ms` (default 300000).
    pub retention_check_interval_ms: u64,
    /// `socket.request.max.bytes` (default 100 MiB): larger frames close the connection.
    pub socket_request_max_bytes: usize,
    /// `max.connections` (default 10000): further connections wait to be accepted.
    pub max_connections: usize,
    /// `group.*`.
    pub group: GroupConfig,
    /// `transaction.max.timeout.ms` (default 900000): the largest `transaction.timeout.ms` a
    /// producer may ask for.
    pub transaction_max_timeout_ms: i32,
    /// `transactional.id.expiration.ms` (default 7 days): an id with no transaction open for
    /// this long is forgotten.
    pub transactional_id_expiration_ms: i64,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            listen: "127.0.0.1:9092".into(),
            advertise: None,
            data_dir: PathBuf::from("kafkars-data"),
            node_id: 1,
            num_partitions: 1,
            auto_create_topics: true,
            log: LogConfig::default(),
            retention_check_interval_ms: 300_000,
            socket_request_max_bytes: 100 * 1024 * 1024,
            max_connections: 10_000,
            group: GroupConfig::default(),
            transaction_max_timeout_ms: 900_000,
            transactional_id_expiration_ms: 7 * 24 * 3600 * 1000,
        }
    }
}

/// Settings of Kafka's sample `server.properties` that mean nothing for one node without
/// replication or a separate controller: accepted with a warning, so that file works as is.
const IGNORED: &[&str] = &[
    "process.roles",
    "controller.quorum.voters",
    "controller.quorum.bootstrap.servers",
    "controller.listener.names",
    "listener.security.protocol.map",
    "inter.broker.listener.name",
    "num.network.threads",
    "num.io.threads",
    "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes",
    "num.recovery.threads.per.data.dir",
    "offsets.topic.replication.factor",
    "offsets.topic.num.partitions",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr",
    "default.replication.factor",
    "min.insync.replicas",
    "zookeeper.connect",
    "zookeeper.connection.timeout.ms",
];

fn invalid(key: &str, value: &str, reason: &'static str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        reason,
    }
}

fn parse_num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|_| invalid(key, value, "not a valid number"))
}

/// A millisecond duration where -1 means "never" (`None`).
fn parse_ms_opt(key: &str, value: &str, factor: u64) -> Result<Option<u64>, ConfigError> {
    let n: i64 = parse_num(key, value)?;
    match n {
        -1 => Ok(None),
        n if n >= 0 => Ok(Some((n as u64).saturating_mul(factor))),
        _ => Err(invalid(key, value, "must be >= 0 or -1")),
    }
}

fn parse_positive<T: std::str::FromStr + PartialOrd + Default>(
    key: &str,
    value: &str,
) -> Result<T, ConfigError> {
    let n: T = parse_num(key, value)?;
    if n <= T::default() {
        return Err(invalid(key, value, "must be > 0"));
    }
    Ok(n)
}

/// `PLAINTEXT://host:port[,…]` → `host:port` (the first listener).
fn parse_listener(key: &str, value: &str) -> Result<String, ConfigError> {
    let first = value.split(',').next().unwrap_or("").trim();
    let addr = match first.split_once("://") {
        Some((_, addr)) => addr,
        None => first,
    };
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| invalid(key, value, "expected HOST:PORT"))?;
    port.parse::<u16>()
        .map_err(|_| invalid(key, value, "bad port"))?;
    // Kafka's `PLAINTEXT://:9092` means every interface.
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    Ok(format!("{host}:{port}"))
}

impl BrokerConfig {
    /// Reads a `server.properties` file over the defaults.
    ///
    /// # Errors
    /// Unreadable file, bad syntax, unknown setting, invalid value.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_properties(&text)
    }

    /// Parses `server.properties` text (`name=value` or `name: value`, `#`/`!` comments).
    ///
    /// # Errors
    /// Bad syntax, unknown setting, invalid value.
    pub fn from_properties(text: &str) -> Result<Self, ConfigError> {
        let mut config = BrokerConfig::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let (key, value) = line
                .split_once(['=', ':'])
                .ok_or(ConfigError::Syntax { line: i + 1 })?;
            let (key, value) = (key.trim(), value.trim());
            if !config.set(key, value)? {
                return Err(ConfigError::Unknown {
                    key: key.into(),
                    line: i + 1,
                });
            }
        }
        Ok(config)
    }

    /// Applies one setting. Returns `Ok(false)` for a name it does not know.
    ///
    /// # Errors
    /// The value is invalid for that setting.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            "listeners" => self.listen = parse_listener(key, value)?,
            "advertised.listeners" => self.advertise = Some(parse_listener(key, value)?),
            "log.dirs" | "log.dir" => {
                let first = value.split(',').next().unwrap_or("").trim();
                if first.is_empty() {
                    return Err(invalid(key, value, "empty directory"));
                }
                self.data_dir = PathBuf::from(first);
            }
            "node.id" | "broker.id" => {
                let n: i32 = parse_num(key, value)?;
                if n < 0 {
                    return Err(invalid(key, value, "must be >= 0"));
                }
                self.node_id = n;
            }
            "num.partitions" => self.num_partitions = parse_positive(key, value)?,
            "auto.create.topics.enable" => {
                self.auto_create_topics = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid(key, value, "expected true or false")),
                }
            }
            "log.segment.bytes" => self.log.segment_bytes = parse_positive(key, value)?,
            "log.roll.ms" => self.log.segment_ms = parse_ms_opt(key, value, 1)?,
            "log.roll.hours" => self.log.segment_ms = parse_ms_opt(key, value, 3_600_000)?,
            "log.retention.ms" => self.log.retention_ms = parse_ms_opt(key, value, 1)?,
            "log.retention.minutes" => self.log.retention_ms = parse_ms_opt(key, value, 60_000)?,
            "log.retention.hours" => self.log.retention_ms = parse_ms_opt(key, value, 3_600_000)?,
            "log.retention.bytes" => self.log.retention_bytes = parse_ms_opt(key, value, 1)?,
            "log.retention.check.interval.ms" => {
                self.retention_check_interval_ms = parse_positive(key, value)?
            }
            "log.flush.interval.messages" => {
                self.log.flush_interval_messages = Some(parse_positive(key, value)?)
            }
            "log.flush.interval.ms" => {
                self.log.flush_interval_ms = Some(parse_positive(key, value)?)
            }
            "log.index.interval.bytes" => {
                self.log.index_interval_bytes = parse_positive(key, value)?
            }
            "log.index.size.max.bytes" => self.log.max_index_bytes = parse_positive(key, value)?,
            "message.max.bytes" => self.log.max_message_bytes = parse_positive(key, value)?,
            "socket.request.max.bytes" => {
                self.socket_request_max_bytes = parse_positive(key, value)?
            }
            "max.connections" => self.max_connections = parse_positive(key, value)?,
            "group.initial.rebalance.delay.ms" => {
                self.group.initial_rebalance_delay_ms = parse_num(key, value)?
            }
            "group.min.session.timeout.ms" => {
                self.group.min_session_timeout_ms = parse_positive(key, value)?
            }
            "group.max.session.timeout.ms" => {
                self.group.max_session_timeout_ms = parse_positive(key, value)?
            }
            "transaction.max.timeout.ms" => {
                self.transaction_max_timeout_ms = parse_positive(key, value)?
            }
            "transactional.id.expiration.ms" => {
                self.transactional_id_expiration_ms = parse_positive(key, value)?
            }
            k if IGNORED.contains(&k) => {
                tracing::warn!(
                    setting = k,
                    "Kafka setting has no effect on a single-node kafkars broker"
                );
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_names_parse() {
        let c = BrokerConfig::from_properties(
            "# comment\nlisteners=PLAINTEXT://0.0.0.0:9093\nadvertised.listeners=PLAINTEXT://h:9093\n\
             log.dirs=/tmp/a,/tmp/b\nnode.id=3\nnum.partitions=4\nauto.create.topics.enable=false\n\
             log.retention.hours=1\nlog.retention.bytes=-1\nlog.roll.ms=1000\nmessage.max.bytes=2000\n\
             group.initial.rebalance.delay.ms=0\n",
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9093");
        assert_eq!(c.advertise.as_deref(), Some("h:9093"));
        assert_eq!(c.data_dir, PathBuf::from("/tmp/a"));
        assert_eq!(c.node_id, 3);
        assert_eq!(c.num_partitions, 4);
        assert!(!c.auto_create_topics);
        assert_eq!(c.log.retention_ms, Some(3_600_000));
        assert_eq!(c.log.retention_bytes, None);
        assert_eq!(c.log.segment_ms, Some(1000));
        assert_eq!(c.log.max_message_bytes, 2000);
        assert_eq!(c.group.initial_rebalance_delay_ms, 0);
    }

    #[test]
    fn unknown_and_invalid_settings_name_the_setting() {
        let e = BrokerConfig::from_properties("num.partitons=3").unwrap_err();
        assert!(e.to_string().contains("num.partitons"), "{e}");
        let e = BrokerConfig::from_properties("num.partitions=zero").unwrap_err();
        assert!(e.to_string().contains("num.partitions"), "{e}");
        let e = BrokerConfig::from_properties("num.partitions=0").unwrap_err();
        assert!(e.to_string().contains("num.partitions"), "{e}");
        let e = BrokerConfig::from_properties("auto.create.topics.enable=yes").unwrap_err();
        assert!(e.to_string().contains("auto.create.topics.enable"), "{e}");
    }

    #[test]
    fn kafka_sample_settings_are_accepted() {
        let c = BrokerConfig::from_properties(
            "process.roles=broker,controller\nnum.network.threads=3\nlisteners=PLAINTEXT://:9092\n",
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9092");
    }
}
