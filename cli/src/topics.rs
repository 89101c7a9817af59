//! `kafkars topics create|list|describe|delete|add-partitions`, like Kafka's
//! `kafka-topics.sh`, over the core's [`kafkars::Admin`].

use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{DeleteTopicsRequest, DescribeConfigsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafkars::cluster::TopicMetadata;
use kafkars::Admin;

use crate::connect::{self, kerr, ConnectArgs};

/// `ConfigResource` type of a topic in DescribeConfigs.
const RESOURCE_TOPIC: i8 = 2;
/// `config_source` of a topic-level override (what `kafka-topics.sh --describe` lists).
const SOURCE_TOPIC: i8 = 1;

#[derive(Args, Debug)]
pub struct TopicsArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: TopicsCommand,
}

#[derive(Subcommand, Debug)]
enum TopicsCommand {
    /// Create a topic.
    Create {
        /// Topic name.
        name: String,
        /// Number of partitions.
        #[arg(long, short = 'p', default_value_t = 1)]
        partitions: i32,
        /// Replication factor [default: the broker's].
        #[arg(long, short = 'r', default_value_t = -1)]
        replication_factor: i16,
        /// Topic configuration, repeatable: `--config retention.ms=60000`.
        #[arg(long, short = 'c', value_name = "KEY=VALUE")]
        config: Vec<String>,
        /// Succeed when the topic already exists.
        #[arg(long)]
        if_not_exists: bool,
    },
    /// List topic names, one per line.
    List,
    /// Show partitions, leaders, watermarks and configs of topics.
    Describe {
        /// Topic names [default: every topic].
        names: Vec<String>,
        /// Show every config, not only the topic's own overrides.
        #[arg(long)]
        all_configs: bool,
    },
    /// Delete a topic.
    Delete {
        /// Topic name.
        name: String,
    },
    /// Grow a topic to a total number of partitions.
    AddPartitions {
        /// Topic name.
        name: String,
        /// The new total number of partitions.
        #[arg(long, short = 'p')]
        partitions: i32,
    },
}

/// Runs a `topics` subcommand.
pub fn run(args: TopicsArgs) -> ExitCode {
    connect::default_sigpipe();
    connect::exit(dispatch(args))
}

fn dispatch(args: TopicsArgs) -> Result<()> {
    let c = &args.connect;
    let admin = Admin::new(&c.config()?).map_err(kerr)?;
    let t = c.timeout();
    match args.command {
        TopicsCommand::Create {
            name,
            partitions,
            replication_factor,
            config,
            if_not_exists,
        } => {
            let configs = config
                .iter()
                .map(|kv| connect::split_kv(kv).map(|(k, v)| (k.to_string(), v.to_string())))
                .collect::<Result<Vec<_>>>()?;
            match admin.create_topic(&name, partitions, replication_factor, &configs, t) {
                Ok(()) => println!("Created topic {name}."),
                Err(e) if if_not_exists && e.code == kafkars::ErrorCode::TOPIC_ALREADY_EXISTS => {}
                Err(e) => return Err(kerr(e).context(format!("cannot create topic {name:?}"))),
            }
        }
        TopicsCommand::List => {
            let md = admin.list_topics(t).map_err(kerr)?;
            let mut names: Vec<&str> = md.topics.iter().map(|t| t.name.as_str()).collect();
            names.sort_unstable();
            for n in names {
                println!("{n}");
            }
        }
        TopicsCommand::Describe { names, all_configs } => {
            let topics = if names.is_empty() {
                let md = admin.list_topics(t).map_err(kerr)?;
                let mut ts = md.topics;
                ts.sort_by(|a, b| a.name.cmp(&b.name));
                ts
            } else {
                names
                    .iter()
                    .map(|n| existing_topic(&admin, n, t))
                    .collect::<Result<Vec<_>>>()?
            };
            for topic in &topics {
                describe(&admin, c, topic, all_configs)?;
            }
        }
        TopicsCommand::Delete { name } => {
            existing_topic(&admin, &name, t)?;
            delete_topic(c, &name)
                .map_err(|e| e.context(format!("cannot delete topic {name:?}")))?;
            println!("Deleted topic {name}.");
        }
        TopicsCommand::AddPartitions { name, partitions } => {
            existing_topic(&admin, &name, t)?;
            admin
                .create_partitions(&name, partitions, t)
                .map_err(|e| kerr(e).context(format!("cannot add partitions to {name:?}")))?;
            println!("Topic {name} now has {partitions} partitions.");
        }
    }
    Ok(())
}

