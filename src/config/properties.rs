//! librdkafka's property table: names, scopes, types, ranges, defaults and aliases.
//!
//! Order matters: `dump()` lists properties in table order, as librdkafka does. Values follow
//! librdkafka 2.x `CONFIGURATION.md`.

/// Where a property lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `rd_kafka_conf_t` (php `RdKafka\Conf`).
    Global,
    /// `rd_kafka_topic_conf_t` (php `RdKafka\TopicConf`).
    Topic,
}

/// The value type and its validation rule.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Free string.
    Str,
    /// Integer in `min..=max`, optionally with named values (`acks=all` → -1).
    Int {
        min: i64,
        max: i64,
        names: &'static [(&'static str, i64)],
    },
    /// Floating point in `min..=max`.
    Dbl { min: f64, max: f64 },
    /// `true`/`false`/`t`/`f`/`1`/`0`.
    Bool,
    /// One of the names (case-insensitive); names sharing a value are synonyms and the first
    /// one is what `dump()` shows.
    Enum(&'static [(&'static str, i32)]),
    /// Comma-separated subset of the names (`debug`).
    Flags(&'static [&'static str]),
}

/// One property.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    /// Canonical name.
    pub name: &'static str,
    /// Global or topic level.
    pub scope: Scope,
    /// Type and validation.
    pub kind: Kind,
    /// Default as `dump()` shows it; `None` = unset (not dumped).
    pub default: Option<&'static str>,
}

const fn p(
    name: &'static str,
    scope: Scope,
    kind: Kind,
    default: Option<&'static str>,
) -> Property {
    Property {
        name,
        scope,
        kind,
        default,
    }
}
const fn int(min: i64, max: i64) -> Kind {
    Kind::Int {
        min,
        max,
        names: &[],
    }
}

use Kind::{Bool, Str};
use Scope::{Global as G, Topic as T};

const I32MAX: i64 = 2_147_483_647;

/// `auto.offset.reset` values (librdkafka's order: smallest/earliest/beginning = BEGINNING …).
pub const AUTO_OFFSET_RESET: &[(&str, i32)] = &[
    ("smallest", -2),
    ("earliest", -2),
    ("beginning", -2),
    ("largest", -1),
    ("latest", -1),
    ("end", -1),
    ("error", -1000),
];
/// Codec names; `inherit` only at topic level.
pub const CODECS_GLOBAL: &[(&str, i32)] = &[
    ("none", 0),
    ("gzip", 1),
    ("snappy", 2),
    ("lz4", 3),
    ("zstd", 4),
];
const CODECS_TOPIC: &[(&str, i32)] = &[
    ("none", 0),
    ("gzip", 1),
    ("snappy", 2),
    ("lz4", 3),
    ("zstd", 4),
    ("inherit", 5),
];
const DEBUG_CONTEXTS: &[&str] = &[
    "generic",
    "broker",
    "topic",
    "metadata",
    "feature",
    "queue",
    "msg",
    "protocol",
    "cgrp",
    "security",
    "fetch",
    "interceptor",
    "plugin",
    "consumer",
    "admin",
    "eos",
    "mock",
    "assignor",
    "conf",
    "telemetry",
    "all",
];

