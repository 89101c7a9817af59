//! The background runtime: one tokio runtime per process id, created on first use.
//!
//! Never started at load time (PHP's MINIT) and never shared across `fork()`: a child that
//! touches the client gets a fresh runtime, and clients created before the fork refuse work
//! (see [`ProcessGuard`]). The runtime of the parent is leaked in the child on purpose: its
//! worker threads do not exist there, so dropping it would wait for them forever.

use crate::error::{ErrorCode, KafkaError, Result};
use std::sync::Mutex;
use tokio::runtime::{Handle, Runtime};

static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The runtime handle of this process, creating the runtime if needed.
///
/// # Errors
/// `_CRIT_SYS_RESOURCE`-class failure (`_FAIL`) when the runtime's threads cannot start.
pub fn handle() -> Result<Handle> {
    let pid = std::process::id();
    let mut g = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((p, rt)) = *g {
        if p == pid {
            return Ok(rt.handle().clone());
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kafkars")
        .enable_all()
        .build()
        .map_err(|e| {
            KafkaError::with_message(ErrorCode::FAIL, format!("cannot start runtime: {e}"))
        })?;
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    *g = Some((pid, rt));
    Ok(rt.handle().clone())
}

/// Records the process a client was created in; refuses work in a forked child.
#[derive(Debug, Clone, Copy)]
pub struct ProcessGuard {
    pid: u32,
}

impl ProcessGuard {
    /// A guard for the current process.
    pub fn new() -> Self {
        ProcessGuard {
            pid: std::process::id(),
        }
    }

    /// Ok in the creating process.
    ///
    /// # Errors
    /// `_STATE` with an explanation when called in a forked child.
    pub fn check(&self) -> Result<()> {
        let now = std::process::id();
        if now == self.pid {
            Ok(())
        } else {
            Err(KafkaError::with_message(
                ErrorCode::STATE,
                format!(
                    "kafkars client was created in process {} and cannot be used after fork() in process {}: create a new client in the child",
                    self.pid, now
                ),
            ))
        }
    }

    /// Whether we are still in the creating process.
    pub fn is_owner(&self) -> bool {
        std::process::id() == self.pid
    }
}

impl Default for ProcessGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// `now + timeout` for caller-supplied timeouts, capped so that absurd values (e.g. a negative
/// PHP timeout cast to unsigned) wait "forever" instead of overflowing.
pub(crate) fn deadline_after(timeout: std::time::Duration) -> std::time::Instant {
    let cap = std::time::Duration::from_secs(10 * 365 * 24 * 3600);
    let now = std::time::Instant::now();
    now.checked_add(timeout.min(cap)).unwrap_or(now)
}
