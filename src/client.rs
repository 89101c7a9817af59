//! What every client instance has (php's abstract `RdKafka`): the cluster view, the runtime,
//! the fork guard, and the queries that do not depend on the client's role — metadata,
//! watermarks, offsets for times, controller id.

use crate::cluster::{Cluster, Metadata};
use crate::config::Config;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::runtime::{self, ProcessGuard};
use crate::topic_partition::TopicPartition;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;

/// The role-independent part of a client.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) cluster: Arc<Cluster>,
    pub(crate) handle: Handle,
    pub(crate) guard: ProcessGuard,
    pub(crate) conf: Config,
}

impl Client {
    /// A client for `conf` (no connection is made yet).
    ///
    /// # Errors
    /// When the background runtime cannot start.
    pub fn new(conf: &Config) -> Result<Client> {
        Self::new_for(conf, "producer")
    }

    /// A client of a consumer instance (its statistics and logs say `consumer`).
    ///
    /// # Errors
    /// As [`Client::new`].
    pub fn new_consumer(conf: &Config) -> Result<Client> {
        Self::new_for(conf, "consumer")
    }

    fn new_for(conf: &Config, kind: &'static str) -> Result<Client> {
        // Certificates, keys and SASL settings are checked here, so a bad path or mechanism
        // fails the constructor (as rd_kafka_new does), not the first connection.
        crate::net::Security::from_config(conf)?;
        Ok(Client {
            cluster: Cluster::new_for(conf, kind),
            handle: runtime::handle()?,
            guard: ProcessGuard::new(),
            conf: conf.clone(),
        })
    }

    /// Logs librdkafka's configuration warnings (`CONFWARN`, level 5) for this client; the
    /// application calls it once its log sinks are in place. (librdkafka as php-rdkafka
    /// shows it: no missing `bootstrap.servers` warning when `group.id` is set.)
    pub fn warn_config(&self) {
        if self.conf.bootstrap_servers().is_empty() && self.conf.get_str("group.id").is_none() {
            self.logger().log(
                crate::log::level::NOTICE,
                "CONFWARN",
                "app",
                format_args!(
                    "No `bootstrap.servers` configured: client will not be able to connect to Kafka cluster"
                ),
            );
        }
    }

    /// The instance's logger (`setLogLevel`, log events on or off).
    pub fn logger(&self) -> &std::sync::Arc<crate::log::Logger> {
        self.cluster.logger()
    }

    /// The instance name (`rdkafka#consumer-2`).
    pub fn name(&self) -> &str {
        self.cluster.instance_name()
    }

    /// The SASL/OAUTHBEARER token holder (`sasl.mechanisms=OAUTHBEARER` only): the
    /// application's `set_token` / `set_token_failure` go here.
    pub fn oauthbearer(&self) -> Option<&Arc<crate::net::sasl::OauthBearer>> {
        self.cluster.security().oauthbearer()
    }

    /// The configuration this client was created with.
    pub fn config(&self) -> &Config {
        &self.conf
    }

    /// Runs `f` on the background runtime and waits at most `timeout` for it.
    pub(crate) fn block_on<T, F>(&self, timeout: Duration, f: F) -> Result<T>
    where
        F: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.guard.check()?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let r = match tokio::time::timeout(timeout, f).await {
                Ok(r) => r,
                Err(_) => Err(KafkaError::new(ErrorCode::TIMED_OUT)),
            };
            let _ = tx.send(r);
        });
        rx.recv_timeout(timeout.saturating_add(Duration::from_secs(1)))
            .unwrap_or_else(|_| Err(KafkaError::new(ErrorCode::TIMED_OUT)))
    }

    /// Adds brokers to the bootstrap list (`addBrokers`), returning how many were added.
    pub fn add_brokers(&self, list: &str) -> usize {
        self.cluster.add_brokers(list)
    }

    /// Cluster metadata: all topics, one topic, or (neither) the topics this client knows.
    ///
    /// # Errors
    /// `_TIMED_OUT`, `_TRANSPORT`, `_ALL_BROKERS_DOWN` …
    pub fn metadata(
        &self,
        all_topics: bool,
        topic: Option<&str>,
        timeout: Duration,
    ) -> Result<Metadata> {
        let cluster = self.cluster.clone();
        let topics: Option<Vec<String>> = if let Some(t) = topic {
            Some(vec![t.to_string()])
        } else if all_topics {
            None
        } else {
            Some(cluster.cached_topics())
        };
        let auto = self.allow_auto_create_topics();
        self.block_on(timeout, async move {
            cluster.fetch_metadata(topics.as_deref(), auto).await
        })
    }

    /// `allow.auto.create.topics`: librdkafka's default is true for a producer and false
    /// for a consumer, so a producer's metadata request for a topic lets a broker with
    /// `auto.create.topics.enable` create it.
    pub fn allow_auto_create_topics(&self) -> bool {
        if self.conf.is_set("allow.auto.create.topics") {
            self.conf.get_bool("allow.auto.create.topics")
        } else {
            self.cluster.instance.kind() == "producer"
        }
    }

    /// The controller's node id (`getControllerId`), -1 if unknown.
    ///
    /// # Errors
    /// As [`Client::metadata`].
    pub fn controller_id(&self, timeout: Duration) -> Result<i32> {
        let cluster = self.cluster.clone();
        self.block_on(timeout, async move {
            cluster
                .fetch_metadata(Some(&[]), false)
                .await
                .map(|m| m.controller_id)
        })
    }

    /// Low and high watermarks of a partition (`queryWatermarkOffsets`).
    ///
    /// # Errors
    /// Broker errors (e.g. `UNKNOWN_TOPIC_OR_PART`), `_TIMED_OUT`.
    pub fn query_watermark_offsets(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
    ) -> Result<(i64, i64)> {
        let cluster = self.cluster.clone();
        let t = topic.to_string();
        let iso = self.isolation_level();
        self.block_on(timeout, async move {
            let r = list_offsets(
                &cluster,
                vec![(t.clone(), partition, -2), (t, partition, -1)],
                iso,
            )
            .await?;
            let lo = r[0].clone()?;
            let hi = r[1].clone()?;
            Ok((lo, hi))
        })
    }

    /// Offsets for timestamps (`offsetsForTimes`): each partition's `offset` holds a timestamp
    /// in ms on input and the earliest offset at or after it on output (-1 if none).
    ///
    /// # Errors
    /// `_TIMED_OUT` or a request error; per-partition errors are in each `err`.
    pub fn offsets_for_times(
        &self,
        tps: &[TopicPartition],
        timeout: Duration,
    ) -> Result<Vec<TopicPartition>> {
        let cluster = self.cluster.clone();
        let tps = tps.to_vec();
        let iso = self.isolation_level();
        self.block_on(timeout, async move {
            let q = tps
                .iter()
                .map(|tp| (tp.topic.clone(), tp.partition, tp.offset))
                .collect();
            let r = list_offsets(&cluster, q, iso).await?;
            Ok(tps
                .into_iter()
                .zip(r)
                .map(|(mut tp, r)| {
                    match r {
                        Ok(o) => tp.offset = o,
                        Err(e) => {
                            tp.offset = -1;
                            tp.err = e.code;
                        }
                    }
                    tp
                })
                .collect())
        })
    }

    pub(crate) fn isolation_level(&self) -> i8 {
        i8::from(self.conf.get("isolation.level").as_deref() == Some("read_committed"))
    }
}