/// The table.
pub static PROPERTIES: &[Property] = &[
    p("builtin.features", G, Str, Some("gzip,snappy,sasl,regex,lz4,plain,zstd")),
    p("client.id", G, Str, Some("rdkafka")),
    p("client.software.name", G, Str, Some("librdkafka")),
    p("client.software.version", G, Str, Some(crate::LIBRDKAFKA_VERSION_STR)),
    p("metadata.broker.list", G, Str, None),
    p("message.max.bytes", G, int(1000, 1_000_000_000), Some("1000000")),
    p("message.copy.max.bytes", G, int(0, 1_000_000_000), Some("65535")),
    p("receive.message.max.bytes", G, int(1000, I32MAX), Some("100000000")),
    p("max.in.flight.requests.per.connection", G, int(1, 1_000_000), Some("1000000")),
    p("metadata.recovery.strategy", G, Kind::Enum(&[("none", 0), ("rebootstrap", 1)]), Some("rebootstrap")),
    p("metadata.recovery.rebootstrap.trigger.ms", G, int(0, I32MAX), Some("300000")),
    p("topic.metadata.refresh.interval.ms", G, int(-1, 3_600_000), Some("300000")),
    p("metadata.max.age.ms", G, int(1, 86_400_000), Some("900000")),
    p("topic.metadata.refresh.fast.interval.ms", G, int(1, 60_000), Some("100")),
    p("topic.metadata.refresh.fast.cnt", G, int(0, 1000), Some("10")),
    p("topic.metadata.refresh.sparse", G, Bool, Some("true")),
    p("topic.metadata.propagation.max.ms", G, int(0, 3_600_000), Some("30000")),
    p("topic.blacklist", G, Str, None),
    p("debug", G, Kind::Flags(DEBUG_CONTEXTS), Some("")),
    p("socket.timeout.ms", G, int(10, 300_000), Some("60000")),
    p("socket.blocking.max.ms", G, int(1, 60_000), Some("1000")),
    p("socket.send.buffer.bytes", G, int(0, 100_000_000), Some("0")),
    p("socket.receive.buffer.bytes", G, int(0, 100_000_000), Some("0")),
    p("socket.keepalive.enable", G, Bool, Some("false")),
    p("socket.nagle.disable", G, Bool, Some("false")),
    p("socket.max.fails", G, int(0, 1_000_000), Some("1")),
    p("broker.address.ttl", G, int(0, 86_400_000), Some("1000")),
    p("broker.address.family", G, Kind::Enum(&[("any", 0), ("v4", 1), ("v6", 2)]), Some("any")),
    p("socket.connection.setup.timeout.ms", G, int(1000, I32MAX), Some("30000")),
    p("connections.max.idle.ms", G, int(0, I32MAX), Some("0")),
    p("reconnect.backoff.jitter.ms", G, int(0, 3_600_000), Some("0")),
    p("reconnect.backoff.ms", G, int(0, 3_600_000), Some("100")),
    p("reconnect.backoff.max.ms", G, int(0, 3_600_000), Some("10000")),
    p("statistics.interval.ms", G, int(0, 86_400_000), Some("0")),
    p("enabled_events", G, int(0, I32MAX), Some("0")),
    p("log_level", G, int(0, 7), Some("6")),
    p("log.queue", G, Bool, Some("false")),
    p("log.thread.name", G, Bool, Some("true")),
    p("enable.random.seed", G, Bool, Some("true")),
    p("log.connection.close", G, Bool, Some("true")),
    p("internal.termination.signal", G, int(0, 128), Some("0")),
    p("api.version.request", G, Bool, Some("true")),
    p("api.version.request.timeout.ms", G, int(1, 300_000), Some("10000")),
    p("api.version.fallback.ms", G, int(0, 604_800_000), Some("0")),
    p("broker.version.fallback", G, Str, Some("0.10.0")),
    p("allow.auto.create.topics", G, Bool, Some("false")),
    p(
        "security.protocol",
        G,
        Kind::Enum(&[("plaintext", 0), ("ssl", 1), ("sasl_plaintext", 2), ("sasl_ssl", 3)]),
        Some("plaintext"),
    ),
    p("ssl.cipher.suites", G, Str, None),
    p("ssl.curves.list", G, Str, None),
    p("ssl.sigalgs.list", G, Str, None),
    p("ssl.key.location", G, Str, None),
    p("ssl.key.password", G, Str, None),
    p("ssl.key.pem", G, Str, None),
    p("ssl.certificate.location", G, Str, None),
    p("ssl.certificate.pem", G, Str, None),
    p("ssl.ca.location", G, Str, None),
    p("ssl.ca.pem", G, Str, None),
    p("ssl.ca.certificate.stores", G, Str, Some("Root")),
    p("ssl.crl.location", G, Str, None),
    p("ssl.keystore.location", G, Str, None),
    p("ssl.keystore.password", G, Str, None),
    p("ssl.providers", G, Str, None),
    p("ssl.engine.id", G, Str, Some("dynamic")),
    p("enable.ssl.certificate.verification", G, Bool, Some("true")),
    p(
        "ssl.endpoint.identification.algorithm",
        G,
        Kind::Enum(&[("none", 0), ("https", 1)]),
        Some("https"),
    ),
    p("sasl.mechanisms", G, Str, Some("GSSAPI")),
    p("sasl.kerberos.service.name", G, Str, Some("kafka")),
    p("sasl.kerberos.principal", G, Str, Some("kafkaclient")),
    p("sasl.kerberos.kinit.cmd", G, Str, Some("kinit -R -t \"%{sasl.kerberos.keytab}\" -k %{sasl.kerberos.principal} || kinit -t \"%{sasl.kerberos.keytab}\" -k %{sasl.kerberos.principal}")),
    p("sasl.kerberos.keytab", G, Str, None),
    p("sasl.kerberos.min.time.before.relogin", G, int(0, 86_400_000), Some("60000")),
    p("sasl.username", G, Str, None),
    p("sasl.password", G, Str, None),
    p("sasl.oauthbearer.config", G, Str, None),
    p("enable.sasl.oauthbearer.unsecure.jwt", G, Bool, Some("false")),
    p("sasl.oauthbearer.method", G, Kind::Enum(&[("default", 0), ("oidc", 1)]), Some("default")),
    p("sasl.oauthbearer.client.id", G, Str, None),
    p("sasl.oauthbearer.client.secret", G, Str, None),
    p("sasl.oauthbearer.scope", G, Str, None),
    p("sasl.oauthbearer.extensions", G, Str, None),
    p("sasl.oauthbearer.token.endpoint.url", G, Str, None),
    p("plugin.library.paths", G, Str, None),
    p("group.id", G, Str, None),
    p("group.instance.id", G, Str, None),
    p("partition.assignment.strategy", G, Str, Some("range,roundrobin")),
    p("session.timeout.ms", G, int(1, 3_600_000), Some("45000")),
    p("heartbeat.interval.ms", G, int(1, 3_600_000), Some("3000")),
    p("group.protocol.type", G, Str, Some("consumer")),
    p("group.protocol", G, Kind::Enum(&[("classic", 0), ("consumer", 1)]), Some("classic")),
    p("group.remote.assignor", G, Str, None),
    p("coordinator.query.interval.ms", G, int(1, 3_600_000), Some("600000")),
    p("max.poll.interval.ms", G, int(1, 86_400_000), Some("300000")),
    p("enable.auto.commit", G, Bool, Some("true")),
    p("auto.commit.interval.ms", G, int(0, 86_400_000), Some("5000")),
    p("enable.auto.offset.store", G, Bool, Some("true")),
    p("queued.min.messages", G, int(1, 10_000_000), Some("100000")),
    p("queued.max.messages.kbytes", G, int(1, 2_097_151), Some("65536")),
    p("fetch.wait.max.ms", G, int(0, 300_000), Some("500")),
    p("fetch.queue.backoff.ms", G, int(0, 300_000), Some("1000")),
    p("fetch.message.max.bytes", G, int(1, 1_000_000_000), Some("1048576")),
    p("fetch.max.bytes", G, int(0, 2_147_483_135), Some("52428800")),
    p("fetch.min.bytes", G, int(1, 100_000_000), Some("1")),
    p("fetch.error.backoff.ms", G, int(0, 300_000), Some("500")),
    p("offset.store.method", G, Kind::Enum(&[("none", 0), ("file", 1), ("broker", 2)]), Some("broker")),
    p(
        "isolation.level",
        G,
        Kind::Enum(&[("read_uncommitted", 0), ("read_committed", 1)]),
        Some("read_committed"),
    ),
    p("enable.partition.eof", G, Bool, Some("false")),
    p("check.crcs", G, Bool, Some("false")),
    p("client.rack", G, Str, None),
    p("transactional.id", G, Str, None),
    p("transaction.timeout.ms", G, int(1000, I32MAX), Some("60000")),
    p("enable.idempotence", G, Bool, Some("false")),
    p("enable.gapless.guarantee", G, Bool, Some("false")),
    p("queue.buffering.max.messages", G, int(0, I32MAX), Some("100000")),
    p("queue.buffering.max.kbytes", G, int(1, I32MAX), Some("1048576")),
    p("queue.buffering.max.ms", G, Kind::Dbl { min: 0.0, max: 900_000.0 }, Some("5")),
    p("message.send.max.retries", G, int(0, I32MAX), Some("2147483647")),
    p("retry.backoff.ms", G, int(1, 300_000), Some("100")),
    p("retry.backoff.max.ms", G, int(1, 300_000), Some("1000")),
    p("queue.buffering.backpressure.threshold", G, int(1, 1_000_000), Some("1")),
    p("compression.codec", G, Kind::Enum(CODECS_GLOBAL), Some("none")),
    p("batch.num.messages", G, int(1, 1_000_000), Some("10000")),
    p("batch.size", G, int(1, I32MAX), Some("1000000")),
    p("delivery.report.only.error", G, Bool, Some("false")),
    p("sticky.partitioning.linger.ms", G, int(0, 900_000), Some("10")),
    p(
        "client.dns.lookup",
        G,
        Kind::Enum(&[("use_all_dns_ips", 0), ("resolve_canonical_bootstrap_servers_only", 1)]),
        Some("use_all_dns_ips"),
    ),
    p("enable.metrics.push", G, Bool, Some("true")),
    // Topic level.
    p(
        "request.required.acks",
        T,
        Kind::Int { min: -1, max: 1000, names: &[("all", -1)] },
        Some("-1"),
    ),
    p("request.timeout.ms", T, int(1, 900_000), Some("30000")),
    p("message.timeout.ms", T, int(0, I32MAX), Some("300000")),
    p("queuing.strategy", T, Kind::Enum(&[("fifo", 0), ("lifo", 1)]), Some("fifo")),
    p("produce.offset.report", T, Bool, Some("false")),
    p("partitioner", T, Str, Some("consistent_random")),
    p("compression.codec", T, Kind::Enum(CODECS_TOPIC), Some("inherit")),
    p("compression.level", T, int(-1, 12), Some("-1")),
    p("auto.commit.enable", T, Bool, Some("true")),
    p("auto.commit.interval.ms", T, int(10, 86_400_000), Some("60000")),
    p("auto.offset.reset", T, Kind::Enum(AUTO_OFFSET_RESET), Some("largest")),
    p("offset.store.path", T, Str, Some(".")),
    p("offset.store.sync.interval.ms", T, int(-1, 86_400_000), Some("-1")),
    p("offset.store.method", T, Kind::Enum(&[("file", 0), ("broker", 1)]), Some("broker")),
    p("consume.callback.max.messages", T, int(0, 1_000_000), Some("0")),
];

