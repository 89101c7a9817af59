//! Transactions: librdkafka's transaction manager over the idempotent producer.
//!
//! ```text
//! Init ─init_transactions─▶ WaitPID ─InitProducerId─▶ Ready ◀──────────────────────┐
//!                                                       │ begin_transaction          │
//!                                                       ▼                            │
//!   produce() allowed only here ──────────────▶ InTransaction ─commit─▶ BeginCommit ─flush─▶
//!                                   │  │                               CommittingTransaction ─EndTxn─┤
//!            a delivery/AddPartitions│  └─abort─▶ BeginAbort ─purge, flush─▶ AbortingTransaction ─EndTxn─┘
//!            failure ▼                            ▲
//!                AbortableError ──abort───────────┘        FatalError: fenced, unauthorized, …
//! ```
//! State names are librdkafka's (they appear in `_STATE` errors). The caller's thread runs the
//! API calls; each is a short sequence of coordinator requests run on the runtime under the
//! call's timeout. A call that times out leaves the state where it got to and returns a
//! retriable `_TIMED_OUT`: calling it again resumes (as librdkafka's resumable calls do).
//!
//! The sender task asks [`Txn`] for the producer id and epoch, sends batches only for
//! partitions the coordinator accepted (AddPartitionsToTxn, sent by [`register_partitions`]
//! before a partition's first batch of the transaction), marks batches transactional, and
//! reports final produce failures here ([`on_delivery_failure`]): fencing is fatal, anything
//! else makes the transaction abortable. Errors are classified as librdkafka does: retriable
//! (call again), `txn_requires_abort` (call `abort_transaction`), or fatal (the producer is
//! unusable). `PRODUCER_FENCED` / `INVALID_PRODUCER_EPOCH` become `_FENCED`.

mod requests;

use super::sender::{purge_queue, ProducerIdent};
use super::{Inner, Producer};
use crate::error::{ErrorCode, KafkaError, Result};
use crate::topic_partition::TopicPartition;
pub(crate) use requests::register_partitions;
use requests::{end_txn, init_pid, send_offsets};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A consumer's group identity for [`Producer::send_offsets_to_transaction`]
/// (librdkafka's `rd_kafka_consumer_group_metadata_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupMetadata {
    /// `group.id`.
    pub group_id: String,
    /// Generation of the group (-1 when not a member).
    pub generation_id: i32,
    /// Member id ("" when not a member).
    pub member_id: String,
    /// `group.instance.id` (static membership).
    pub group_instance_id: Option<String>,
}

impl ConsumerGroupMetadata {
    /// Metadata for a group the producer's process is not a member of
    /// (`rd_kafka_consumer_group_metadata_new`).
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerGroupMetadata {
            group_id: group_id.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }
}

/// librdkafka's `rd_kafka_txn_state_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxnState {
    Init,
    WaitPid,
    Ready,
    InTransaction,
    BeginCommit,
    CommittingTransaction,
    BeginAbort,
    AbortingTransaction,
    AbortableError,
    FatalError,
}

impl TxnState {
    fn name(self) -> &'static str {
        match self {
            TxnState::Init => "Init",
            TxnState::WaitPid => "WaitPID",
            TxnState::Ready => "Ready",
            TxnState::InTransaction => "InTransaction",
            TxnState::BeginCommit => "BeginCommit",
            TxnState::CommittingTransaction => "CommittingTransaction",
            TxnState::BeginAbort => "BeginAbort",
            TxnState::AbortingTransaction => "AbortingTransaction",
            TxnState::AbortableError => "AbortableError",
            TxnState::FatalError => "FatalError",
        }
    }
}

type Tp = (Arc<str>, i32);

