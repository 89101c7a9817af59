//! The listener: accepts connections (bounded by a semaphore), runs log maintenance, and
//! shuts down gracefully — stop accepting, let connections finish the request in hand,
//! flush every log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::BrokerConfig;
use crate::connection;
use crate::state::{now_ms, BrokerState, SharedState};
use crate::topics::TopicError;

/// How long shutdown waits for connections to finish their request in hand.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the broker could not start or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("invalid advertised address {0:?}: expected HOST:PORT")]
    BadAdvertise(String),
    #[error("cannot open the data directory: {0}")]
    Storage(#[from] TopicError),
    #[error("start-up task failed: {0}")]
    Startup(String),
}

/// A bound, ready broker.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: SharedState,
}

impl Server {
    /// Binds the listener and opens the data directory (recovering every partition log).
    ///
    /// # Errors
    /// Bind failure, bad advertised address, storage errors.
    pub async fn bind(config: BrokerConfig) -> Result<Server, ServerError> {
        let listener =
            TcpListener::bind(&config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen.clone(),
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
        let (host, port) = advertised(&config, local_addr)?;
        // Opening recovers every partition log: blocking file I/O, off the async workers.
        let state = tokio::task::spawn_blocking(move || {
            BrokerState::open(config, host, port, CancellationToken::new())
        })
        .await
        .map_err(|e| ServerError::Startup(e.to_string()))??;
        Ok(Server {
            listener,
            local_addr,
            state: Arc::new(state),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The shared state (for the group coordinator and tests).
    pub fn state(&self) -> SharedState {
        self.state.clone()
    }

    /// Cancel this token to shut the broker down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled, then drains and flushes.
    pub async fn run(self) {
        let Server {
            listener, state, ..
        } = self;
        let shutdown = state.shutdown.clone();
        let tracker = TaskTracker::new();
        let limit = Arc::new(Semaphore::new(state.config.max_connections));
        tracker.spawn(maintenance(state.clone()));
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                p = limit.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                a = listener.accept() => a,
            };
            match accepted {
                Ok((stream, peer)) => {
                    let (state, shutdown) = (state.clone(), shutdown.clone());
                    tracker.spawn(async move {
                        connection::serve(stream, peer, state, shutdown).await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        drop(listener);
        tracing::info!("shutting down: draining connections");
        tracker.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not finish in time");
        }
        let st = state.clone();
        let _ =
            tokio::task::spawn_blocking(move || st.topics.for_each_log(|_, log| log.flush())).await;
        tracing::info!("shut down");
    }
}

fn advertised(config: &BrokerConfig, local: SocketAddr) -> Result<(String, i32), ServerError> {
    match &config.advertise {
        Some(a) => {
            let (host, port) = a
                .rsplit_once(':')
                .ok_or_else(|| ServerError::BadAdvertise(a.clone()))?;
            let port: u16 = port
                .parse()
                .map_err(|_| ServerError::BadAdvertise(a.clone()))?;
            let port = if port == 0 { local.port() } else { port };
            let host = if host.is_empty() {
                "127.0.0.1"
            } else {
                host.trim_matches(['[', ']'])
            };
            Ok((host.to_string(), port as i32))
        }
        None => {
            let ip = local.ip();
            let host = if ip.is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                ip.to_string()
            };
            Ok((host, local.port() as i32))
        }
    }
}

/// How often open transactions are checked against their timeout (Kafka's
/// `transaction.abort.timed.out.transaction.cleanup.interval.ms` is 10 s; ours is finer so a
/// timed-out transaction stops holding back read_committed consumers sooner).
const TXN_TICK_MS: u64 = 1000;

/// Retention every `log.retention.check.interval.ms`; time-based flush (`log.flush.interval.ms`
/// or a topic's `flush.ms`) checked at least every second. The passes run on the blocking pool (they delete and fsync).
async fn maintenance(state: SharedState) {
    let shutdown = state.shutdown.clone();
    let mut retention = tokio::time::interval(Duration::from_millis(
        state.config.retention_check_interval_ms,
    ));
    retention.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    retention.tick().await;
    // Each log knows its own `flush.ms` (topic or broker); ask them all often enough.
    let flush_ms = state
        .config
        .log
        .flush_interval_ms
        .unwrap_or(1000)
        .clamp(10, 1000);
    let mut flush = tokio::time::interval(Duration::from_millis(flush_ms));
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    flush.tick().await;
    // Transaction timeouts, and finishing what a restart left half done.
    let mut txn_timer = tokio::time::interval(Duration::from_millis(TXN_TICK_MS));
    txn_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let st = state.clone();
        let pass = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = txn_timer.tick() => {
                st.txns.tick(&st.topics, &st.groups, now_ms(), || st.allocate_producer_id()).await;
                continue;
            }
            _ = retention.tick() => tokio::task::spawn_blocking(move || {
                let now = now_ms();
                st.topics.for_each_log(|p, log| {
                    let deleted = log.enforce_retention(now)?;
                    if deleted > 0 {
                        tracing::info!(topic = %p.topic, partition = p.index, deleted, "retention deleted segments");
                    }
                    Ok(())
                });
            }),
            _ = flush.tick() => tokio::task::spawn_blocking(move || {
                let now = now_ms();
                st.topics.for_each_log(|_, log| log.flush_if_due(now).map(|_| ()));
            }),
        };
        if let Err(e) = pass.await {
            tracing::error!(error = %e, "log maintenance pass failed");
        }
    }
}
