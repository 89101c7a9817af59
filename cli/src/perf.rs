//! `kafkars perf produce|consume`: load generators in the spirit of Kafka's
//! `ProducerPerformance`/`ConsumerPerformance`. A progress bar on a terminal, then one table
//! (or one JSON object with `--json`): messages, seconds, msg/s, MB/s, latency percentiles.
//!
//! Produce latency is enqueue → delivery report (microsecond clock, one `u32` per message);
//! consume latency is the record's create timestamp → the moment `consume()` returned it
//! (millisecond clock; on a topic written earlier this is mostly the age of the data).

use std::cell::{Cell, RefCell};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kafkars::topic_partition::OFFSET_BEGINNING;
use kafkars::{Event, Message, Producer, TopicPartition};

use crate::connect::{self, kerr, ConnectArgs};
use crate::consume::{drain, open, Limit, Printer};

/// Upper bound on `--num-records` (latency samples are kept per message).
const MAX_RECORDS: u64 = 200_000_000;

#[derive(Args, Debug)]
pub struct PerfArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: PerfCommand,
}

#[derive(Subcommand, Debug)]
enum PerfCommand {
    /// Produce fixed-size messages as fast as allowed.
    Produce {
        /// Topic (must exist).
        topic: String,
        /// Messages to send.
        #[arg(long, short = 'n', default_value_t = 1_000_000)]
        num_records: u64,
        /// Payload size in bytes.
        #[arg(long, short = 's', default_value_t = 100)]
        record_size: usize,
        /// Messages per second cap (0 = unlimited).
        #[arg(long, default_value_t = 0)]
        throughput: u64,
        /// Acknowledgements: 0, 1, all.
        #[arg(long, default_value = "1", value_parser = ["0", "1", "all", "-1"])]
        acks: String,
        /// Compression: none, gzip, snappy, lz4, zstd.
        #[arg(long, default_value = "none", value_parser = ["none", "gzip", "snappy", "lz4", "zstd"])]
        compression: String,
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Consume messages from the beginning of a topic.
    Consume {
        /// Topic (must exist).
        topic: String,
        /// Messages to read.
        #[arg(long, short = 'n', default_value_t = 1_000_000)]
        num_records: u64,
        /// Stop when nothing arrived for this many milliseconds.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `perf` subcommand.
pub fn run(args: PerfArgs) -> ExitCode {
    connect::default_sigpipe();
    connect::exit(dispatch(args))
}

fn dispatch(args: PerfArgs) -> Result<()> {
    match args.command {
        PerfCommand::Produce {
            topic,
            num_records,
            record_size,
            throughput,
            acks,
            compression,
            json,
        } => {
            if num_records > MAX_RECORDS {
                bail!("--num-records is limited to {MAX_RECORDS}");
            }
            let report = produce(
                &args.connect,
                &topic,
                num_records,
                record_size,
                throughput,
                &acks,
                &compression,
            )?;
            report.print("produce", json);
            if report.errors > 0 {
                bail!("{} messages failed", report.errors);
            }
            Ok(())
        }
        PerfCommand::Consume {
            topic,
            num_records,
            timeout_ms,
            json,
        } => {
            if num_records > MAX_RECORDS {
                bail!("--num-records is limited to {MAX_RECORDS}");
            }
            let report = consume(
                &args.connect,
                &topic,
                num_records,
                Duration::from_millis(timeout_ms),
            )?;
            report.print("consume", json);
            Ok(())
        }
    }
}

fn progress(total: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr_with_hz(4)
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(Some(total), target);
    pb.set_style(
        ProgressStyle::with_template(
            "{bar:40} {human_pos}/{human_len} msgs, {elapsed_precise} elapsed, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

#[allow(clippy::too_many_arguments)]
fn produce(
    c: &ConnectArgs,
    topic: &str,
    n: u64,
    size: usize,
    throughput: u64,
    acks: &str,
    compression: &str,
) -> Result<Report> {
    let mut conf = c.config()?;
    connect::set(&mut conf, "acks", if acks == "all" { "-1" } else { acks })?;
    connect::set(&mut conf, "compression.codec", compression)?;
    let admin = kafkars::Admin::new(&conf).map_err(kerr)?;
    crate::topics::existing_topic(&admin, topic, c.timeout())?;
    let producer = Producer::new(conf).map_err(kerr)?;
    producer.enable_delivery_reports(false);
    let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let start = Instant::now();
    let mut sent_us: Vec<u32> = Vec::with_capacity(n as usize);
    let mut lat_us: Vec<u32> = Vec::with_capacity(n as usize);
    let mut errors = 0u64;
    let pb = progress(n);
    let micros = |t: Instant| {
        t.duration_since(start)
            .as_micros()
            .min(u128::from(u32::MAX)) as u32
    };
    for i in 0..n {
        if throughput > 0 {
            let due = start + Duration::from_secs_f64(i as f64 / throughput as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        sent_us.push(micros(Instant::now()));
        producer
            .produce(topic, -1, Some(&payload), None, &[], 0, i, true)
            .map_err(|e| kerr(e).context("cannot produce"))?;
        if i % 1024 == 0 {
            let evs = producer.poll_events(100_000, Duration::ZERO);
            take(
                evs,
                &sent_us,
                &mut lat_us,
                &mut errors,
                micros(Instant::now()),
            );
            pb.set_position(i);
        }
    }
    let deadline = Instant::now() + c.timeout() + Duration::from_secs(300);
    while producer.out_queue_len() > 0 && Instant::now() < deadline {
        let evs = producer.poll_events(100_000, Duration::from_millis(100));
        take(
            evs,
            &sent_us,
            &mut lat_us,
            &mut errors,
            micros(Instant::now()),
        );
        pb.set_position(lat_us.len() as u64 + errors);
    }
    let elapsed = start.elapsed();
    pb.finish_and_clear();
    if producer.out_queue_len() > 0 {
        bail!(
            "{} messages still undelivered after the deadline",
            producer.out_queue_len()
        );
    }
    let mut lat: Vec<f64> = lat_us.iter().map(|u| f64::from(*u) / 1000.0).collect();
    Ok(Report::new(
        lat_us.len() as u64,
        (lat_us.len() * size) as u64,
        elapsed,
        &mut lat,
        errors,
    ))
}

/// Records the latency of each delivered message and counts failures.
fn take(evs: Vec<Event>, sent: &[u32], lat: &mut Vec<u32>, errors: &mut u64, now: u32) {
    for ev in evs {
        if let Event::Delivery(d) = ev {
            if d.err.is_ok() {
                let s = sent.get(d.opaque as usize).copied().unwrap_or(now);
                lat.push(now.saturating_sub(s));
            } else {
                if *errors == 0 {
                    eprintln!("kafkars: delivery failed: {}", d.err.description());
                }
                *errors += 1;
            }
        }
    }
}

fn consume(c: &ConnectArgs, topic: &str, n: u64, idle: Duration) -> Result<Report> {
    let admin = kafkars::Admin::new(&c.config()?).map_err(kerr)?;
    let tm = crate::topics::existing_topic(&admin, topic, c.timeout())?;
    let consumer = open(c, None, true)?;
    let tps: Vec<TopicPartition> = tm
        .partitions
        .iter()
        .map(|p| TopicPartition::new(topic, p.id, OFFSET_BEGINNING))
        .collect();
    consumer.assign(Some(&tps)).map_err(kerr)?;
    let pb = progress(n);
    let mut printer = Printer::counting();
    let start = Instant::now();
    let last = Cell::new(start);
    let lat: RefCell<Vec<f64>> = RefCell::new(Vec::new());
    let seen = |m: &Message| {
        let now = now_ms();
        lat.borrow_mut().push((now - m.timestamp).max(0) as f64);
        last.set(Instant::now());
        let count = lat.borrow().len() as u64;
        if count.is_multiple_of(1024) {
            pb.set_position(count);
        }
    };
    let r = drain(
        &consumer,
        &mut printer,
        Limit {
            max: Some(n),
            idle: Some(idle),
        },
        &seen,
    );
    consumer.close();
    pb.finish_and_clear();
    r?;
    // The idle wait after the last message is not part of the measurement.
    let elapsed = last
        .get()
        .duration_since(start)
        .max(Duration::from_micros(1));
    let mut lat = lat.into_inner();
    Ok(Report::new(
        printer.count,
        printer.bytes,
        elapsed,
        &mut lat,
        0,
    ))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The result of one run.
struct Report {
    messages: u64,
    bytes: u64,
    seconds: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    errors: u64,
}

impl Report {
    fn new(messages: u64, bytes: u64, elapsed: Duration, lat: &mut [f64], errors: u64) -> Report {
        lat.sort_unstable_by(f64::total_cmp);
        Report {
            messages,
            bytes,
            seconds: elapsed.as_secs_f64(),
            p50: percentile(lat, 50.0),
            p99: percentile(lat, 99.0),
            p999: percentile(lat, 99.9),
            errors,
        }
    }

    fn print(&self, kind: &str, json: bool) {
        let secs = self.seconds.max(1e-9);
        let msgs = self.messages as f64 / secs;
        let mbs = self.bytes as f64 / secs / (1024.0 * 1024.0);
        if json {
            let v = serde_json::json!({
                "mode": kind,
                "messages": self.messages,
                "bytes": self.bytes,
                "seconds": self.seconds,
                "msgs_per_sec": msgs,
                "mb_per_sec": mbs,
                "latency_ms": { "p50": self.p50, "p99": self.p99, "p99_9": self.p999 },
                "errors": self.errors,
            });
            println!("{v}");
        } else {
            println!(
                "{:<8} {:>12} {:>9} {:>12} {:>9} {:>9} {:>9} {:>9} {:>7}",
                "MODE",
                "MESSAGES",
                "SECONDS",
                "MSG/S",
                "MB/S",
                "P50(ms)",
                "P99(ms)",
                "P99.9(ms)",
                "ERRORS"
            );
            println!(
                "{:<8} {:>12} {:>9.2} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7}",
                kind,
                self.messages,
                self.seconds,
                msgs,
                mbs,
                self.p50,
                self.p99,
                self.p999,
                self.errors
            );
        }
    }
}

/// Nearest-rank percentile of sorted samples (0 when empty).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Integer per-mille arithmetic: 99.9% of 1000 is exactly rank 999, not 1000 after
    // floating-point rounding.
    let per_mille = (p * 10.0).round().clamp(0.0, 1000.0) as usize;
    let rank = (per_mille * sorted.len()).div_ceil(1000);
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 500.0);
        assert_eq!(percentile(&v, 99.0), 990.0);
        assert_eq!(percentile(&v, 99.9), 999.0);
        assert_eq!(percentile(&[], 99.0), 0.0);
        assert_eq!(percentile(&[7.0], 50.0), 7.0);
    }
}
