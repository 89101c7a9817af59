//! `kafkars consume TOPIC`: the console consumer, and the partition fetcher `perf consume`
//! shares.
//!
//! One task per partition long-polls its leader (Fetch, `max_wait_ms` 500) and hands whole
//! decoded fetches to the printer through a bounded channel, so a slow terminal slows the
//! fetchers instead of growing memory. With `--group` the partitions come from the group's
//! assignment (see [`crate::groups::GroupMember`]) and positions are committed on the way out.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use clap::{Args, ValueEnum};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, ListOffsetsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafkars::cluster::Cluster;
use kafkars::net::records::{decode_batches, DecodedRecord};
use kafkars::ErrorCode;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::connect::{self, kerr, ConnectArgs};
use crate::groups::GroupMember;

/// Fetches in flight to the printer (each a whole fetch response of one partition).
const CHANNEL_FETCHES: usize = 16;
/// Most bytes one partition returns per fetch.
const PARTITION_MAX_BYTES: i32 = 1024 * 1024;
/// Long-poll wait per fetch.
const MAX_WAIT_MS: i32 = 500;
/// Fetch version cap: v12 is the newest that names topics rather than topic ids.
const FETCH_VERSION: i16 = 12;

/// Where to start when there is no explicit or committed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// The oldest retained message.
    Earliest,
    /// Only messages produced from now on.
    Latest,
}

impl Reset {
    fn timestamp(self) -> i64 {
        match self {
            Reset::Earliest => -2,
            Reset::Latest => -1,
        }
    }
}

/// Fields `--format` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Field {
    Key,
    Value,
    Partition,
    Offset,
    Timestamp,
    Headers,
}

#[derive(Args, Debug)]
pub struct ConsumeArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Topic to read.
    topic: String,
    /// Start at the oldest message (default: only new messages).
    #[arg(long)]
    from_beginning: bool,
    /// Read only this partition.
    #[arg(long, short = 'p')]
    partition: Option<i32>,
    /// Start offset in the partition (`earliest`, `latest`, or a number); needs --partition.
    #[arg(long, short = 'o', requires = "partition")]
    offset: Option<String>,
    /// Consume as a member of this group, committing positions.
    #[arg(long, short = 'g', conflicts_with = "partition")]
    group: Option<String>,
    /// Exit after this many messages.
    #[arg(long, short = 'n')]
    max_messages: Option<u64>,
    /// Exit when no message arrived for this many milliseconds.
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Fields to print, comma separated, tab separated on output:
    /// key, value, partition, offset, timestamp, headers.
    #[arg(long, short = 'f', value_delimiter = ',', default_value = "value")]
    format: Vec<Field>,
    /// Print one JSON object per message instead.
    #[arg(long, conflicts_with = "format")]
    json: bool,
}

/// One partition's fetched records.
pub struct Fetched {
    /// Partition.
    pub partition: i32,
    /// Records in offset order.
    pub records: Vec<DecodedRecord>,
}

/// Runs the console consumer.
pub fn run(args: ConsumeArgs) -> ExitCode {
    connect::default_sigpipe();
    connect::exit(consume(args))
}

fn consume(args: ConsumeArgs) -> Result<()> {
    let c = args.connect.clone();
    let admin = kafkars::Admin::new(&c.config()?).map_err(kerr)?;
    let tm = crate::topics::existing_topic(&admin, &args.topic, c.timeout())?;
    let reset = if args.from_beginning {
        Reset::Earliest
    } else {
        Reset::Latest
    };
    let cluster = c.cluster()?;
    let printer = Printer::new(args.format.clone(), args.json);
    let limit = Limit {
        max: args.max_messages,
        idle: args.timeout_ms.map(Duration::from_millis),
    };
    if let Some(group) = args.group.clone() {
        let topic = args.topic.clone();
        return connect::block_on(async move {
            group_loop(cluster, &group, &topic, reset, printer, limit).await
        });
    }
    let partitions: Vec<i32> = match args.partition {
        Some(p) if !tm.partitions.iter().any(|x| x.id == p) => {
            bail!(
                "partition {p} does not exist in topic {:?} ({} partitions)",
                args.topic,
                tm.partitions.len()
            )
        }
        Some(p) => vec![p],
        None => tm.partitions.iter().map(|p| p.id).collect(),
    };
    let start = match args.offset.as_deref() {
        None => reset.timestamp(),
        Some("earliest" | "beginning") => -2,
        Some("latest" | "end") => -1,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                bail!("invalid --offset {n:?}: expected earliest, latest or a non-negative number")
            }
        },
    };
    let topic = args.topic.clone();
    connect::block_on(async move {
        let wanted: Vec<(i32, i64)> = partitions.iter().map(|&p| (p, start)).collect();
        let positions = resolve(&cluster, &topic, &wanted).await?;
        let mut printer = printer;
        let mut fetchers = Fetchers::start(cluster, &topic, &positions, reset);
        let r = fetchers.drain(&mut printer, limit).await;
        fetchers.stop().await;
        r.map(|_| ())
    })
}