#[derive(Debug)]
struct TxnInner {
    state: TxnState,
    pid: Option<ProducerIdent>,
    coordinator: Option<i32>,
    /// Partitions the coordinator accepted in this transaction.
    registered: HashSet<Tp>,
    /// Partitions with data waiting for AddPartitionsToTxn.
    pending: HashSet<Tp>,
    adding: bool,
    /// Requests that (may) have created transaction state on the coordinator: without any,
    /// commit and abort complete locally, as librdkafka does.
    req_cnt: u32,
    /// The abortable or fatal error of the current transaction.
    err: Option<KafkaError>,
    /// Last InitProducerId failure (reported when init_transactions() times out).
    init_err: Option<ErrorCode>,
    /// A resumable API call that returned a retriable error: only it may be called until it
    /// completes (librdkafka's `txn_curr_api`).
    curr_api: Option<&'static str>,
    /// A batch failed after it got sequence numbers: the abort must bump the epoch so the
    /// sequences restart (KIP-360), or the next batch is out of order.
    needs_bump: bool,
}

/// Transaction state shared by the caller's thread and the sender task.
#[derive(Debug)]
pub(crate) struct Txn {
    pub id: String,
    pub timeout_ms: i32,
    backoff: Duration,
    st: Mutex<TxnInner>,
    may_enq: AtomicBool,
    dr_fails: AtomicU64,
}

/// What the sender may do for a transactional producer right now.
pub(crate) enum SendGate {
    /// Nothing may be sent (no transaction in progress).
    Closed,
    /// Batches of these partitions may be sent; others must be registered first.
    Open(HashSet<Tp>),
}

