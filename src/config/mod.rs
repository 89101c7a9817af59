//! Configuration with librdkafka's names, aliases, defaults, validation and error texts.
//!
//! `Config` is `rd_kafka_conf_t`, `TopicConfig` is `rd_kafka_topic_conf_t`. A topic-level
//! name given to `Config::set` goes to the default topic configuration, as
//! `rd_kafka_conf_set()` does. Values are validated and normalized on `set` so that `dump()`
//! shows what librdkafka's `rd_kafka_conf_dump()` shows (`earliest` dumps as `smallest`,
//! `t` as `true`).

pub mod properties;

use indexmap::IndexMap;
use properties::{find, Kind, Property, Scope, PARTITIONERS, PROPERTIES};

/// `RD_KAFKA_CONF_UNKNOWN`.
pub const CONF_UNKNOWN: i32 = -2;
/// `RD_KAFKA_CONF_INVALID`.
pub const CONF_INVALID: i32 = -1;

/// A rejected `set()`, with librdkafka's message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No property by that name in either scope.
    #[error("No such configuration property: \"{name}\"")]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// The value does not validate; `message` is librdkafka's text.
    #[error("{message}")]
    Invalid {
        /// Canonical property name.
        name: String,
        /// librdkafka's error text.
        message: String,
    },
}

impl ConfigError {
    /// `RD_KAFKA_CONF_UNKNOWN` (-2) or `RD_KAFKA_CONF_INVALID` (-1).
    pub fn code(&self) -> i32 {
        match self {
            ConfigError::Unknown { .. } => CONF_UNKNOWN,
            ConfigError::Invalid { .. } => CONF_INVALID,
        }
    }
}

/// Parses an integer as C's `strtol(s, &end, 0)`: leading blanks, sign, `0x` hex, leading-0
/// octal, stops at the first non-digit. `None` if no digit was consumed.
fn strtol(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if rest.len() > 1 && (rest.starts_with("0x") || rest.starts_with("0X")) {
        (16, &rest[2..])
    } else if rest.starts_with('0') {
        (8, rest)
    } else {
        (10, rest)
    };
    let mut v: i64 = 0;
    let mut n = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else { break };
        v = v
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
        n += 1;
    }
    if n == 0 {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// Parses the longest float prefix as `strtod` would (`None` when nothing parses).
fn strtod(s: &str) -> Option<f64> {
    let s = s.trim_start();
    let end = (1..=s.len())
        .rev()
        .find(|&i| s.is_char_boundary(i) && s[..i].parse::<f64>().is_ok())?;
    s[..end].parse().ok()
}

/// Formats a double as C's `%g` does for the values configs hold.
fn fmt_g(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e6 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Validates `value` for `prop`, returning the normalized value `dump()` shows.
fn normalize(prop: &Property, value: &str) -> Result<String, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        name: prop.name.to_string(),
        message,
    };
    // librdkafka takes "" as no value; numbers and bools then need one.
    if value.is_empty() {
        let what = match prop.kind {
            Kind::Int { .. } => Some("Integer"),
            Kind::Dbl { .. } => Some("Float"),
            Kind::Bool => Some("Bool"),
            _ => None,
        };
        if let Some(what) = what {
            return Err(invalid(format!(
                "{what} configuration property \"{}\" cannot be set to empty value",
                prop.name
            )));
        }
    }
    match prop.kind {
        Kind::Str => {
            if prop.name == "partitioner" && !PARTITIONERS.contains(&value) {
                return Err(invalid(format!(
                    "Invalid value for configuration property \"{}\"",
                    prop.name
                )));
            }
            Ok(value.to_string())
        }
        Kind::Bool => {
            let v = value;
            if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("t") || v == "1" {
                Ok("true".into())
            } else if v.eq_ignore_ascii_case("false") || v.eq_ignore_ascii_case("f") || v == "0" {
                Ok("false".into())
            } else {
                Err(invalid(format!(
                    "Expected bool value for \"{}\": true or false",
                    prop.name
                )))
            }
        }
        Kind::Int { min, max, names } => {
            let n = match strtol(value) {
                Some(n) => n,
                None => names
                    .iter()
                    .find(|(s, _)| s.eq_ignore_ascii_case(value))
                    .map(|(_, v)| *v)
                    .ok_or_else(|| {
                        invalid(format!(
                            "Invalid value for configuration property \"{}\"",
                            prop.name
                        ))
                    })?,
            };
            // librdkafka stores into a C int.
            let n = i64::from(n as i32);
            if n < min || n > max {
                return Err(invalid(format!(
                    "Configuration property \"{}\" value {} is outside allowed range {}..{}\n",
                    prop.name, n, min, max
                )));
            }
            Ok(n.to_string())
        }
        Kind::Dbl { min, max } => {
            // librdkafka: strtod() that parses nothing is an invalid value.
            let d = strtod(value).ok_or_else(|| {
                invalid(format!(
                    "Invalid value for configuration property \"{}\"",
                    prop.name
                ))
            })?;
            if d < min || d > max {
                return Err(invalid(format!(
                    "Configuration property \"{}\" value {} is outside allowed range {}..{}\n",
                    prop.name,
                    fmt_g(d),
                    fmt_g(min),
                    fmt_g(max)
                )));
            }
            Ok(fmt_g(d))
        }
        Kind::Enum(choices) => {
            let v = value.trim();
            let Some(&(_, num)) = choices.iter().find(|(s, _)| s.eq_ignore_ascii_case(v)) else {
                return Err(invalid(format!(
                    "Invalid value \"{}\" for configuration property \"{}\"",
                    v, prop.name
                )));
            };
            let first = choices
                .iter()
                .find(|(_, n)| *n == num)
                .map(|(s, _)| *s)
                .unwrap_or(v);
            Ok(first.to_string())
        }
        Kind::Flags(names) => {
            let mut out: Vec<&str> = Vec::new();
            for part in value
                .split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let Some(&canon) = names.iter().find(|s| s.eq_ignore_ascii_case(part)) else {
                    return Err(invalid(format!(
                        "Invalid value \"{}\" for configuration property \"{}\"",
                        part, prop.name
                    )));
                };
                if !out.contains(&canon) {
                    out.push(canon);
                }
            }
            Ok(out.join(","))
        }
    }
}