/// When the consumer stops on its own.
#[derive(Debug, Clone, Copy)]
struct Limit {
    max: Option<u64>,
    idle: Option<Duration>,
}

/// Why [`Fetchers::drain`] returned.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// Ctrl-C, `--max-messages`, the idle timeout, or a closed stdout: we are done.
    Done,
    /// The group needs to rebalance: rejoin and continue.
    Rebalance,
}

async fn group_loop(
    cluster: Arc<Cluster>,
    group: &str,
    topic: &str,
    reset: Reset,
    mut printer: Printer,
    mut limit: Limit,
) -> Result<()> {
    let mut member = GroupMember::new(cluster.clone(), group, topic);
    let result = loop {
        let assigned = member.join().await?;
        let committed = member.committed(&assigned).await?;
        let wanted: Vec<(i32, i64)> = assigned
            .iter()
            .map(|p| {
                (
                    *p,
                    committed
                        .get(p)
                        .copied()
                        .filter(|o| *o >= 0)
                        .unwrap_or(reset.timestamp()),
                )
            })
            .collect();
        let positions = resolve(&cluster, topic, &wanted).await?;
        let mut fetchers = Fetchers::start(cluster.clone(), topic, &positions, reset);
        let before = printer.count;
        let r = tokio::select! {
            r = fetchers.drain(&mut printer, limit) => r,
            e = member.heartbeat_until_rebalance() => e.map(|()| Stop::Rebalance),
        };
        fetchers.stop().await;
        let done = printer.count - before;
        limit.max = limit.max.map(|m| m.saturating_sub(done));
        member.commit(&fetchers.positions).await?;
        match r {
            Ok(Stop::Rebalance) => continue,
            other => break other,
        }
    };
    member.leave().await;
    result.map(|_| ())
}

/// Resolves logical start offsets (-2 earliest, -1 latest) to absolute ones.
///
/// # Errors
/// Connection and broker errors.
pub async fn resolve(
    cluster: &Cluster,
    topic: &str,
    wanted: &[(i32, i64)],
) -> Result<Vec<(i32, i64)>> {
    let mut out = Vec::with_capacity(wanted.len());
    for &(p, o) in wanted {
        let o = if o < 0 {
            list_offset(cluster, topic, p, o).await?
        } else {
            o
        };
        out.push((p, o));
    }
    Ok(out)
}

/// ListOffsets of one partition at its leader: -2 earliest, -1 latest.
async fn list_offset(cluster: &Cluster, topic: &str, partition: i32, ts: i64) -> Result<i64> {
    let conn = leader_conn(cluster, topic, partition).await?;
    let mut lp = ListOffsetsPartition::default();
    lp.partition_index = partition;
    lp.current_leader_epoch = -1;
    lp.timestamp = ts;
    let mut lt = ListOffsetsTopic::default();
    lt.name = TopicName(StrBytes::from_string(topic.to_string()));
    lt.partitions = vec![lp];
    let mut req = ListOffsetsRequest::default();
    req.replica_id = BrokerId(-1);
    req.topics = vec![lt];
    let resp = conn.send(&req, 7).await.map_err(kerr)?;
    let r = resp
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter())
        .find(|x| x.partition_index == partition)
        .ok_or_else(|| anyhow!("no ListOffsets answer for {topic}-{partition}"))?;
    connect::broker_error(r.error_code)?;
    Ok(r.offset)
}