impl Txn {
    pub(crate) fn new(id: String, timeout_ms: i32, backoff: Duration) -> Txn {
        Txn {
            id,
            timeout_ms,
            backoff: backoff.max(Duration::from_millis(20)),
            st: Mutex::new(TxnInner {
                state: TxnState::Init,
                pid: None,
                coordinator: None,
                registered: HashSet::new(),
                pending: HashSet::new(),
                adding: false,
                req_cnt: 0,
                err: None,
                init_err: None,
                curr_api: None,
                needs_bump: false,
            }),
            may_enq: AtomicBool::new(false),
            dr_fails: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, TxnInner> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_state(&self, g: &mut TxnInner, s: TxnState) {
        g.state = s;
        self.may_enq
            .store(s == TxnState::InTransaction, Ordering::SeqCst);
    }

    /// The producer id and epoch, once `init_transactions` got them.
    pub(crate) fn pid(&self) -> Option<ProducerIdent> {
        self.lock().pid
    }

    /// Whether `produce()` may enqueue now.
    ///
    /// # Errors
    /// `_STATE` outside a transaction (librdkafka's `rd_kafka_producev` gives only the code,
    /// so the text is the code's: "Local: Erroneous state").
    pub(crate) fn check_produce(&self) -> Result<()> {
        if self.may_enq.load(Ordering::Relaxed) {
            return Ok(());
        }
        Err(KafkaError::new(ErrorCode::STATE))
    }

    pub(crate) fn send_gate(&self) -> SendGate {
        let g = self.lock();
        match g.state {
            TxnState::InTransaction | TxnState::BeginCommit if g.pid.is_some() => {
                SendGate::Open(g.registered.clone())
            }
            _ => SendGate::Closed,
        }
    }

    /// Queues partitions for registration; true when a registration task should start.
    pub(crate) fn add_pending(&self, tps: Vec<Tp>) -> bool {
        let mut g = self.lock();
        if !matches!(g.state, TxnState::InTransaction | TxnState::BeginCommit) {
            return false;
        }
        for tp in tps {
            if !g.registered.contains(&tp) {
                g.pending.insert(tp);
            }
        }
        if g.adding || g.pending.is_empty() {
            return false;
        }
        g.adding = true;
        true
    }

    /// librdkafka's `txn_curr_api_begin`: another API may not run while a resumable call
    /// is unfinished.
    ///
    /// # Errors
    /// Retriable `_CONFLICT`.
    fn api_begin(&self, name: &'static str) -> Result<()> {
        match self.lock().curr_api {
            Some(cur) if cur != name => Err(retriable(
                ErrorCode::CONFLICT,
                format!("Conflicting {cur} API call is already in progress"),
            )),
            _ => Ok(()),
        }
    }

    /// A resumable call that failed retriably stays the current API until it completes.
    fn api_end<T>(&self, name: &'static str, resumable: bool, r: &Result<T>) {
        let keep = resumable && matches!(r, Err(e) if e.retriable);
        self.lock().curr_api = keep.then_some(name);
    }

    /// The error returned by an API called in the wrong state
    /// (`rd_kafka_txn_require_states0`).
    fn state_error(g: &TxnInner) -> KafkaError {
        match (g.state, &g.err) {
            (TxnState::FatalError, Some(e)) => {
                let mut e = e.clone();
                e.fatal = true;
                e.retriable = false;
                e.txn_requires_abort = false;
                e
            }
            (TxnState::AbortableError, Some(e)) => {
                let mut e = e.clone();
                e.fatal = false;
                e.retriable = false;
                e.txn_requires_abort = true;
                e
            }
            (s, _) => plain(
                ErrorCode::STATE,
                format!("Operation not valid in state {}", s.name()),
            ),
        }
    }

    fn require(&self, ok: &[TxnState]) -> Result<TxnState> {
        let g = self.lock();
        if ok.contains(&g.state) {
            Ok(g.state)
        } else {
            Err(Txn::state_error(&g))
        }
    }
}

/// librdkafka's configuration checks for a transactional producer.
///
/// # Errors
/// `_INVALID_ARG` when `transactional.id` is set and idempotence explicitly disabled, or
/// `message.timeout.ms` explicitly set above `transaction.timeout.ms`.
pub(super) fn validate(conf: &crate::config::Config) -> Result<()> {
    let transactional = conf
        .get_str("transactional.id")
        .is_some_and(|t| !t.is_empty());
    if transactional && conf.is_set("enable.idempotence") && !conf.get_bool("enable.idempotence") {
        return Err(plain(
            ErrorCode::INVALID_ARG,
            "`transactional.id` requires `enable.idempotence=true`",
        ));
    }
    // A default `message.timeout.ms` above the transaction timeout is lowered to it; one the
    // application chose is refused (librdkafka). 0 (no timeout) is accepted.
    let mto = conf.topic_config().get_i64("message.timeout.ms");
    if transactional
        && conf.topic_config().is_set("message.timeout.ms")
        && mto > conf.get_i64("transaction.timeout.ms")
    {
        return Err(plain(
            ErrorCode::INVALID_ARG,
            "`message.timeout.ms` must be set <= `transaction.timeout.ms`",
        ));
    }
    Ok(())
}

/// A `KafkaError` with all three classification flags cleared (the caller sets the one that
/// applies, as librdkafka's `rd_kafka_error_new` + `set_*`).
fn plain(code: ErrorCode, msg: impl Into<String>) -> KafkaError {
    let mut e = KafkaError::with_message(code, msg);
    e.fatal = false;
    e.retriable = false;
    e.txn_requires_abort = false;
    e
}

fn retriable(code: ErrorCode, msg: impl Into<String>) -> KafkaError {
    let mut e = plain(code, msg);
    e.retriable = true;
    e
}

/// [`set_fatal`], and the fatal error the failing API returns.
fn raise_fatal(inner: &Inner, code: ErrorCode, msg: String) -> KafkaError {
    set_fatal(inner, code, msg.clone());
    let mut e = plain(code, msg);
    e.fatal = true;
    e
}

/// [`set_abortable`], and the error (`txn_requires_abort`) the failing API returns.
fn raise_abortable(inner: &Inner, code: ErrorCode, msg: String) -> KafkaError {
    set_abortable(inner, code, msg.clone());
    let mut e = plain(code, msg);
    e.txn_requires_abort = true;
    e
}

/// `rd_kafka_txn_normalize_err`: the fencing errors become `_FENCED`.
fn normalize(code: ErrorCode) -> ErrorCode {
    match code.0 {
        47 | 90 => ErrorCode::FENCED,
        _ => code,
    }
}

/// How a coordinator answer is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Retry { refresh: bool },
    Abortable,
    Fatal,
}

/// librdkafka's classification of transactional request errors.
fn classify(code: ErrorCode) -> Action {
    match code.0 {
        // Coordinator moved or unreachable, or the outcome is unknown.
        15 | 16 | 7 | -195 | -185 | -166 | -187 => Action::Retry { refresh: true },
        // CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_TOPIC_OR_PART.
        51 | 14 | 3 => Action::Retry { refresh: false },
        // INVALID_PRODUCER_EPOCH, PRODUCER_FENCED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        // INVALID_TXN_STATE, CLUSTER_AUTHORIZATION_FAILED, UNSUPPORTED_FOR_MESSAGE_FORMAT.
        47 | 90 | 53 | 48 | 31 | 43 => Action::Fatal,
        _ => Action::Abortable,
    }
}

/// Raises a fatal error: the producer refuses further work (`rd_kafka_txn_set_fatal_error`).
pub(crate) fn set_fatal(inner: &Inner, code: ErrorCode, msg: String) {
    let Some(txn) = &inner.txn else { return };
    {
        let mut g = txn.lock();
        if g.state == TxnState::FatalError {
            return;
        }
        let mut e = plain(code, msg.clone());
        e.fatal = true;
        g.err = Some(e);
        g.pending.clear();
        txn.set_state(&mut g, TxnState::FatalError);
        inner.client.cluster.log.log(
            1,
            "TXNERR",
            "main",
            format_args!("Fatal transaction error: {msg} ({})", code.name()),
        );
    }
    {
        let mut f = inner.fatal.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            // As rd_kafka_producev: only the code (`_FATAL`); the cause is in the error event.
            *f = Some(KafkaError::new(ErrorCode::FATAL));
            inner
                .has_fatal
                .store(true, std::sync::atomic::Ordering::Release);
        }
    }
    inner.events.push_error(
        ErrorCode::FATAL,
        format!("Fatal error: {}: {msg}", code.description()),
    );
    purge_queue(inner);
    inner.wake.notify_one();
}

