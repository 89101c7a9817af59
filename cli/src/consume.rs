//! `kafkars consume TOPIC`: the console consumer, over the core's [`KafkaConsumer`].
//!
//! Without `--group` the partitions are assigned directly (a private group id, nothing is
//! committed); with `--group G` the consumer subscribes and commits what it printed. Ctrl-C
//! is caught on the core's runtime and only sets a flag, so the loop stops between two
//! messages and closes the consumer (final commit, leave the group) like any other exit.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use kafkars::topic_partition::{OFFSET_BEGINNING, OFFSET_END};
use kafkars::{ErrorCode, KafkaConsumer, Message, TopicPartition};

use crate::connect::{self, kerr, ConnectArgs};

/// How long one `consume()` call waits before the loop checks Ctrl-C and the limits.
const POLL: Duration = Duration::from_millis(100);

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

/// Runs the console consumer.
pub fn run(args: ConsumeArgs) -> ExitCode {
    connect::default_sigpipe();
    connect::exit(consume(args))
}

fn consume(args: ConsumeArgs) -> Result<()> {
    let c = &args.connect;
    let admin = kafkars::Admin::new(&c.config()?).map_err(kerr)?;
    let tm = crate::topics::existing_topic(&admin, &args.topic, c.timeout())?;
    let start = match args.offset.as_deref() {
        None if args.from_beginning => OFFSET_BEGINNING,
        None => OFFSET_END,
        Some("earliest" | "beginning") => OFFSET_BEGINNING,
        Some("latest" | "end") => OFFSET_END,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                bail!("invalid --offset {n:?}: expected earliest, latest or a non-negative number")
            }
        },
    };
    let partitions: Vec<i32> = match args.partition {
        Some(p) if !tm.partitions.iter().any(|x| x.id == p) => bail!(
            "partition {p} does not exist in topic {:?} ({} partitions)",
            args.topic,
            tm.partitions.len()
        ),
        Some(p) => vec![p],
        None => tm.partitions.iter().map(|p| p.id).collect(),
    };
    let consumer = open(c, args.group.as_deref(), args.from_beginning)?;
    match &args.group {
        Some(_) => consumer
            .subscribe(std::slice::from_ref(&args.topic))
            .map_err(kerr)?,
        None => {
            let tps: Vec<TopicPartition> = partitions
                .iter()
                .map(|p| TopicPartition::new(args.topic.clone(), *p, start))
                .collect();
            consumer.assign(Some(&tps)).map_err(kerr)?;
        }
    }
    let mut printer = Printer::new(args.format.clone(), args.json);
    let limit = Limit {
        max: args.max_messages,
        idle: args.timeout_ms.map(Duration::from_millis),
    };
    let r = drain(&consumer, &mut printer, limit, &|_| {});
    if args.group.is_some() {
        match consumer.commit(None, false) {
            Err(e) if e.code != ErrorCode::NO_OFFSET && r.is_ok() => {
                consumer.close();
                return Err(kerr(e).context("committing offsets"));
            }
            _ => {}
        }
    }
    consumer.close();
    r
}

/// A consumer for the CLI: `group` (or a private one that never commits), start at
/// the beginning or the end when there is no committed offset.
///
/// # Errors
/// Configuration errors, runtime start failure.
pub fn open(c: &ConnectArgs, group: Option<&str>, from_beginning: bool) -> Result<KafkaConsumer> {
    let mut conf = c.config()?;
    let private = format!("kafkars-console-{}", std::process::id());
    connect::set(&mut conf, "group.id", group.unwrap_or(&private))?;
    connect::set(
        &mut conf,
        "enable.auto.commit",
        if group.is_some() { "true" } else { "false" },
    )?;
    connect::set(
        &mut conf,
        "auto.offset.reset",
        if from_beginning { "earliest" } else { "latest" },
    )?;
    connect::set(&mut conf, "fetch.wait.max.ms", "100")?;
    KafkaConsumer::new(conf).map_err(kerr)
}

/// When the consumer stops on its own.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Stop after this many messages.
    pub max: Option<u64>,
    /// Stop when nothing arrived for this long.
    pub idle: Option<Duration>,
}