/// ListOffsets for `(topic, partition, timestamp)` triples (-2 earliest, -1 latest), routed
/// to each partition's leader. Results are in input order.
pub(crate) async fn list_offsets(
    cluster: &Cluster,
    q: Vec<(String, i32, i64)>,
    isolation: i8,
) -> Result<Vec<Result<i64>>> {
    let mut topics: Vec<String> = q.iter().map(|(t, _, _)| t.clone()).collect();
    topics.sort();
    topics.dedup();
    if q.iter().any(|(t, p, _)| cluster.leader(t, *p).is_none()) {
        cluster.fetch_metadata(Some(&topics), false).await?;
    }
    let mut out: Vec<Result<i64>> =
        vec![Err(KafkaError::new(ErrorCode::UNKNOWN_PARTITION)); q.len()];
    let mut by_leader: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, (t, p, _)) in q.iter().enumerate() {
        match cluster.leader(t, *p) {
            Some(l) => by_leader.entry(l).or_default().push(i),
            None => {
                let code = match cluster.topic(t) {
                    Some(tm) if !tm.err.is_ok() => tm.err,
                    Some(_) => ErrorCode::UNKNOWN_PARTITION,
                    None => ErrorCode::UNKNOWN_TOPIC,
                };
                out[i] = Err(KafkaError::new(code));
            }
        }
    }
    for (leader, idxs) in by_leader {
        let conn = cluster.connection(leader).await?;
        // Earliest and latest for the same partition need separate requests (one entry per
        // partition per request).
        let mut rounds: Vec<Vec<usize>> = Vec::new();
        for i in idxs {
            let key = (&q[i].0, q[i].1);
            match rounds
                .iter_mut()
                .find(|r| !r.iter().any(|&j| (&q[j].0, q[j].1) == key))
            {
                Some(r) => r.push(i),
                None => rounds.push(vec![i]),
            }
        }
        for round in rounds {
            let mut req = ListOffsetsRequest::default();
            req.replica_id = BrokerId(-1);
            req.isolation_level = isolation;
            for &i in &round {
                let (t, p, ts) = &q[i];
                let name = TopicName(StrBytes::from_string(t.clone()));
                let mut lp = ListOffsetsPartition::default();
                lp.partition_index = *p;
                lp.current_leader_epoch = -1;
                lp.timestamp = *ts;
                match req.topics.iter_mut().find(|x| x.name == name) {
                    Some(x) => x.partitions.push(lp),
                    None => {
                        let mut lt = ListOffsetsTopic::default();
                        lt.name = name;
                        lt.partitions.push(lp);
                        req.topics.push(lt);
                    }
                }
            }
            let v = conn.version::<ListOffsetsRequest>(7)?;
            if v < 2 {
                req.isolation_level = 0;
            }
            let resp = conn
                .send_versioned(&req, v, cluster.request_timeout())
                .await?;
            for &i in &round {
                let (t, p, _) = &q[i];
                let r = resp
                    .topics
                    .iter()
                    .filter(|x| x.name.0.as_str() == t)
                    .flat_map(|x| x.partitions.iter())
                    .find(|x| x.partition_index == *p);
                out[i] = match r {
                    Some(r) if r.error_code == 0 => Ok(r.offset),
                    Some(r) => Err(KafkaError::new(ErrorCode::from_kafka(r.error_code))),
                    None => Err(KafkaError::new(ErrorCode::UNKNOWN_PARTITION)),
                };
            }
        }
    }
    Ok(out)
}
