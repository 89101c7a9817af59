//! `kafkars broker` as a user runs it: settings errors, flags over the file, the ready line,
//! and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kafkars");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kafkars-cli-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn an_invalid_setting_is_named_and_exits_2() {
    let dir = scratch("invalid");
    for (text, name) in [
        ("num.partitions=many\n", "num.partitions"),
        ("log.retention.hourz=1\n", "log.retention.hourz"),
    ] {
        let file = dir.join("server.properties");
        std::fs::write(&file, text).unwrap();
        let out = Command::new(BIN)
            .args(["broker", "--config"])
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name), "{err}");
    }
    let out = Command::new(BIN)
        .args(["broker", "--listen", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flags_win_over_the_file_and_sigterm_exits_cleanly() {
    let dir = scratch("run");
    let file = dir.join("server.properties");
    // The file's listener would fail to bind (port 1 needs root or is taken); the flag wins.
    std::fs::write(
        &file,
        "listeners=PLAINTEXT://127.0.0.1:1\nnum.partitions=3\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["broker", "--listen", "127.0.0.1:0", "--config"])
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("kafkars broker listening on 127.0.0.1:"),
        "{line:?}"
    );
    assert!(!line.trim_end().ends_with(":1"), "{line:?}");
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "broker did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert!(dir.join("data").join("meta.properties").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
