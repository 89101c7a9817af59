//! `kafkars produce TOPIC`: the console producer. One message per stdin line, optionally
//! `KEY<sep>VALUE`; delivery errors are counted and make the exit code non-zero.

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use kafkars::{Event, Producer};

use crate::connect::{self, kerr, ConnectArgs};
use crate::topics::existing_topic;

/// Longest line accepted (a line is one message).
const MAX_LINE: usize = 64 * 1024 * 1024;

#[derive(Args, Debug)]
pub struct ProduceArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Topic to write to.
    topic: String,
    /// Split each line at the first SEP into key and value (lines without it have no key).
    #[arg(long, short = 'K', value_name = "SEP")]
    key_separator: Option<String>,
    /// Partition to write to [default: the partitioner's choice].
    #[arg(long, short = 'p')]
    partition: Option<i32>,
    /// A header on every message, repeatable: `--header source=cli`.
    #[arg(long = "header", short = 'H', value_name = "KEY=VALUE")]
    headers: Vec<String>,
    /// Acknowledgements: 0, 1, or all (-1).
    #[arg(long, default_value = "all", value_parser = ["0", "1", "all", "-1"])]
    acks: String,
    /// Compression: none, gzip, snappy, lz4, zstd.
    #[arg(long, default_value = "none", value_parser = ["none", "gzip", "snappy", "lz4", "zstd"])]
    compression: String,
    /// Give up on a message after this many milliseconds.
    #[arg(long, default_value_t = 30_000)]
    message_timeout_ms: u64,
}

/// Runs the console producer.
pub fn run(args: ProduceArgs) -> ExitCode {
    connect::default_sigpipe();
    connect::exit(produce(args))
}

fn produce(args: ProduceArgs) -> Result<()> {
    let mut conf = args.connect.config()?;
    let acks = match args.acks.as_str() {
        "all" => "-1",
        a => a,
    };
    connect::set(&mut conf, "acks", acks)?;
    connect::set(&mut conf, "compression.codec", &args.compression)?;
    connect::set(
        &mut conf,
        "message.timeout.ms",
        &args.message_timeout_ms.to_string(),
    )?;
    connect::set(&mut conf, "linger.ms", "5")?;
    let headers: Vec<(String, Vec<u8>)> = args
        .headers
        .iter()
        .map(|h| connect::split_kv(h).map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())))
        .collect::<Result<_>>()?;
    let hrefs: Vec<(&str, Option<&[u8]>)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_slice())))
        .collect();

    let producer = Producer::new(conf).map_err(kerr)?;
    producer.enable_delivery_reports(false);
    // Fail fast on a topic that does not exist instead of waiting for message timeouts.
    let tm = partition_count(&args.connect, &args.topic)?;
    if let Some(p) = args.partition {
        if p < 0 || p as usize >= tm {
            bail!(
                "partition {p} does not exist in topic {:?} ({tm} partitions)",
                args.topic
            );
        }
    }
    let partition = args.partition.unwrap_or(-1);

    let mut failures = Failures::default();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = input.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        if line.len() > MAX_LINE {
            bail!("input line longer than {MAX_LINE} bytes");
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        let (key, value) = split_key(&line, args.key_separator.as_deref());
        producer
            .produce(&args.topic, partition, Some(value), key, &hrefs, 0, 0, true)
            .map_err(|e| kerr(e).context("cannot produce"))?;
        failures.take(producer.poll_events(1000, Duration::ZERO));
    }
    let timeout = Duration::from_millis(args.message_timeout_ms) + args.connect.timeout();
    let r = producer
        .flush_with(timeout, |ev| {
            failures.take(vec![ev]);
            Ok::<(), ()>(())
        })
        .unwrap_or(Ok(()));
    if let Err(e) = r {
        return Err(kerr(e).context(format!(
            "{} messages not delivered",
            producer.out_queue_len()
        )));
    }
    match failures.first {
        Some(first) => Err(anyhow!("{} messages failed: {first}", failures.count)),
        None => Ok(()),
    }
}

/// Number of partitions of `topic`, which must exist.
fn partition_count(c: &ConnectArgs, topic: &str) -> Result<usize> {
    let admin = kafkars::Admin::new(&c.config()?).map_err(kerr)?;
    Ok(existing_topic(&admin, topic, c.timeout())?.partitions.len())
}

fn split_key<'a>(line: &'a [u8], sep: Option<&str>) -> (Option<&'a [u8]>, &'a [u8]) {
    let Some(sep) = sep.map(str::as_bytes).filter(|s| !s.is_empty()) else {
        return (None, line);
    };
    match line.windows(sep.len()).position(|w| w == sep) {
        Some(i) => (Some(&line[..i]), &line[i + sep.len()..]),
        None => (None, line),
    }
}

/// Delivery failures seen so far.
#[derive(Default)]
struct Failures {
    count: usize,
    first: Option<String>,
}

impl Failures {
    fn take(&mut self, evs: Vec<Event>) {
        for ev in evs {
            let why = match ev {
                Event::Delivery(d) if !d.err.is_ok() => {
                    format!("{} ({})", d.err.description(), d.err.name())
                }
                Event::Error {
                    fatal: true,
                    reason,
                    ..
                } => reason,
                _ => continue,
            };
            self.count += 1;
            if self.first.is_none() {
                self.first = Some(why);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_key;

    #[test]
    fn key_separator_splits_at_first() {
        assert_eq!(
            split_key(b"k:v:w", Some(":")),
            (Some(&b"k"[..]), &b"v:w"[..])
        );
        assert_eq!(split_key(b"plain", Some(":")), (None, &b"plain"[..]));
        assert_eq!(split_key(b"a::b", Some("::")), (Some(&b"a"[..]), &b"b"[..]));
        assert_eq!(split_key(b"x", None), (None, &b"x"[..]));
    }
}