/// Fails the current transaction (`rd_kafka_txn_set_abortable_error`): queued messages are
/// purged and only `abort_transaction` is allowed.
pub(crate) fn set_abortable(inner: &Inner, code: ErrorCode, msg: String) {
    let Some(txn) = &inner.txn else { return };
    {
        let mut g = txn.lock();
        // Later errors of a failed, aborting or dead transaction are not raised again.
        if !matches!(
            g.state,
            TxnState::InTransaction | TxnState::BeginCommit | TxnState::CommittingTransaction
        ) {
            return;
        }
        let mut e = plain(code, msg.clone());
        e.txn_requires_abort = true;
        g.err = Some(e);
        g.pending.clear();
        let was = g.state;
        txn.set_state(&mut g, TxnState::AbortableError);
        // A log line, not an error event, as librdkafka.
        inner.client.cluster.log.log(
            crate::log::level::ERR,
            "TXNERR",
            "main",
            format_args!(
                "Current transaction failed in state {}: {msg} ({})",
                was.name(),
                code.name()
            ),
        );
    }
    purge_queue(inner);
    inner.wake.notify_one();
}

/// A message batch failed for good: counted for commit, and the transaction fails
/// (fatally when the producer was fenced).
pub(crate) fn on_delivery_failure(inner: &Inner, code: ErrorCode, topic: &str, partition: i32) {
    let Some(txn) = &inner.txn else { return };
    if matches!(code, ErrorCode::PURGE_QUEUE | ErrorCode::PURGE_INFLIGHT) {
        return;
    }
    match classify(code) {
        Action::Fatal => set_fatal(
            inner,
            normalize(code),
            format!(
                "ProduceRequest for {topic} [{partition}] failed: {}: transactional producer fenced by newer producer instance",
                code.description()
            ),
        ),
        _ => {
            txn.lock().needs_bump = true;
            set_abortable(
                inner,
                code,
                format!(
                    "ProduceRequest for {topic} [{partition}] failed: {}",
                    code.description()
                ),
            )
        }
    }
}

