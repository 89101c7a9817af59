//! The cluster as the client sees it: bootstrap servers, brokers by node id, one connection
//! per broker address, and a metadata cache used for partition counts and leader routing.

pub mod metadata;

use crate::config::Config;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::Event;
use crate::log::{level, Ctx, Logger};
use crate::net::{Connection, ConnectionOptions};
use crate::stats::{BrokerState, BrokerStats, Instance, KnownBroker};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
pub use metadata::{BrokerMetadata, Metadata, PartitionMetadata, TopicMetadata};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>;

#[derive(Default)]
struct State {
    brokers: HashMap<i32, (String, i32)>,
    topics: HashMap<String, Arc<TopicMetadata>>,
    controller_id: i32,
    cluster_id: Option<String>,
    last_refresh: Option<Instant>,
}

/// Shared view of the cluster (one per client instance).
pub struct Cluster {
    opts: ConnectionOptions,
    /// Statistics of this client instance (brokers, identity).
    pub(crate) instance: Arc<Instance>,
    /// The instance's logger.
    pub(crate) log: Arc<Logger>,
    bootstrap: Mutex<Vec<String>>,
    state: Mutex<State>,
    conns: Mutex<HashMap<String, Slot>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").finish_non_exhaustive()
    }
}

impl Cluster {
    /// A cluster view from the client configuration (a producer-type instance, as
    /// librdkafka's admin clients are).
    pub fn new(conf: &Config) -> Arc<Cluster> {
        Self::new_for(conf, "producer")
    }

    /// A cluster view for an instance of `kind` (`producer` or `consumer`).
    pub fn new_for(conf: &Config, kind: &'static str) -> Arc<Cluster> {
        let client_id = conf
            .get_str("client.id")
            .unwrap_or_else(|| "rdkafka".into());
        let instance = Arc::new(Instance::new(&client_id, kind));
        let log = Arc::new(Logger::new(
            instance.name(),
            conf.get_i64("log_level"),
            &conf.get("debug").unwrap_or_default(),
        ));
        let opts = ConnectionOptions {
            client_id: conf
                .get_str("client.id")
                .unwrap_or_else(|| "rdkafka".into()),
            connect_timeout: Duration::from_millis(
                conf.get_i64("socket.connection.setup.timeout.ms").max(1) as u64,
            ),
            request_timeout: Duration::from_millis(conf.get_i64("socket.timeout.ms").max(1) as u64),
            max_frame: conf.get_i64("receive.message.max.bytes").max(1000) as usize,
            // Client::new refuses a bad security configuration; here it only makes every
            // connection fail with that error (never a silent fall back to plaintext).
            security: Arc::new(
                crate::net::Security::from_config(conf)
                    .unwrap_or_else(crate::net::Security::refusing),
            ),
            ..ConnectionOptions::default()
        };
        if let Some(o) = opts.security.oauthbearer() {
            let log = Arc::downgrade(&log);
            o.set_event_source(move || log.upgrade()?.queue());
        }
        Arc::new(Cluster {
            opts,
            instance,
            log,
            bootstrap: Mutex::new(conf.bootstrap_servers()),
            state: Mutex::new(State {
                controller_id: -1,
                ..State::default()
            }),
            conns: Mutex::new(HashMap::new()),
        })
    }

    /// Adds bootstrap brokers at run time (`addBrokers`); returns how many were added.
    pub fn add_brokers(self: &Arc<Self>, list: &str) -> usize {
        let mut conf = Config::new();
        if conf.set("metadata.broker.list", list).is_err() {
            return 0;
        }
        let addrs = conf.bootstrap_servers();
        let mut b = self.bootstrap.lock().unwrap_or_else(|e| e.into_inner());
        let before = b.len();
        for a in addrs {
            if !b.contains(&a) {
                b.push(a);
            }
        }
        b.len() - before
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Default request timeout (`socket.timeout.ms`).
    pub fn request_timeout(&self) -> Duration {
        self.opts.request_timeout
    }

    /// A connection to `addr`, reusing a live one.
    ///
    /// # Errors
    /// As [`Connection::connect`].
    pub async fn connect_addr(&self, addr: &str) -> Result<Arc<Connection>> {
        let slot = {
            let mut c = self.conns.lock().unwrap_or_else(|e| e.into_inner());
            c.entry(addr.to_string()).or_default().clone()
        };
        let mut g = slot.lock().await;
        if let Some(c) = g.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let name = self.broker_name(addr);
        let learned = !self
            .bootstrap
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|b| b == addr);
        let bs = self.instance.broker(addr, learned);
        bs.connects
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bs.set_state(BrokerState::Connect);
        self.log.debug(
            Ctx::Broker,
            "CONNECT",
            &name,
            format_args!("{name}: Connecting to {addr}"),
        );
        let mut opts = self.opts.clone();
        opts.stats = Some(bs.clone());
        opts.log = Some(self.log.clone());
        opts.name = name.clone();
        let started = Instant::now();
        match Connection::connect(addr, opts).await {
            Ok(c) => {
                bs.set_state(BrokerState::Up);
                *bs.last_fail.lock().unwrap_or_else(|e| e.into_inner()) = None;
                self.instance
                    .all_down
                    .store(false, std::sync::atomic::Ordering::SeqCst);
                self.log.debug(
                    Ctx::Broker,
                    "CONNECTED",
                    &name,
                    format_args!(
                        "{name}: Connected (#{})",
                        bs.connects.load(std::sync::atomic::Ordering::Relaxed)
                    ),
                );
                *g = Some(c.clone());
                Ok(c)
            }
            Err(e) => {
                self.connect_failed(&bs, &name, addr, &e, started.elapsed());
                Err(e)
            }
        }
    }