/// Properties of one scope: explicitly set values over the table's defaults.
#[derive(Debug, Clone)]
struct Values {
    scope: Scope,
    set: IndexMap<&'static str, String>,
}

impl Values {
    fn new(scope: Scope) -> Self {
        Values {
            scope,
            set: IndexMap::new(),
        }
    }

    fn try_set(&mut self, name: &str, value: &str) -> Option<Result<(), ConfigError>> {
        let prop = find(self.scope, name)?;
        Some(normalize(prop, value).map(|v| {
            self.set.insert(prop.name, v);
        }))
    }

    fn get(&self, name: &str) -> Option<String> {
        let prop = find(self.scope, name)?;
        self.set
            .get(prop.name)
            .cloned()
            .or_else(|| prop.default.map(str::to_string))
    }

    fn is_set(&self, name: &str) -> bool {
        find(self.scope, name).is_some_and(|p| self.set.contains_key(p.name))
    }

    fn dump(&self) -> IndexMap<String, String> {
        PROPERTIES
            .iter()
            .filter(|p| p.scope == self.scope)
            .filter_map(|p| {
                let v = self
                    .set
                    .get(p.name)
                    .cloned()
                    .or_else(|| p.default.map(str::to_string))?;
                Some((p.name.to_string(), v))
            })
            .collect()
    }
}

/// Topic-level configuration (`rd_kafka_topic_conf_t`).
#[derive(Debug, Clone)]
pub struct TopicConfig {
    values: Values,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            values: Values::new(Scope::Topic),
        }
    }
}

impl TopicConfig {
    /// A configuration with librdkafka's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a topic-level property.
    ///
    /// # Errors
    /// `ConfigError::Unknown` for a name that is not a topic property, `Invalid` for a value
    /// that does not validate, with librdkafka's texts.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        self.values.try_set(name, value).unwrap_or_else(|| {
            Err(ConfigError::Unknown {
                name: name.to_string(),
            })
        })
    }

    /// The effective value (set or default), `None` for unknown or unset properties.
    /// Whether the application set this property explicitly.
    pub fn is_set(&self, name: &str) -> bool {
        self.values.is_set(name)
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name)
    }

    /// Every property with a value, in librdkafka's order.
    pub fn dump(&self) -> IndexMap<String, String> {
        self.values.dump()
    }

    /// Integer value of a property (0 when unset or not numeric).
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
}