/// Counts a failed delivery report (`txn_dr_fails`).
pub(crate) fn count_dr_failures(inner: &Inner, n: usize, err: ErrorCode) {
    if let Some(txn) = &inner.txn {
        txn.dr_fails.fetch_add(n as u64, Ordering::Relaxed);
        if err == ErrorCode::MSG_TIMED_OUT {
            // The batch may have been sent (and given sequence numbers) before it expired.
            txn.lock().needs_bump = true;
        }
    }
}

fn timed_out() -> KafkaError {
    retriable(
        ErrorCode::TIMED_OUT,
        "Timed out waiting for operation to finish, retry call to resume",
    )
}

/// What `flush` returns inside commit/abort: `Err(E)` stops the call (a PHP exception from a
/// delivery callback), `Ok(Err(_TIMED_OUT))` when messages remain.
pub type FlushResult<E> = std::result::Result<Result<()>, E>;

impl Producer {
    fn txn(&self) -> Result<&Txn> {
        self.inner.client.guard.check()?;
        self.inner.txn.as_ref().ok_or_else(|| {
            plain(
                ErrorCode::NOT_CONFIGURED,
                "The Transactional API requires transactional.id to be configured",
            )
        })
    }

    /// Whether this producer has a `transactional.id`.
    pub fn is_transactional(&self) -> bool {
        self.inner.txn.is_some()
    }

    /// `rd_kafka_init_transactions`: finds the transaction coordinator and gets a producer id
    /// and epoch for `transactional.id`, fencing older producers with the same id and
    /// completing their open transaction. `Duration::MAX` waits at most twice
    /// `transaction.timeout.ms`.
    ///
    /// # Errors
    /// `_NOT_CONFIGURED` without `transactional.id`; `_STATE` when already initialized;
    /// retriable `_TIMED_OUT` (call again to resume); fatal errors (e.g. authorization).
    pub fn init_transactions(&self, timeout: Duration) -> Result<()> {
        let txn = self.txn()?;
        txn.api_begin("init_transactions")?;
        let r = self.init_transactions_inner(txn, timeout);
        txn.api_end("init_transactions", true, &r);
        r
    }

    fn init_transactions_inner(&self, txn: &Txn, timeout: Duration) -> Result<()> {
        let timeout = if timeout == Duration::MAX {
            Duration::from_millis(txn.timeout_ms.max(0) as u64 * 2)
        } else {
            timeout
        };
        txn.require(&[TxnState::Init, TxnState::WaitPid])?;
        {
            let mut g = txn.lock();
            txn.set_state(&mut g, TxnState::WaitPid);
            g.init_err = None;
        }
        let deadline = crate::runtime::deadline_after(timeout);
        let inner = self.inner.clone();
        let r = self
            .inner
            .client
            .block_on(timeout, async move { init_pid(inner, deadline).await });
        let mut g = txn.lock();
        match r {
            Ok(pid) => {
                g.pid = Some(pid);
                txn.set_state(&mut g, TxnState::Ready);
                drop(g);
                self.inner.wake.notify_one();
                Ok(())
            }
            Err(e) if e.fatal => {
                let msg = e.message.clone();
                drop(g);
                set_fatal(&self.inner, e.code, msg);
                Err(e)
            }
            Err(e) if e.code == ErrorCode::TIMED_OUT => Err(match g.init_err {
                Some(c) if c != ErrorCode::TIMED_OUT => retriable(
                    normalize(c),
                    format!(
                        "Failed to initialize Producer ID: {}",
                        normalize(c).description()
                    ),
                ),
                _ => timed_out(),
            }),
            Err(e) => {
                let mut e = e;
                e.retriable = true;
                Err(e)
            }
        }
    }