    /// librdkafka's reaction to a failed connect: a `FAIL` log line (identical repeats
    /// within 30 s suppressed and counted), a `_TRANSPORT` error event, and once all
    /// known brokers are down an `_ALL_BROKERS_DOWN` event — once per state change,
    /// not per retry.
    fn connect_failed(
        &self,
        bs: &BrokerStats,
        name: &str,
        addr: &str,
        e: &KafkaError,
        after: Duration,
    ) {
        bs.set_state(BrokerState::Down);
        let reason = e
            .message
            .strip_prefix(&format!("{addr}: "))
            .unwrap_or(&e.message)
            .trim_start_matches("Connect failed: ");
        // librdkafka names the resolved address family: `ipv4#127.0.0.1:9092`.
        let family = match addr.parse::<std::net::SocketAddr>() {
            Ok(std::net::SocketAddr::V4(_)) => "ipv4#",
            Ok(std::net::SocketAddr::V6(_)) => "ipv6#",
            Err(_) => "",
        };
        // TLS and SASL failures keep librdkafka's code (`_SSL`, `_AUTHENTICATION`) and
        // wording: "<name>: SASL authentication error: <broker's text> (after ..".
        let state = match e.code {
            ErrorCode::AUTHENTICATION => Some("AUTH_REQ"),
            ErrorCode::SSL => Some("SSL_HANDSHAKE"),
            _ => None,
        };
        let text = match state {
            Some(state) => format!(
                "{name}: {reason} (after {}ms in state {state}",
                after.as_millis()
            ),
            None => format!(
                "{name}: Connect to {family}{addr} failed: {reason} (after {}ms in state CONNECT",
                after.as_millis()
            ),
        };
        let suppressed = {
            let mut last = bs.last_fail.lock().unwrap_or_else(|e| e.into_inner());
            match &mut *last {
                Some((t, at, n)) if *t == text && at.elapsed() < Duration::from_secs(30) => {
                    *n += 1;
                    None
                }
                _ => {
                    let n = last
                        .as_ref()
                        .filter(|(t, _, _)| *t == text)
                        .map_or(0, |l| l.2);
                    *last = Some((text.clone(), Instant::now(), 0));
                    Some(n)
                }
            }
        };
        let Some(n) = suppressed else { return };
        let full = if n > 0 {
            format!("{text}, {n} identical error(s) suppressed)")
        } else {
            format!("{text})")
        };
        self.log
            .log(level::ERR, "FAIL", name, format_args!("{full}"));
        let Some(q) = self.log.queue() else { return };
        q.push_error(
            if state.is_some() {
                e.code
            } else {
                ErrorCode::TRANSPORT
            },
            full,
        );
        let (down, total) = self.instance.down_count();
        if down == total
            && !self
                .instance
                .all_down
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            let reason = format!("{down}/{total} brokers are down");
            if self.log.error_events() {
                q.push(Event::Error {
                    code: ErrorCode::ALL_BROKERS_DOWN,
                    reason,
                    fatal: false,
                });
            } else {
                self.log
                    .log(level::ERR, "ERROR", name, format_args!("{reason}"));
            }
        }
    }

    /// librdkafka's broker name: `host:port/<node id>`, or `host:port/bootstrap`.
    pub(crate) fn broker_name(&self, addr: &str) -> String {
        let st = self.lock();
        match st
            .brokers
            .iter()
            .find(|(_, (h, p))| format!("{h}:{p}") == addr)
        {
            Some((id, _)) => format!("{addr}/{id}"),
            None => format!("{addr}/bootstrap"),
        }
    }

    /// Brokers known from metadata, for statistics.
    pub(crate) fn known_brokers(&self) -> Vec<KnownBroker> {
        self.lock()
            .brokers
            .iter()
            .map(|(id, (h, p))| KnownBroker {
                id: *id,
                addr: format!("{h}:{p}"),
            })
            .collect()
    }

    /// Topics in the metadata cache.
    pub(crate) fn metadata_cache_cnt(&self) -> usize {
        self.lock().topics.len()
    }

    /// The instance's logger.
    pub fn logger(&self) -> &Arc<Logger> {
        &self.log
    }

    /// The instance name (`rdkafka#producer-1`).
    pub fn instance_name(&self) -> &str {
        self.instance.name()
    }

    /// TLS and SASL settings of this client's connections.
    pub fn security(&self) -> &Arc<crate::net::Security> {
        &self.opts.security
    }

    /// Records a broker address learned outside metadata (FindCoordinator).
    pub fn learn_broker(&self, node: i32, host: &str, port: i32) {
        self.lock().brokers.insert(node, (host.to_string(), port));
    }

    /// Address of a broker by node id.
    pub fn broker_addr(&self, node: i32) -> Option<String> {
        self.lock()
            .brokers
            .get(&node)
            .map(|(h, p)| format!("{h}:{p}"))
    }

    /// A connection to broker `node`.
    ///
    /// # Errors
    /// `_UNKNOWN_BROKER` if the node is not in metadata, else as [`Connection::connect`].
    pub async fn connection(&self, node: i32) -> Result<Arc<Connection>> {
        let addr = self.broker_addr(node).ok_or_else(|| {
            KafkaError::with_message(ErrorCode::UNKNOWN_BROKER, format!("Unknown broker {node}"))
        })?;
        self.connect_addr(&addr).await
    }

    /// Any reachable broker: known brokers first, then the bootstrap list.
    ///
    /// # Errors
    /// `_ALL_BROKERS_DOWN` (with the last failure's text) when none answers; `_INVALID_ARG`
    /// with no brokers configured.
    pub async fn any_connection(&self) -> Result<(Arc<Connection>, i32)> {
        let mut cands: Vec<(String, i32)> = {
            let st = self.lock();
            let mut v: Vec<_> = st
                .brokers
                .iter()
                .map(|(id, (h, p))| (format!("{h}:{p}"), *id))
                .collect();
            v.sort_by_key(|(_, id)| *id);
            v
        };
        let bootstrap = self
            .bootstrap
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for b in &bootstrap {
            if !cands.iter().any(|(a, _)| a == b) {
                cands.push((b.clone(), -1));
            }
        }
        if cands.is_empty() {
            return Err(KafkaError::with_message(
                ErrorCode::INVALID_ARG,
                "No bootstrap brokers configured",
            ));
        }
        // Prefer already-open connections.
        {
            let conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
            for (a, id) in &cands {
                if let Some(slot) = conns.get(a) {
                    if let Ok(g) = slot.try_lock() {
                        if let Some(c) = g.as_ref().filter(|c| !c.is_closed()) {
                            return Ok((c.clone(), *id));
                        }
                    }
                }
            }
        }
        let mut last = None;
        for (a, id) in cands {
            match self.connect_addr(&a).await {
                Ok(c) => return Ok((c, id)),
                Err(e) => last = Some(e),
            }
        }
        let msg = last.map(|e| e.message).unwrap_or_default();
        Err(KafkaError::with_message(ErrorCode::ALL_BROKERS_DOWN, msg))
    }

    /// Fetches metadata for `topics` (`None` = all topics) and updates the cache.
    ///
    /// # Errors
    /// Connection and request errors.
    pub async fn fetch_metadata(
        &self,
        topics: Option<&[String]>,
        auto_create: bool,
    ) -> Result<Metadata> {
        let (conn, node) = self.any_connection().await?;
        let mut req = MetadataRequest::default();
        req.topics = topics.map(|ts| {
            ts.iter()
                .map(|t| {
                    let mut mt = MetadataRequestTopic::default();
                    mt.name = Some(TopicName(StrBytes::from_string(t.clone())));
                    mt
                })
                .collect()
        });
        req.allow_auto_topic_creation = auto_create;
        self.log.debug(
            Ctx::Metadata,
            "METADATA",
            "main",
            format_args!(
                "{}: Request metadata for {}",
                conn.addr(),
                topics.map_or("all topics".to_string(), |t| format!(
                    "{} topic(s)",
                    t.len()
                ))
            ),
        );
        let resp = conn.send(&req, 12).await?;
        let md = Metadata::from_response(resp, node, conn.addr());
        let mut st = self.lock();
        for b in &md.brokers {
            st.brokers.insert(b.id, (b.host.clone(), b.port));
        }
        st.controller_id = md.controller_id;
        st.cluster_id = md.cluster_id.clone();
        st.last_refresh = Some(Instant::now());
        for t in &md.topics {
            st.topics.insert(t.name.clone(), Arc::new(t.clone()));
        }
        Ok(md)
    }

    /// Cached metadata of a topic.
    pub fn topic(&self, name: &str) -> Option<Arc<TopicMetadata>> {
        self.lock().topics.get(name).cloned()
    }

    /// Names of every cached topic.
    pub fn cached_topics(&self) -> Vec<String> {
        self.lock().topics.keys().cloned().collect()
    }

    /// Leader node of a partition from the cache (`None` when unknown or leaderless).
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        let st = self.lock();
        let t = st.topics.get(topic)?;
        let p = t.partitions.iter().find(|p| p.id == partition)?;
        (p.leader >= 0).then_some(p.leader)
    }

    /// Controller id from the last metadata (-1 unknown).
    pub fn controller_id(&self) -> i32 {
        self.lock().controller_id
    }

    /// Time since the last metadata refresh.
    pub fn metadata_age(&self) -> Option<Duration> {
        self.lock().last_refresh.map(|t| t.elapsed())
    }
}
