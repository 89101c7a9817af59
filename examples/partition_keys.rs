//! Prints the partition kafkars' partitioner picks for each key on stdin (one hex-encoded key
//! per line), for every partition count given on the command line:
//! `partition_keys PARTITIONER COUNT...` → one line per key, partitions separated by spaces.
//! Used by `tests/test_client_partitioner.py` to compare with librdkafka.

use std::io::{BufRead, Write};

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "consistent_random".into());
    let Some(p) = kafkars::Partitioner::from_name(&name) else {
        eprintln!("unknown partitioner {name}");
        std::process::exit(2);
    };
    let counts: Vec<i32> = args.filter_map(|a| a.parse().ok()).collect();
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Some(key) = unhex(line.trim()) else {
            eprintln!("bad hex key: {line}");
            std::process::exit(2);
        };
        let parts: Vec<String> = counts
            .iter()
            .map(|&n| p.partition(Some(&key), n).to_string())
            .collect();
        let _ = writeln!(out, "{}", parts.join(" "));
    }
}