    /// `rd_kafka_begin_transaction`: messages produced from now on belong to the transaction.
    ///
    /// # Errors
    /// `_STATE` unless initialized and no transaction is in progress; the transaction's
    /// error when it must be aborted first or the producer failed fatally.
    pub fn begin_transaction(&self) -> Result<()> {
        let txn = self.txn()?;
        txn.api_begin("begin_transaction")?;
        let mut g = txn.lock();
        if g.state != TxnState::Ready {
            return Err(Txn::state_error(&g));
        }
        g.registered.clear();
        g.pending.clear();
        g.req_cnt = 0;
        g.err = None;
        txn.dr_fails.store(0, Ordering::SeqCst);
        txn.set_state(&mut g, TxnState::InTransaction);
        Ok(())
    }

    /// `rd_kafka_send_offsets_to_transaction`: consumed offsets (the next offset to read) are
    /// committed for `cgmd`'s group when, and only if, the transaction commits.
    ///
    /// # Errors
    /// `_STATE` outside a transaction; retriable, abortable or fatal coordinator errors.
    pub fn send_offsets_to_transaction(
        &self,
        offsets: &[TopicPartition],
        cgmd: &ConsumerGroupMetadata,
        timeout: Duration,
    ) -> Result<()> {
        let txn = self.txn()?;
        txn.api_begin("send_offsets_to_transaction")?;
        txn.require(&[TxnState::InTransaction])?;
        let valid: Vec<TopicPartition> = offsets
            .iter()
            .filter(|tp| tp.offset >= 0)
            .cloned()
            .collect();
        if valid.is_empty() {
            return Ok(());
        }
        let deadline = crate::runtime::deadline_after(timeout);
        let inner = self.inner.clone();
        let cgmd = cgmd.clone();
        match self.inner.client.block_on(timeout, async move {
            send_offsets(inner, valid, cgmd, deadline).await
        }) {
            Err(e) if e.code == ErrorCode::TIMED_OUT && !e.retriable => Err(timed_out()),
            r => r,
        }
    }