/// Aliases: (alias, canonical name, scope).
pub static ALIASES: &[(&str, &str, Scope)] = &[
    ("bootstrap.servers", "metadata.broker.list", G),
    ("max.in.flight", "max.in.flight.requests.per.connection", G),
    ("sasl.mechanism", "sasl.mechanisms", G),
    ("max.partition.fetch.bytes", "fetch.message.max.bytes", G),
    ("queue.buffering.max.ms", "queue.buffering.max.ms", G),
    ("linger.ms", "queue.buffering.max.ms", G),
    ("retries", "message.send.max.retries", G),
    ("retry.backoff.ms", "retry.backoff.ms", G),
    ("compression.type", "compression.codec", G),
    ("acks", "request.required.acks", T),
    ("delivery.timeout.ms", "message.timeout.ms", T),
    ("compression.type", "compression.codec", T),
    ("enable.auto.commit", "auto.commit.enable", T),
];

/// Partitioner names accepted by the `partitioner` property.
pub const PARTITIONERS: &[&str] = &[
    "random",
    "consistent",
    "consistent_random",
    "murmur2",
    "murmur2_random",
    "fnv1a",
    "fnv1a_random",
];

/// Finds a property by name or alias in a scope.
pub fn find(scope: Scope, name: &str) -> Option<&'static Property> {
    let canonical = ALIASES
        .iter()
        .find(|(a, _, s)| *s == scope && *a == name)
        .map(|(_, c, _)| *c)
        .unwrap_or(name);
    PROPERTIES
        .iter()
        .find(|p| p.scope == scope && p.name == canonical)
}