async fn leader_conn(
    cluster: &Cluster,
    topic: &str,
    partition: i32,
) -> Result<Arc<kafkars::net::Connection>> {
    let leader = match cluster.leader(topic, partition) {
        Some(l) => l,
        None => {
            cluster
                .fetch_metadata(Some(&[topic.to_string()]), false)
                .await
                .map_err(kerr)?;
            cluster
                .leader(topic, partition)
                .ok_or_else(|| anyhow!("no leader for {topic}-{partition}"))?
        }
    };
    cluster.connection(leader).await.map_err(kerr)
}

/// The running partition fetchers and the consumer's positions (next offset to deliver).
pub struct Fetchers {
    tasks: JoinSet<()>,
    rx: mpsc::Receiver<Result<Fetched>>,
    /// Next offset per partition (what a commit stores).
    pub positions: HashMap<i32, i64>,
}

impl Fetchers {
    /// Starts one fetch task per partition at the given absolute offsets.
    pub fn start(
        cluster: Arc<Cluster>,
        topic: &str,
        positions: &[(i32, i64)],
        reset: Reset,
    ) -> Fetchers {
        let (tx, rx) = mpsc::channel(CHANNEL_FETCHES);
        let mut tasks = JoinSet::new();
        for &(p, o) in positions {
            let (cluster, topic, tx) = (cluster.clone(), topic.to_string(), tx.clone());
            tasks.spawn(async move {
                if let Err(e) = fetch_partition(&cluster, &topic, p, o, reset, &tx).await {
                    let _ = tx.send(Err(e)).await;
                }
            });
        }
        Fetchers {
            tasks,
            rx,
            positions: positions.iter().copied().collect(),
        }
    }

    /// The next fetched records (`None` once every task ended).
    ///
    /// # Errors
    /// A fetch task's fatal error.
    pub async fn next(&mut self) -> Option<Result<Fetched>> {
        self.rx.recv().await
    }