/// A flag set by Ctrl-C (SIGINT) from a task on the core's runtime.
fn interrupted() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    if let Ok(h) = kafkars::runtime::handle() {
        let f = flag.clone();
        h.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                f.store(true, Ordering::SeqCst);
            }
        });
    }
    flag
}

/// Consumes until Ctrl-C, the limits, or a closed stdout; `seen` observes every message
/// after it was printed.
///
/// # Errors
/// A non-retriable consumer error (unknown topic, authorization …).
pub fn drain(
    consumer: &KafkaConsumer,
    printer: &mut Printer,
    limit: Limit,
    seen: &dyn Fn(&Message),
) -> Result<()> {
    let stop = interrupted();
    let mut last = Instant::now();
    while !stop.load(Ordering::SeqCst) && limit.max.is_none_or(|m| printer.count < m) {
        if limit.idle.is_some_and(|d| last.elapsed() >= d) {
            break;
        }
        let Some(m) = consumer.consume(POLL) else {
            continue;
        };
        if m.err == ErrorCode::PARTITION_EOF {
            continue;
        }
        if !m.err.is_ok() {
            if m.err.is_retriable()
                || m.err == ErrorCode::TRANSPORT
                || m.err == ErrorCode::ALL_BROKERS_DOWN
            {
                eprintln!("kafkars: warning: {}", text(&m));
                continue;
            }
            bail!("{}", text(&m));
        }
        last = Instant::now();
        if !printer.print(&m) {
            break;
        }
        seen(&m);
    }
    printer.flush();
    Ok(())
}

fn text(m: &Message) -> String {
    let detail = m
        .payload
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    format!("{}-{}: {} ({})", m.topic, m.partition, detail, m.err.name())
}

/// Writes messages to stdout in the chosen format.
pub struct Printer {
    fields: Vec<Field>,
    json: bool,
    quiet: bool,
    out: std::io::BufWriter<std::io::Stdout>,
    /// Messages printed so far.
    pub count: u64,
    /// Payload bytes printed so far.
    pub bytes: u64,
}

impl Printer {
    fn new(fields: Vec<Field>, json: bool) -> Printer {
        Printer {
            fields,
            json,
            quiet: false,
            out: std::io::BufWriter::new(std::io::stdout()),
            count: 0,
            bytes: 0,
        }
    }

    /// A printer that only counts (for `perf consume`).
    pub fn counting() -> Printer {
        Printer {
            quiet: true,
            ..Printer::new(Vec::new(), false)
        }
    }

    /// Prints one message and flushes (a console consumer shows messages as they come);
    /// `false` when stdout is closed.
    fn print(&mut self, m: &Message) -> bool {
        self.count += 1;
        self.bytes += m.payload.as_ref().map_or(0, |p| p.len()) as u64;
        if self.quiet {
            return true;
        }
        let line = if self.json {
            json_line(m)
        } else {
            self.text_line(m)
        };
        self.out.write_all(&line).is_ok() && self.out.flush().is_ok()
    }

    fn flush(&mut self) -> bool {
        self.out.flush().is_ok()
    }

    fn text_line(&self, m: &Message) -> Vec<u8> {
        let mut line = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                line.push(b'\t');
            }
            match f {
                Field::Key => line.extend_from_slice(m.key.as_deref().unwrap_or_default()),
                Field::Value => line.extend_from_slice(m.payload.as_deref().unwrap_or_default()),
                Field::Partition => line.extend_from_slice(m.partition.to_string().as_bytes()),
                Field::Offset => line.extend_from_slice(m.offset.to_string().as_bytes()),
                Field::Timestamp => line.extend_from_slice(m.timestamp.to_string().as_bytes()),
                Field::Headers => {
                    let hs: Vec<String> = m
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

fn json_line(m: &Message) -> Vec<u8> {
    let text = |b: &Option<bytes::Bytes>| match b {
        Some(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
        None => serde_json::Value::Null,
    };
    let headers: serde_json::Map<String, serde_json::Value> = m
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    let v = serde_json::json!({
        "partition": m.partition,
        "offset": m.offset,
        "timestamp": m.timestamp,
        "key": text(&m.key),
        "value": text(&m.payload),
        "headers": headers,
    });
    let mut line = v.to_string().into_bytes();
    line.push(b'\n');
    line
}
