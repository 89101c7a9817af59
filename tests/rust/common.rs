//! Test harness: runs a real `kafkars broker` (built by `cargo build -p kafkars-cli`) on a
//! free local port with a temporary data directory. Set `KAFKARS_TEST_BOOTSTRAP` to test
//! against an already running broker (e.g. Apache Kafka) instead.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Broker {
    pub addr: String,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Broker {
    /// Kills the broker with SIGKILL and starts it again on the same address and data.
    /// Returns false for an external broker (`KAFKARS_TEST_BOOTSTRAP`).
    pub fn kill9_and_restart(&mut self) -> bool {
        let (Some(c), Some(dir)) = (&mut self.child, &self._dir) else {
            return false;
        };
        let _ = c.kill();
        let _ = c.wait();
        let bin = broker_bin().expect("broker binary");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut child = Command::new(&bin)
                .args([
                    "broker",
                    "--listen",
                    &self.addr,
                    "--advertise",
                    &self.addr,
                    "--data-dir",
                ])
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("restart broker");
            while TcpStream::connect(&self.addr).is_err() && child.try_wait().unwrap().is_none() {
                assert!(
                    Instant::now() < deadline,
                    "broker did not restart on {}",
                    self.addr
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            if child.try_wait().unwrap().is_none() {
                self.child = Some(child);
                return true;
            }
            // The port may linger for a moment after the kill.
            assert!(
                Instant::now() < deadline,
                "broker did not restart on {}",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn broker_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("KAFKARS_BIN") {
        return Some(PathBuf::from(p));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    ["target/debug/kafkars", "target/release/kafkars"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.exists())
}

/// A broker to test against, or `None` (test skipped) when no broker binary is built.
pub fn broker() -> Option<Broker> {
    if let Ok(addr) = std::env::var("KAFKARS_TEST_BOOTSTRAP") {
        return Some(Broker {
            addr,
            child: None,
            _dir: None,
        });
    }
    let Some(bin) = broker_bin() else {
        eprintln!("skipped: no kafkars binary (cargo build -p kafkars-cli)");
        return None;
    };
    // Held from choosing the port until the broker listens on it, so two tests of this
    // process never pick the same port.
    static START: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = START.lock().unwrap_or_else(|e| e.into_inner());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin)
        .args([
            "broker",
            "--listen",
            &addr,
            "--advertise",
            &addr,
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start broker");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "broker did not start listening on {addr}"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "broker exited (port {port} taken?)"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "broker exited (port {port} taken?)"
    );
    Some(Broker {
        addr,
        child: Some(child),
        _dir: Some(dir),
    })
}

/// An address where nothing listens.
pub fn dead_addr() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap().to_string();
    drop(l);
    a
}

/// A unique topic name.
pub fn topic(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Client properties: `bootstrap.servers` = `addr`, then `extra`.
pub fn conf(addr: &str, extra: &[(&str, &str)]) -> kafkars::Config {
    let mut c = kafkars::Config::new();
    c.set("bootstrap.servers", addr).unwrap();
    for (k, v) in extra {
        c.set(k, v).unwrap();
    }
    c
}

/// Creates `topic` with `parts` partitions (replication factor 1).
pub fn create(addr: &str, topic: &str, parts: i32) {
    kafkars::Admin::new(&conf(addr, &[]))
        .unwrap()
        .create_topic(topic, parts, 1, &[], Duration::from_secs(10))
        .unwrap();
}

/// Up to `n` messages without error from `c`, consuming until `timeout`.
pub fn consume_ok(
    c: &kafkars::KafkaConsumer,
    n: usize,
    timeout: Duration,
) -> Vec<kafkars::Message> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        if let Some(m) = c.consume(Duration::from_millis(100)) {
            if m.err.is_ok() {
                out.push(m);
            }
        }
    }
    out
}