    /// The API bracket around commit and abort (`api_begin` … `api_end`, resumable): `run`
    /// drives the call; a `flush` that stopped with its own error (`Err(E)`) ends no API.
    fn ending_api<E>(
        &self,
        api: &'static str,
        run: impl FnOnce(&Txn) -> FlushResult<E>,
    ) -> FlushResult<E> {
        let txn = match self.txn() {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = txn.api_begin(api) {
            return Ok(Err(e));
        }
        let r = run(txn);
        if let Ok(r) = &r {
            txn.api_end(api, true, r);
        }
        r
    }

    /// EndTxn on the coordinator (commit or abort) within `deadline`; the client's own
    /// timeout becomes the retriable `_TIMED_OUT` of the API.
    fn end_on_coordinator(&self, commit: bool, deadline: Instant) -> Result<()> {
        let inner = self.inner.clone();
        let left = deadline.saturating_duration_since(Instant::now());
        let r = self
            .inner
            .client
            .block_on(left, async move { end_txn(inner, commit, deadline).await });
        match r {
            Err(e) if e.code == ErrorCode::TIMED_OUT && !e.retriable => Err(timed_out()),
            r => r,
        }
    }

    /// [`Producer::commit_transaction_with`] with [`Producer::flush`] (events are dropped).
    ///
    /// # Errors
    /// As [`Producer::commit_transaction_with`].
    pub fn commit_transaction(&self, timeout: Duration) -> Result<()> {
        self.commit_transaction_with(timeout, |t| Ok::<_, ()>(self.flush(t)))
            .unwrap_or_else(|()| Err(KafkaError::new(ErrorCode::FAIL)))
    }

    /// `rd_kafka_commit_transaction`: sends every queued message (`flush` gets the remaining
    /// time and serves events, as librdkafka's commit serves delivery reports), then commits
    /// on the coordinator.
    ///
    /// # Errors
    /// Retriable (`_TIMED_OUT`: call again), `txn_requires_abort` (a message failed: call
    /// `abort_transaction`), or fatal (fenced). `Err(E)` when `flush` stopped with one.
    pub fn commit_transaction_with<E>(
        &self,
        timeout: Duration,
        flush: impl FnMut(Duration) -> FlushResult<E>,
    ) -> FlushResult<E> {
        self.ending_api("commit_transaction", |txn| {
            self.commit_transaction_inner(txn, timeout, flush)
        })
    }

    fn commit_transaction_inner<E>(
        &self,
        txn: &Txn,
        timeout: Duration,
        mut flush: impl FnMut(Duration) -> FlushResult<E>,
    ) -> FlushResult<E> {
        let deadline = crate::runtime::deadline_after(timeout);
        {
            let mut g = txn.lock();
            match g.state {
                TxnState::InTransaction => txn.set_state(&mut g, TxnState::BeginCommit),
                TxnState::BeginCommit | TxnState::CommittingTransaction => {}
                _ => return Ok(Err(Txn::state_error(&g))),
            }
        }
        self.inner.wake.notify_one();
        let remaining = deadline.saturating_duration_since(Instant::now());
        if let Err(e) = flush(remaining)? {
            let left = self.out_queue_len();
            return Ok(Err(if e.code == ErrorCode::TIMED_OUT {
                retriable(
                    ErrorCode::TIMED_OUT,
                    format!(
                        "Failed to flush all outstanding messages within the API timeout: {left} message(s) remaining"
                    ),
                )
            } else {
                retriable(
                    e.code,
                    format!("Failed to flush outstanding messages: {}", e.message),
                )
            }));
        }
        let fails = txn.dr_fails.load(Ordering::SeqCst);
        {
            let g = txn.lock();
            if matches!(g.state, TxnState::AbortableError | TxnState::FatalError) {
                return Ok(Err(Txn::state_error(&g)));
            }
        }
        if fails > 0 {
            let msg =
                format!("{fails} message(s) failed delivery (see individual delivery reports)");
            return Ok(Err(raise_abortable(
                &self.inner,
                ErrorCode::INCONSISTENT,
                msg,
            )));
        }
        let needs_end = {
            let mut g = txn.lock();
            txn.set_state(&mut g, TxnState::CommittingTransaction);
            g.req_cnt > 0
        };
        if needs_end {
            if let Err(e) = self.end_on_coordinator(true, deadline) {
                return Ok(Err(e));
            }
        }
        self.complete_transaction();
        Ok(Ok(()))
    }

    /// [`Producer::abort_transaction_with`] with [`Producer::flush`] (events are dropped).
    ///
    /// # Errors
    /// As [`Producer::abort_transaction_with`].
    pub fn abort_transaction(&self, timeout: Duration) -> Result<()> {
        self.abort_transaction_with(timeout, |t| Ok::<_, ()>(self.flush(t)))
            .unwrap_or_else(|()| Err(KafkaError::new(ErrorCode::FAIL)))
    }

    /// `rd_kafka_abort_transaction`: purges queued messages (their reports carry
    /// `_PURGE_QUEUE`), waits for those in flight (`flush`), then aborts on the coordinator.
    /// Also the way out of an abortable error.
    ///
    /// # Errors
    /// Retriable `_TIMED_OUT` (call again to resume), fatal errors, `_STATE`.
    pub fn abort_transaction_with<E>(
        &self,
        timeout: Duration,
        flush: impl FnMut(Duration) -> FlushResult<E>,
    ) -> FlushResult<E> {
        self.ending_api("abort_transaction", |txn| {
            self.abort_transaction_inner(txn, timeout, flush)
        })
    }

    fn abort_transaction_inner<E>(
        &self,
        txn: &Txn,
        timeout: Duration,
        mut flush: impl FnMut(Duration) -> FlushResult<E>,
    ) -> FlushResult<E> {
        let deadline = crate::runtime::deadline_after(timeout);
        {
            let mut g = txn.lock();
            match g.state {
                TxnState::InTransaction | TxnState::AbortableError => {
                    txn.set_state(&mut g, TxnState::BeginAbort);
                    g.pending.clear();
                }
                TxnState::BeginAbort | TxnState::AbortingTransaction => {}
                _ => return Ok(Err(Txn::state_error(&g))),
            }
        }
        purge_queue(&self.inner);
        self.inner.wake.notify_one();
        let remaining = deadline.saturating_duration_since(Instant::now());
        if let Err(e) = flush(remaining)? {
            let left = self.out_queue_len();
            return Ok(Err(retriable(
                e.code,
                format!(
                    "Failed to flush all outstanding messages within the API timeout: {left} message(s) remaining"
                ),
            )));
        }
        let needs_end = {
            let mut g = txn.lock();
            if g.state == TxnState::FatalError {
                return Ok(Err(Txn::state_error(&g)));
            }
            txn.set_state(&mut g, TxnState::AbortingTransaction);
            g.req_cnt > 0
        };
        if needs_end {
            if let Err(e) = self.end_on_coordinator(false, deadline) {
                return Ok(Err(e));
            }
        }
        if txn.lock().needs_bump {
            if let Err(e) = self.bump_epoch(txn, deadline) {
                return Ok(Err(e));
            }
        }
        self.complete_transaction();
        Ok(Ok(()))
    }

    /// A new epoch for the same producer id (InitProducerId again, now that no transaction is
    /// open), and every partition's sequence restarts at 0.
    fn bump_epoch(&self, txn: &Txn, deadline: Instant) -> Result<()> {
        let inner = self.inner.clone();
        let left = deadline.saturating_duration_since(Instant::now());
        let pid = match self
            .inner
            .client
            .block_on(left, async move { init_pid(inner, deadline).await })
        {
            Ok(p) => p,
            Err(e) if e.fatal => {
                set_fatal(&self.inner, e.code, e.message.clone());
                return Err(e);
            }
            Err(_) => return Err(timed_out()),
        };
        {
            let mut acc = self.inner.lock_acc();
            for tq in acc.topics.values_mut() {
                for pq in &mut tq.parts {
                    pq.next_seq = 0;
                }
            }
        }
        let mut g = txn.lock();
        g.pid = Some(pid);
        g.needs_bump = false;
        Ok(())
    }

    fn complete_transaction(&self) {
        if let Some(txn) = &self.inner.txn {
            let mut g = txn.lock();
            g.registered.clear();
            g.pending.clear();
            g.req_cnt = 0;
            g.err = None;
            txn.set_state(&mut g, TxnState::Ready);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_librdkafka() {
        assert_eq!(classify(ErrorCode(51)), Action::Retry { refresh: false });
        assert_eq!(classify(ErrorCode(16)), Action::Retry { refresh: true });
        assert_eq!(
            classify(ErrorCode::TRANSPORT),
            Action::Retry { refresh: true }
        );
        assert_eq!(classify(ErrorCode::PRODUCER_FENCED), Action::Fatal);
        assert_eq!(classify(ErrorCode::INVALID_PRODUCER_EPOCH), Action::Fatal);
        assert_eq!(classify(ErrorCode(29)), Action::Abortable);
        assert_eq!(normalize(ErrorCode(90)), ErrorCode::FENCED);
        assert_eq!(normalize(ErrorCode(47)), ErrorCode::FENCED);
    }

    #[test]
    fn idempotence_cannot_be_disabled_for_transactions() {
        let mut c = crate::config::Config::new();
        c.set("transactional.id", "t").unwrap();
        assert!(validate(&c).is_ok());
        c.set("enable.idempotence", "false").unwrap();
        let e = validate(&c).unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_ARG);
        assert_eq!(
            e.message,
            "`transactional.id` requires `enable.idempotence=true`"
        );
    }

    #[test]
    fn state_errors_name_the_state() {
        let t = Txn::new("t".into(), 60_000, Duration::from_millis(100));
        let e = t.check_produce().unwrap_err();
        assert_eq!(e.code, ErrorCode::STATE);
        assert_eq!(e.message, "Local: Erroneous state");
        let e = t.require(&[TxnState::Ready]).unwrap_err();
        assert_eq!(e.message, "Operation not valid in state Init");
        assert!(!e.fatal && !e.retriable && !e.txn_requires_abort);
    }
}