/// Metadata of a topic that must exist.
///
/// # Errors
/// `Unknown topic` and connection errors.
pub fn existing_topic(admin: &Admin, name: &str, t: std::time::Duration) -> Result<TopicMetadata> {
    let md = admin.describe_topic(name, t).map_err(kerr)?;
    let tm = md
        .topics
        .into_iter()
        .find(|x| x.name == name)
        .ok_or_else(|| anyhow!("unknown topic {name:?}"))?;
    if !tm.err.is_ok() || tm.partitions.is_empty() {
        let why = if tm.err.is_ok() {
            "no partitions".to_string()
        } else {
            tm.err.description()
        };
        bail!("unknown topic {name:?} ({why})");
    }
    Ok(tm)
}

fn describe(admin: &Admin, c: &ConnectArgs, tm: &TopicMetadata, all_configs: bool) -> Result<()> {
    let t = c.timeout();
    let rf = tm.partitions.first().map_or(0, |p| p.replicas.len());
    let configs = topic_configs(c, &tm.name, all_configs)?;
    let configs: Vec<String> = configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "Topic: {}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}",
        tm.name,
        tm.partitions.len(),
        rf,
        configs.join(",")
    );
    for p in &tm.partitions {
        let (lo, hi) = admin
            .client()
            .query_watermark_offsets(&tm.name, p.id, t)
            .map_err(|e| kerr(e).context(format!("watermarks of {}-{}", tm.name, p.id)))?;
        let ids = |v: &[i32]| v.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
        println!(
            "\tTopic: {}\tPartition: {}\tLeader: {}\tReplicas: {}\tIsr: {}\tLowWatermark: {}\tHighWatermark: {}",
            tm.name,
            p.id,
            p.leader,
            ids(&p.replicas),
            ids(&p.isrs),
            lo,
            hi
        );
    }
    Ok(())
}

/// DeleteTopics, naming the topic the way the negotiated version wants (names up to v5,
/// topic states from v6).
fn delete_topic(c: &ConnectArgs, topic: &str) -> Result<()> {
    let cluster = c.cluster()?;
    let topic = topic.to_string();
    let timeout = c.timeout();
    connect::block_on(async move {
        let (conn, _) = cluster.any_connection().await.map_err(kerr)?;
        let v = conn.version::<DeleteTopicsRequest>(6).map_err(kerr)?;
        let name = TopicName(StrBytes::from_string(topic));
        let mut req = DeleteTopicsRequest::default();
        if v >= 6 {
            let mut st = DeleteTopicState::default();
            st.name = Some(name);
            req.topics = vec![st];
        } else {
            req.topic_names = vec![name];
        }
        req.timeout_ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let resp = conn.send_versioned(&req, v, timeout).await.map_err(kerr)?;
        let r = resp
            .responses
            .first()
            .ok_or_else(|| anyhow!("empty DeleteTopics answer"))?;
        connect::broker_error(r.error_code)
    })
}

/// A topic's configs (name, value), sorted; only the topic's own overrides unless `all`.
fn topic_configs(c: &ConnectArgs, topic: &str, all: bool) -> Result<Vec<(String, String)>> {
    let cluster = c.cluster()?;
    let topic = topic.to_string();
    let timeout = c.timeout();
    connect::block_on(async move {
        let (conn, _) = cluster.any_connection().await.map_err(kerr)?;
        let mut res = DescribeConfigsResource::default();
        res.resource_type = RESOURCE_TOPIC;
        res.resource_name = StrBytes::from_string(topic.clone());
        res.configuration_keys = None;
        let mut req = DescribeConfigsRequest::default();
        req.resources = vec![res];
        let v = match conn.version::<DescribeConfigsRequest>(4) {
            Ok(v) => v,
            // A broker without DescribeConfigs: describe without configs.
            Err(_) => return Ok(Vec::new()),
        };
        let resp = tokio::time::timeout(timeout, conn.send_versioned(&req, v, timeout))
            .await
            .map_err(|_| anyhow!("DescribeConfigs timed out"))?
            .map_err(kerr)?;
        let r = resp
            .results
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("empty DescribeConfigs answer"))?;
        connect::broker_error(r.error_code)?;
        let mut out: Vec<(String, String)> = r
            .configs
            .into_iter()
            .filter(|e| all || e.config_source == SOURCE_TOPIC)
            .map(|e| {
                let val = if e.is_sensitive {
                    "(sensitive)".to_string()
                } else {
                    e.value.map(|s| s.to_string()).unwrap_or_default()
                };
                (e.name.to_string(), val)
            })
            .collect();
        out.sort();
        Ok(out)
    })
}