/// Global configuration (`rd_kafka_conf_t`) with its default topic configuration.
#[derive(Debug, Clone)]
pub struct Config {
    values: Values,
    topic: TopicConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: Values::new(Scope::Global),
            topic: TopicConfig::new(),
        }
    }
}

impl Config {
    /// A configuration with librdkafka's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a property; topic-level names go to the default topic configuration.
    ///
    /// # Errors
    /// `ConfigError::Unknown` (`No such configuration property: "NAME"`) or
    /// `ConfigError::Invalid` with librdkafka's text.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        match self.values.try_set(name, value) {
            Some(r) => r,
            None => self.topic.set(name, value),
        }
    }

    /// The effective value of a global property, else of the default topic configuration.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).or_else(|| self.topic.get(name))
    }

    /// Whether the application set this global property explicitly.
    pub fn is_set(&self, name: &str) -> bool {
        self.values.is_set(name)
    }

    /// Global properties with a value, in librdkafka's order (`rd_kafka_conf_dump`).
    pub fn dump(&self) -> IndexMap<String, String> {
        self.values.dump()
    }

    /// The default topic configuration.
    pub fn topic_config(&self) -> &TopicConfig {
        &self.topic
    }

    /// Replaces the default topic configuration (`setDefaultTopicConf`).
    pub fn set_default_topic_config(&mut self, t: TopicConfig) {
        self.topic = t;
    }

    /// Integer value (0 when unset or not numeric; doubles are truncated).
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name)
            .and_then(|v| {
                v.parse::<i64>()
                    .ok()
                    .or_else(|| v.parse::<f64>().ok().map(|f| f as i64))
            })
            .unwrap_or(0)
    }

    /// Floating value (0 when unset).
    pub fn get_f64(&self, name: &str) -> f64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    }

    /// Boolean value (false when unset).
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v == "true")
    }

    /// String value, `None` when unset.
    pub fn get_str(&self, name: &str) -> Option<String> {
        self.get(name).filter(|s| !s.is_empty())
    }

    /// The bootstrap list `host:port` (default port 9092), from `metadata.broker.list`.
    pub fn bootstrap_servers(&self) -> Vec<String> {
        self.get_str("metadata.broker.list")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let s = s.split("://").last().unwrap_or(s);
                if s.rsplit_once(':')
                    .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                {
                    s.to_string()
                } else {
                    format!("{s}:9092")
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_property() {
        let mut c = Config::new();
        let e = c.set("no.such.thing", "1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "No such configuration property: \"no.such.thing\""
        );
        assert_eq!(e.code(), CONF_UNKNOWN);
        let mut t = TopicConfig::new();
        assert_eq!(t.set("group.id", "x").unwrap_err().code(), CONF_UNKNOWN);
    }

    #[test]
    fn bool_validation() {
        let mut c = Config::new();
        let e = c.set("enable.auto.commit", "yes").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Expected bool value for \"enable.auto.commit\": true or false"
        );
        assert_eq!(e.code(), CONF_INVALID);
        for (v, want) in [
            ("TRUE", "true"),
            ("t", "true"),
            ("1", "true"),
            ("F", "false"),
            ("0", "false"),
        ] {
            c.set("enable.auto.commit", v).unwrap();
            assert_eq!(c.dump()["enable.auto.commit"], want);
        }
    }

    #[test]
    fn int_ranges_and_parsing() {
        let mut c = Config::new();
        let e = c.set("socket.timeout.ms", "5").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Configuration property \"socket.timeout.ms\" value 5 is outside allowed range 10..300000\n"
        );
        let e = c.set("socket.timeout.ms", "abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid value for configuration property \"socket.timeout.ms\""
        );
        c.set("socket.timeout.ms", "0x100").unwrap();
        assert_eq!(c.get_i64("socket.timeout.ms"), 256);
        c.set("socket.timeout.ms", "1234ms").unwrap();
        assert_eq!(c.get_i64("socket.timeout.ms"), 1234);
    }

    #[test]
    fn aliases_and_named_ints() {
        let mut c = Config::new();
        c.set("bootstrap.servers", "a:1,b").unwrap();
        assert_eq!(c.dump()["metadata.broker.list"], "a:1,b");
        assert_eq!(c.bootstrap_servers(), vec!["a:1", "b:9092"]);
        c.set("linger.ms", "7").unwrap();
        assert_eq!(c.get_f64("queue.buffering.max.ms"), 7.0);
        c.set("acks", "all").unwrap();
        assert_eq!(c.topic_config().get("request.required.acks").unwrap(), "-1");
        c.set("acks", "1").unwrap();
        assert_eq!(c.topic_config().get_i64("acks"), 1);
        c.set("compression.type", "GZIP").unwrap();
        assert_eq!(c.dump()["compression.codec"], "gzip");
        c.set("retries", "3").unwrap();
        assert_eq!(c.get_i64("message.send.max.retries"), 3);
    }

    #[test]
    fn topic_level_routing() {
        let mut c = Config::new();
        c.set("auto.offset.reset", "Earliest").unwrap();
        assert!(!c.dump().contains_key("auto.offset.reset"));
        assert_eq!(c.topic_config().dump()["auto.offset.reset"], "smallest");
        assert_eq!(c.get("auto.offset.reset").unwrap(), "smallest");
        let e = c.set("auto.offset.reset", "nowhere").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid value \"nowhere\" for configuration property \"auto.offset.reset\""
        );
        c.set("message.timeout.ms", "1000").unwrap();
        assert_eq!(c.topic_config().get_i64("message.timeout.ms"), 1000);
    }

    #[test]
    fn dump_shows_defaults_and_skips_unset() {
        let c = Config::new();
        let d = c.dump();
        assert_eq!(d["client.id"], "rdkafka");
        assert_eq!(d["queue.buffering.max.ms"], "5");
        assert_eq!(d["enable.auto.commit"], "true");
        assert!(!d.contains_key("group.id"));
        assert!(!d.contains_key("acks"));
        let keys: Vec<_> = d.keys().cloned().collect();
        assert_eq!(keys[0], "builtin.features");
        let t = TopicConfig::new().dump();
        assert_eq!(t["request.required.acks"], "-1");
        assert_eq!(t["partitioner"], "consistent_random");
        assert_eq!(t["compression.codec"], "inherit");
    }

    #[test]
    fn enums_flags_doubles() {
        let mut c = Config::new();
        c.set("debug", "Broker,topic").unwrap();
        assert_eq!(c.dump()["debug"], "broker,topic");
        assert!(c.set("debug", "bogus").is_err());
        c.set("security.protocol", "PLAINTEXT").unwrap();
        assert_eq!(c.dump()["security.protocol"], "plaintext");
        c.set("linger.ms", "0.5").unwrap();
        assert_eq!(c.dump()["queue.buffering.max.ms"], "0.5");
        let e = c.set("linger.ms", "1000000").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Configuration property \"queue.buffering.max.ms\" value 1000000 is outside allowed range 0..900000\n"
        );
        let mut t = TopicConfig::new();
        t.set("partitioner", "murmur2_random").unwrap();
        assert!(t.set("partitioner", "bogus").is_err());
    }

    #[test]
    fn double_without_digits_is_invalid_like_librdkafka() {
        let mut c = Config::new();
        let err = c.set("linger.ms", "abc").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value for configuration property \"queue.buffering.max.ms\""
        );
        c.set("linger.ms", "5ms").unwrap();
        assert_eq!(c.dump()["queue.buffering.max.ms"], "5");
        let err = c.set("linger.ms", "").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Float configuration property \"queue.buffering.max.ms\" cannot be set to empty value"
        );
        let err = c.set("batch.size", "").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Integer configuration property \"batch.size\" cannot be set to empty value"
        );
    }

    #[test]
    fn every_default_validates() {
        for p in PROPERTIES {
            if let Some(d) = p.default {
                assert_eq!(normalize(p, d).unwrap(), d, "{}", p.name);
            }
        }
    }
}
