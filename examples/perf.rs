//! Produce/consume throughput of the client core, for comparison with librdkafka:
//! `perf BOOTSTRAP TOPIC COUNT [SIZE]` produces COUNT messages of SIZE bytes (default 100)
//! to partition 0 of TOPIC, then reads them back with the per-partition consumer, and prints
//! one JSON line per phase with msg/s and MB/s.

use kafkars::topic_partition::OFFSET_BEGINNING;
use kafkars::{Config, Consumer, Producer};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: perf BOOTSTRAP TOPIC COUNT [SIZE]");
        std::process::exit(2);
    }
    let (bootstrap, topic) = (&args[1], &args[2]);
    let count: usize = args[3].parse().unwrap_or(1_000_000);
    let size: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(100);
    let mut conf = Config::new();
    conf.set("bootstrap.servers", bootstrap)
        .expect("bootstrap.servers");
    conf.set("linger.ms", "5").expect("linger.ms");
    for kv in std::env::var("PERF_CONF")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
    {
        let (k, v) = kv.split_once('=').expect("PERF_CONF is k=v,k=v");
        conf.set(k, v).expect("PERF_CONF property");
    }
    let payload = vec![b'x'; size];
    let p = Producer::new(conf.clone()).expect("producer");
    let t0 = Instant::now();
    for _ in 0..count {
        while p
            .produce(topic, 0, Some(&payload), None, &[], 0, 0, false)
            .is_err()
        {
            p.poll_events(10_000, Duration::from_millis(1));
        }
    }
    p.flush(Duration::from_secs(120)).expect("flush");
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{{\"phase\":\"produce\",\"msgs\":{count},\"size\":{size},\"secs\":{secs:.3},\"msg_per_s\":{:.0},\"mb_per_s\":{:.1}}}",
        count as f64 / secs,
        (count * size) as f64 / secs / 1e6
    );
    drop(p);
    let c = Consumer::new(conf).expect("consumer");
    c.consume_start(topic, 0, OFFSET_BEGINNING).expect("start");
    let t0 = Instant::now();
    let mut n = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    while n < count && Instant::now() < deadline {
        n += c
            .consume_batch(topic, 0, Duration::from_millis(100), 10_000)
            .iter()
            .filter(|m| m.err.is_ok())
            .count();
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{{\"phase\":\"consume\",\"msgs\":{n},\"size\":{size},\"secs\":{secs:.3},\"msg_per_s\":{:.0},\"mb_per_s\":{:.1}}}",
        n as f64 / secs,
        (n * size) as f64 / secs / 1e6
    );
}