    async fn drain(&mut self, printer: &mut Printer, limit: Limit) -> Result<Stop> {
        if limit.max == Some(0) {
            return Ok(Stop::Done);
        }
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            let idle = async {
                match limit.idle {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            let fetched = tokio::select! {
                _ = &mut ctrl_c => return Ok(Stop::Done),
                _ = idle => return Ok(Stop::Done),
                f = self.next() => match f {
                    Some(f) => f?,
                    None => return Ok(Stop::Done),
                },
            };
            for r in &fetched.records {
                if limit.max.is_some_and(|m| printer.count >= m) {
                    break;
                }
                if !printer.print(fetched.partition, r) {
                    return Ok(Stop::Done);
                }
                self.positions.insert(fetched.partition, r.offset + 1);
            }
            if !printer.flush() || limit.max.is_some_and(|m| printer.count >= m) {
                return Ok(Stop::Done);
            }
        }
    }

    /// Stops every fetch task.
    pub async fn stop(&mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn fetch_partition(
    cluster: &Cluster,
    topic: &str,
    partition: i32,
    mut offset: i64,
    reset: Reset,
    tx: &mpsc::Sender<Result<Fetched>>,
) -> Result<()> {
    let name = TopicName(StrBytes::from_string(topic.to_string()));
    let mut failures = 0u32;
    loop {
        let conn = match leader_conn(cluster, topic, partition).await {
            Ok(c) => c,
            Err(e) if failures < 10 => {
                failures += 1;
                tracing::debug!("{topic}-{partition}: {e}");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(failures))).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut fp = FetchPartition::default();
        fp.partition = partition;
        fp.current_leader_epoch = -1;
        fp.fetch_offset = offset;
        fp.log_start_offset = -1;
        fp.partition_max_bytes = PARTITION_MAX_BYTES;
        let mut ft = FetchTopic::default();
        ft.topic = name.clone();
        ft.partitions = vec![fp];
        let mut req = FetchRequest::default();
        req.replica_id = BrokerId(-1);
        req.max_wait_ms = MAX_WAIT_MS;
        req.min_bytes = 1;
        req.max_bytes = 4 * PARTITION_MAX_BYTES;
        req.session_epoch = -1;
        req.topics = vec![ft];
        let resp = match conn.send(&req, FETCH_VERSION).await {
            Ok(r) => r,
            Err(e) if e.code.is_retriable() || e.code == ErrorCode::TRANSPORT => {
                failures += 1;
                if failures > 10 {
                    return Err(kerr(e));
                }
                cluster
                    .fetch_metadata(Some(&[topic.to_string()]), false)
                    .await
                    .ok();
                continue;
            }
            Err(e) => return Err(kerr(e)),
        };
        let Some(pd) = resp
            .responses
            .into_iter()
            .flat_map(|t| t.partitions)
            .find(|p| p.partition_index == partition)
        else {
            continue;
        };
        let code = ErrorCode::from_kafka(pd.error_code);
        if code == ErrorCode::OFFSET_OUT_OF_RANGE {
            let to = list_offset(cluster, topic, partition, reset.timestamp()).await?;
            eprintln!(
                "kafkars: {topic}-{partition}: offset {offset} out of range, resetting to {to}"
            );
            offset = to;
            continue;
        }
        if !code.is_ok() {
            failures += 1;
            if failures > 10 || !code.is_retriable() {
                return Err(kerr(kafkars::KafkaError::new(code))
                    .context(format!("fetching {topic}-{partition}")));
            }
            cluster
                .fetch_metadata(Some(&[topic.to_string()]), false)
                .await
                .ok();
            continue;
        }
        failures = 0;
        let mut records = Vec::new();
        if let Some(data) = pd.records {
            decode_batches(data, offset, &mut records).map_err(kerr)?;
        }
        if let Some(last) = records.last() {
            offset = last.offset + 1;
            if tx.send(Ok(Fetched { partition, records })).await.is_err() {
                return Ok(());
            }
        }
    }
}

/// Writes messages to stdout in the chosen format.
pub struct Printer {
    fields: Vec<Field>,
    json: bool,
    out: std::io::BufWriter<std::io::Stdout>,
    /// Messages printed so far.
    pub count: u64,
}

impl Printer {
    fn new(fields: Vec<Field>, json: bool) -> Printer {
        Printer {
            fields,
            json,
            out: std::io::BufWriter::new(std::io::stdout()),
            count: 0,
        }
    }

    /// Prints one record; `false` when stdout is closed.
    fn print(&mut self, partition: i32, r: &DecodedRecord) -> bool {
        self.count += 1;
        let line = if self.json {
            json_line(partition, r)
        } else {
            self.text_line(partition, r)
        };
        self.out.write_all(&line).is_ok()
    }

    fn flush(&mut self) -> bool {
        self.out.flush().is_ok()
    }

    fn text_line(&self, partition: i32, r: &DecodedRecord) -> Vec<u8> {
        let mut line = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                line.push(b'\t');
            }
            match f {
                Field::Key => line.extend_from_slice(r.key.as_deref().unwrap_or_default()),
                Field::Value => line.extend_from_slice(r.value.as_deref().unwrap_or_default()),
                Field::Partition => line.extend_from_slice(partition.to_string().as_bytes()),
                Field::Offset => line.extend_from_slice(r.offset.to_string().as_bytes()),
                Field::Timestamp => line.extend_from_slice(r.timestamp.to_string().as_bytes()),
                Field::Headers => {
                    let hs: Vec<String> = r
                        .headers
                        .iter()
                        .map(|(k, v)| {
                            format!(
                                "{k}={}",
                                v.as_deref()
                                    .map(String::from_utf8_lossy)
                                    .unwrap_or_default()
                            )
                        })
                        .collect();
                    line.extend_from_slice(hs.join(",").as_bytes());
                }
            }
        }
        line.push(b'\n');
        line
    }
}

fn json_line(partition: i32, r: &DecodedRecord) -> Vec<u8> {
    let text = |b: &Option<bytes::Bytes>| match b {
        Some(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
        None => serde_json::Value::Null,
    };
    let headers: serde_json::Map<String, serde_json::Value> = r
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    let v = serde_json::json!({
        "partition": partition,
        "offset": r.offset,
        "timestamp": r.timestamp,
        "key": text(&r.key),
        "value": text(&r.value),
        "headers": headers,
    });
    let mut line = v.to_string().into_bytes();
    line.push(b'\n');
    line
}
