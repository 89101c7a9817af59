//! Per-topic settings (Kafka's topic-level configs, e.g. `retention.ms`), given at
//! CreateTopics and kept next to the partition logs:
//!
//! ```text
//! <data>/<topic>-<partition>/topic.properties    name=value, one override a line
//! ```
//!
//! Only settings this broker honours are accepted; anything else is INVALID_CONFIG, so a
//! user never believes a setting works when it does not.

use std::collections::BTreeMap;
use std::path::Path;

use crate::log::LogConfig;

/// The file holding a topic's overrides, in every partition directory.
pub const FILE: &str = "topic.properties";

/// A topic setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid topic config {key}={value}: {reason}")]
pub struct InvalidTopicConfig {
    pub key: String,
    pub value: String,
    pub reason: &'static str,
}

/// A topic's overrides of the broker defaults, by Kafka name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicConfig {
    overrides: BTreeMap<String, String>,
}

/// How a setting is shown in DescribeConfigs: (name, value, Kafka config type).
pub type ConfigEntry = (&'static str, String, i8);

const TYPE_STRING: i8 = 2;
const TYPE_INT: i8 = 3;
const TYPE_LONG: i8 = 5;
const TYPE_LIST: i8 = 7;

fn bad(key: &str, value: &str, reason: &'static str) -> InvalidTopicConfig {
    InvalidTopicConfig {
        key: key.into(),
        value: value.into(),
        reason,
    }
}

fn num(key: &str, value: &str, min: i64) -> Result<i64, InvalidTopicConfig> {
    let n: i64 = value
        .trim()
        .parse()
        .map_err(|_| bad(key, value, "not a number"))?;
    if n < min {
        return Err(bad(key, value, "out of range"));
    }
    Ok(n)
}

fn opt_ms(n: i64) -> Option<u64> {
    (n >= 0).then_some(n as u64)
}

impl TopicConfig {
    /// Validates `(name, value)` pairs from CreateTopics.
    ///
    /// # Errors
    /// An unknown name, or a value this broker cannot honour.
    pub fn new<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        base: &LogConfig,
    ) -> Result<Self, InvalidTopicConfig> {
        let mut config = TopicConfig::default();
        for (k, v) in pairs {
            config.overrides.insert(k.to_string(), v.trim().to_string());
        }
        config.log_config(base)?;
        Ok(config)
    }

    /// Sets one override (validate with [`TopicConfig::log_config`] afterwards).
    pub fn set(&mut self, key: &str, value: &str) {
        self.overrides
            .insert(key.to_string(), value.trim().to_string());
    }

    /// Removes one override (back to the broker default).
    pub fn remove(&mut self, key: &str) {
        self.overrides.remove(key);
    }

    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }

    /// The override of one setting.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.overrides.get(key).map(String::as_str)
    }

    /// The broker's log settings with this topic's overrides applied.
    ///
    /// # Errors
    /// An unknown name or an unusable value.
    pub fn log_config(&self, base: &LogConfig) -> Result<LogConfig, InvalidTopicConfig> {
        let mut c = base.clone();
        for (k, v) in &self.overrides {
            let (k, v) = (k.as_str(), v.as_str());
            match k {
                "retention.ms" => c.retention_ms = opt_ms(num(k, v, -1)?),
                "retention.bytes" => c.retention_bytes = opt_ms(num(k, v, -1)?),
                "segment.bytes" => c.segment_bytes = num(k, v, 14)? as u64,
                "segment.ms" => c.segment_ms = Some(num(k, v, 1)? as u64),
                "segment.index.bytes" => {
                    c.max_index_bytes = num(k, v, 8)?.min(i32::MAX as i64) as u32
                }
                "index.interval.bytes" => {
                    c.index_interval_bytes = num(k, v, 0)?.min(i32::MAX as i64) as u32
                }
                "max.message.bytes" => c.max_message_bytes = num(k, v, 0)? as usize,
                "flush.messages" => c.flush_interval_messages = Some(num(k, v, 1)? as u64),
                "flush.ms" => c.flush_interval_ms = Some(num(k, v, 0)? as u64),
                "cleanup.policy" if v == "delete" => {}
                "cleanup.policy" => {
                    return Err(bad(k, v, "only `delete` is supported (no compaction)"))
                }
                "compression.type" if v == "producer" => {}
                "compression.type" => {
                    return Err(bad(
                        k,
                        v,
                        "only `producer` is supported (batches are stored as sent)",
                    ))
                }
                "min.insync.replicas" if v == "1" => {}
                "min.insync.replicas" => return Err(bad(k, v, "a single node has one replica")),
                "message.timestamp.type" if v == "CreateTime" => {}
                "message.timestamp.type" => return Err(bad(k, v, "only CreateTime is supported")),
                _ => return Err(bad(k, v, "unknown topic config name")),
            }
        }
        Ok(c)
    }

    /// Every topic setting with its effective value, and whether this topic overrides it.
    pub fn describe(&self, base: &LogConfig) -> Vec<(ConfigEntry, bool)> {
        let c = self.log_config(base).unwrap_or_else(|_| base.clone());
        let ms = |v: Option<u64>| v.map_or_else(|| "-1".to_string(), |v| v.to_string());
        let entries: Vec<ConfigEntry> = vec![
            ("cleanup.policy", "delete".into(), TYPE_LIST),
            ("compression.type", "producer".into(), TYPE_STRING),
            (
                "flush.messages",
                c.flush_interval_messages
                    .map_or_else(|| i64::MAX.to_string(), |v| v.to_string()),
                TYPE_LONG,
            ),
            (
                "flush.ms",
                c.flush_interval_ms
                    .map_or_else(|| i64::MAX.to_string(), |v| v.to_string()),
                TYPE_LONG,
            ),
            (
                "index.interval.bytes",
                c.index_interval_bytes.to_string(),
                TYPE_INT,
            ),
            (
                "max.message.bytes",
                c.max_message_bytes.to_string(),
                TYPE_INT,
            ),
            ("message.timestamp.type", "CreateTime".into(), TYPE_STRING),
            ("min.insync.replicas", "1".into(), TYPE_INT),
            ("retention.bytes", ms(c.retention_bytes), TYPE_LONG),
            ("retention.ms", ms(c.retention_ms), TYPE_LONG),
            ("segment.bytes", c.segment_bytes.to_string(), TYPE_INT),
            (
                "segment.index.bytes",
                c.max_index_bytes.to_string(),
                TYPE_INT,
            ),
            ("segment.ms", ms(c.segment_ms), TYPE_LONG),
        ];
        entries
            .into_iter()
            .map(|e| {
                let overridden = self.overrides.contains_key(e.0);
                (e, overridden)
            })
            .collect()
    }

    /// Reads the overrides stored in a partition directory (none if the file is absent).
    pub fn load(dir: &Path) -> Option<TopicConfig> {
        let text = std::fs::read_to_string(dir.join(FILE)).ok()?;
        let overrides = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Some(TopicConfig { overrides })
    }

    /// Writes the overrides into a partition directory (atomically; no file when empty).
    ///
    /// # Errors
    /// I/O.
    pub fn store(&self, dir: &Path) -> std::io::Result<()> {
        if self.overrides.is_empty() {
            return match std::fs::remove_file(dir.join(FILE)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let text: String = self
            .overrides
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        let tmp = dir.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, dir.join(FILE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_and_round_trip() {
        let base = LogConfig::default();
        let c = TopicConfig::new(
            [("retention.ms", "60000"), ("segment.bytes", "1048576")],
            &base,
        )
        .unwrap();
        let lc = c.log_config(&base).unwrap();
        assert_eq!(lc.retention_ms, Some(60_000));
        assert_eq!(lc.segment_bytes, 1 << 20);
        let dir = tempfile::tempdir().unwrap();
        c.store(dir.path()).unwrap();
        assert_eq!(TopicConfig::load(dir.path()), Some(c.clone()));
        let described = c.describe(&base);
        assert!(described
            .iter()
            .any(|((k, v, _), o)| *k == "retention.ms" && v == "60000" && *o));
        assert!(described
            .iter()
            .any(|((k, _, _), o)| *k == "cleanup.policy" && !*o));
    }

    #[test]
    fn unusable_settings_are_refused() {
        let base = LogConfig::default();
        for (k, v) in [
            ("cleanup.policy", "compact"),
            ("retention.ms", "soon"),
            ("no.such", "1"),
        ] {
            let e = TopicConfig::new([(k, v)], &base).unwrap_err();
            assert_eq!(e.key, k);
        }
    }
}
