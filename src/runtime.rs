//! The background runtime: one tokio runtime per process id, created on first use.
//!
//! Never started at load time (PHP's MINIT) and never shared across `fork()`: a child that
//! touches the client gets a fresh runtime, and clients created before the fork refuse work
//! (see [`ProcessGuard`]). The runtime of the parent is leaked in the child on purpose: its
//! worker threads do not exist there, so dropping it would wait for them forever.

use crate::error::{ErrorCode, KafkaError, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
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

/// Bumped in the child right after every `fork()` (a `pthread_atfork` handler), so the
/// per-call fork check is one atomic load: `getpid()` is a real system call (glibc stopped
/// caching it), and at a million `produce()` calls a second it cost about 12%.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The current fork generation, registering the fork handler on first use.
fn fork_generation() -> u64 {
    ATFORK.call_once(|| {
        // SAFETY: registers a handler that only increments an atomic, which is
        // async-signal-safe in the child after fork(). glibc's pthread_atfork ties the
        // handler to this object's `__dso_handle`, so unloading a shared object that
        // contains this code unregisters it.
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
    FORK_GENERATION.load(Ordering::SeqCst)
}

/// Records the process a client was created in; refuses work in a forked child.
#[derive(Debug, Clone, Copy)]
pub struct ProcessGuard {
    pid: u32,
    generation: u64,
}

impl ProcessGuard {
    /// A guard for the current process.
    pub fn new() -> Self {
        let generation = fork_generation();
        ProcessGuard {
            pid: std::process::id(),
            generation,
        }
    }

    /// Ok in the creating process.
    ///
    /// # Errors
    /// `_STATE` with an explanation when called in a forked child.
    #[inline]
    pub fn check(&self) -> Result<()> {
        if self.is_owner() {
            Ok(())
        } else {
            Err(self.forked_error())
        }
    }

    #[cold]
    fn forked_error(&self) -> KafkaError {
        KafkaError::with_message(
            ErrorCode::STATE,
            format!(
                "kafkars client was created in process {} and cannot be used after fork() in process {}: create a new client in the child",
                self.pid,
                std::process::id()
            ),
        )
    }

    /// Whether we are still in the creating process: one atomic load while no fork happened
    /// in this process's line since the guard was made; otherwise the process id decides.
    #[inline]
    pub fn is_owner(&self) -> bool {
        FORK_GENERATION.load(Ordering::Relaxed) == self.generation || std::process::id() == self.pid
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
