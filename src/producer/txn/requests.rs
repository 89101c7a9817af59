//! The transaction coordinator's requests: FindCoordinator, InitProducerId,
//! AddPartitionsToTxn, AddOffsetsToTxn + TxnOffsetCommit (to the group coordinator) and
//! EndTxn, each retried as librdkafka retries it and classified by [`super::classify`].

use super::{
    classify, normalize, plain, raise_abortable, raise_fatal, retriable, set_abortable, set_fatal,
    Action, ConsumerGroupMetadata, Tp, Txn, TxnState,
};
use crate::cluster::Cluster;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::net::Connection;
use crate::producer::sender::ProducerIdent;
use crate::producer::Inner;
use crate::topic_partition::TopicPartition;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, FindCoordinatorRequest,
    GroupId, InitProducerIdRequest, ProducerId, TopicName, TransactionalId, TxnOffsetCommitRequest,
};
use kafka_protocol::protocol::StrBytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request that failed this way may or may not have reached the coordinator.
fn unknown_outcome(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::TRANSPORT | ErrorCode::TIMED_OUT)
}

/// FindCoordinator (key type 0 = group, 1 = transaction); returns the node id.
async fn find_coordinator(cluster: &Cluster, key_type: i8, key: &str) -> Result<i32> {
    let (conn, _) = cluster.any_connection().await?;
    let mut req = FindCoordinatorRequest::default();
    req.key = StrBytes::from_string(key.to_string());
    req.key_type = key_type;
    let v = conn.version::<FindCoordinatorRequest>(3)?;
    if key_type != 0 && v < 1 {
        return Err(plain(
            ErrorCode::UNSUPPORTED_FEATURE,
            "The broker does not support transactions (FindCoordinator v1)",
        ));
    }
    let resp = conn
        .send_versioned(&req, v, cluster.request_timeout())
        .await?;
    if resp.error_code != 0 {
        let code = ErrorCode::from_kafka(resp.error_code);
        return Err(KafkaError::with_message(
            code,
            resp.error_message
                .map(|m| m.to_string())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| code.description()),
        ));
    }
    let node = resp.node_id.0;
    cluster.learn_broker(node, resp.host.as_str(), resp.port);
    Ok(node)
}

/// A connection to the transaction coordinator, looking it up when unknown.
async fn coordinator(inner: &Inner, txn: &Txn) -> Result<Arc<Connection>> {
    let known = txn.lock().coordinator;
    let cluster = &inner.client.cluster;
    if let Some(n) = known {
        if let Ok(c) = cluster.connection(n).await {
            return Ok(c);
        }
    }
    let node = find_coordinator(cluster, 1, &txn.id).await?;
    txn.lock().coordinator = Some(node);
    cluster.connection(node).await
}

fn forget_coordinator(txn: &Txn) {
    txn.lock().coordinator = None;
}

fn unsupported(e: KafkaError) -> KafkaError {
    if e.code == ErrorCode::UNSUPPORTED_FEATURE {
        plain(
            ErrorCode::UNSUPPORTED_FEATURE,
            format!("The broker does not support transactions: {}", e.message),
        )
    } else {
        e
    }
}

/// Sleeps `d` unless that passes `deadline`; false when out of time.
async fn backoff_until(d: Duration, deadline: Instant) -> bool {
    let now = Instant::now();
    if now + d >= deadline {
        return false;
    }
    tokio::time::sleep(d).await;
    true
}

/// InitProducerId with the transactional id, retried until it succeeds, fails for good, or
/// `deadline` passes.
pub(super) async fn init_pid(inner: Arc<Inner>, deadline: Instant) -> Result<ProducerIdent> {
    let txn = inner.txn.as_ref().ok_or(ErrorCode::NOT_CONFIGURED)?;
    loop {
        let r: Result<ProducerIdent> = async {
            let conn = coordinator(&inner, txn).await?;
            let mut req = InitProducerIdRequest::default();
            req.transactional_id = Some(TransactionalId(StrBytes::from_string(txn.id.clone())));
            req.transaction_timeout_ms = txn.timeout_ms;
            req.producer_id = ProducerId(-1);
            req.producer_epoch = -1;
            let resp = conn.send(&req, 4).await.map_err(unsupported)?;
            if resp.error_code != 0 {
                return Err(KafkaError::new(ErrorCode::from_kafka(resp.error_code)));
            }
            Ok(ProducerIdent {
                id: resp.producer_id.0,
                epoch: resp.producer_epoch,
            })
        }
        .await;
        let e = match r {
            Ok(p) => return Ok(p),
            Err(e) => e,
        };
        if e.code == ErrorCode::UNSUPPORTED_FEATURE {
            let mut e = plain(e.code, e.message);
            e.fatal = true;
            return Err(e);
        }
        if e.code.0 > 0 {
            // A broker's answer (not a connection failure) explains a later timeout.
            txn.lock().init_err = Some(e.code);
        }
        match classify(e.code) {
            Action::Fatal => {
                let mut f = plain(
                    normalize(e.code),
                    format!("Failed to initialize Producer ID: {}", e.code.description()),
                );
                f.fatal = true;
                return Err(f);
            }
            Action::Retry { refresh: true } => forget_coordinator(txn),
            _ => {}
        }
        if !backoff_until(txn.backoff, deadline).await {
            return Err(KafkaError::new(ErrorCode::TIMED_OUT));
        }
    }
}

/// Registers pending partitions with the coordinator (AddPartitionsToTxn), one request at a
/// time, until none are pending; the sender sends their batches once they are registered.
pub(crate) async fn register_partitions(inner: Arc<Inner>) {
    let Some(txn) = inner.txn.as_ref() else {
        return;
    };
    loop {
        let (batch, pid) = {
            let mut g = txn.lock();
            let active = matches!(g.state, TxnState::InTransaction | TxnState::BeginCommit);
            if !active || g.pending.is_empty() || g.pid.is_none() {
                g.adding = false;
                return;
            }
            let mut v: Vec<Tp> = g.pending.iter().cloned().collect();
            v.sort();
            (v, g.pid)
        };
        let Some(pid) = pid else { return };
        let r = add_partitions(&inner, txn, pid, &batch).await;
        let mut retry_after = None;
        match r {
            Ok(results) => {
                let mut worst: Option<(ErrorCode, Action)> = None;
                {
                    let mut g = txn.lock();
                    for (tp, code) in &results {
                        if code.is_ok() {
                            g.pending.remove(tp);
                            g.registered.insert(tp.clone());
                        } else {
                            let a = classify(*code);
                            let rank = |a: Action| match a {
                                Action::Fatal => 3,
                                Action::Abortable => 2,
                                Action::Retry { .. } => 1,
                            };
                            if worst.is_none_or(|(_, w)| rank(a) > rank(w)) {
                                worst = Some((*code, a));
                            }
                        }
                    }
                    if results.iter().any(|(_, c)| c.is_ok()) {
                        g.req_cnt += 1;
                    }
                }
                inner.wake.notify_one();
                match worst {
                    None => {}
                    Some((code, Action::Fatal)) => add_partitions_failed_fatally(&inner, code),
                    // OPERATION_NOT_ATTEMPTED alone is not an error of its own.
                    Some((code, Action::Abortable)) => set_abortable(
                        &inner,
                        code,
                        format!(
                            "Failed to add partition(s) to transaction: {}",
                            code.description()
                        ),
                    ),
                    Some((code, Action::Retry { refresh })) => {
                        if refresh {
                            forget_coordinator(txn);
                        }
                        retry_after = Some(if code.0 == 51 {
                            Duration::from_millis(20)
                        } else {
                            txn.backoff
                        });
                    }
                }
            }
            Err(e) => match classify(e.code) {
                Action::Fatal => add_partitions_failed_fatally(&inner, e.code),
                Action::Abortable => set_abortable(
                    &inner,
                    e.code,
                    format!("Failed to add partition(s) to transaction: {}", e.message),
                ),
                Action::Retry { refresh } => {
                    if unknown_outcome(e.code) {
                        // The coordinator may hold state that EndTxn must end.
                        txn.lock().req_cnt += 1;
                    }
                    if refresh {
                        forget_coordinator(txn);
                    }
                    retry_after = Some(txn.backoff);
                }
            },
        }
        if let Some(d) = retry_after {
            tokio::time::sleep(d).await;
        }
    }
}

/// AddPartitionsToTxn failed with a fatal error (a partition's or the request's).
fn add_partitions_failed_fatally(inner: &Inner, code: ErrorCode) {
    let code = normalize(code);
    set_fatal(
        inner,
        code,
        format!(
            "Failed to add partitions to transaction: {}",
            code.description()
        ),
    );
}

async fn add_partitions(
    inner: &Inner,
    txn: &Txn,
    pid: ProducerIdent,
    tps: &[Tp],
) -> Result<Vec<(Tp, ErrorCode)>> {
    let conn = coordinator(inner, txn).await?;
    let mut req = AddPartitionsToTxnRequest::default();
    req.v3_and_below_transactional_id = TransactionalId(StrBytes::from_string(txn.id.clone()));
    req.v3_and_below_producer_id = ProducerId(pid.id);
    req.v3_and_below_producer_epoch = pid.epoch;
    for (t, p) in tps {
        let name = TopicName(StrBytes::from_string(t.to_string()));
        match req.v3_and_below_topics.iter_mut().find(|x| x.name == name) {
            Some(x) => x.partitions.push(*p),
            None => {
                let mut x = AddPartitionsToTxnTopic::default();
                x.name = name;
                x.partitions.push(*p);
                req.v3_and_below_topics.push(x);
            }
        }
    }
    let resp = conn.send(&req, 3).await?;
    if resp.error_code != 0 {
        return Err(KafkaError::new(ErrorCode::from_kafka(resp.error_code)));
    }
    Ok(tps
        .iter()
        .map(|tp| {
            let code = resp
                .results_by_topic_v3_and_below
                .iter()
                .filter(|t| t.name.0.as_str() == &*tp.0)
                .flat_map(|t| t.results_by_partition.iter())
                .find(|r| r.partition_index == tp.1)
                .map_or(ErrorCode::UNKNOWN_TOPIC_OR_PART, |r| {
                    ErrorCode::from_kafka(r.partition_error_code)
                });
            (tp.clone(), code)
        })
        .collect())
}

/// EndTxn, retried on retriable errors until `deadline`.
pub(super) async fn end_txn(inner: Arc<Inner>, commit: bool, deadline: Instant) -> Result<()> {
    let txn = inner.txn.as_ref().ok_or(ErrorCode::NOT_CONFIGURED)?;
    let what = if commit { "commit" } else { "abort" };
    loop {
        let pid = txn.pid().ok_or(ErrorCode::STATE)?;
        let r: Result<()> = async {
            let conn = coordinator(&inner, txn).await?;
            let mut req = EndTxnRequest::default();
            req.transactional_id = TransactionalId(StrBytes::from_string(txn.id.clone()));
            req.producer_id = ProducerId(pid.id);
            req.producer_epoch = pid.epoch;
            req.committed = commit;
            let resp = conn.send(&req, 3).await?;
            match resp.error_code {
                0 => Ok(()),
                c => Err(KafkaError::new(ErrorCode::from_kafka(c))),
            }
        }
        .await;
        let Err(e) = r else { return Ok(()) };
        let code = normalize(e.code);
        match classify(e.code) {
            Action::Retry { refresh } => {
                if refresh {
                    forget_coordinator(txn);
                }
                let d = if e.code.0 == 51 {
                    Duration::from_millis(20)
                } else {
                    txn.backoff
                };
                if !backoff_until(d, deadline).await {
                    return Err(retriable(
                        code,
                        format!("EndTxn {what} failed: {}", code.description()),
                    ));
                }
            }
            Action::Fatal => {
                let msg = format!("Failed to end transaction: {}", code.description());
                return Err(raise_fatal(&inner, code, msg));
            }
            Action::Abortable => {
                let msg = format!("Failed to end transaction: {}", code.description());
                {
                    let mut g = txn.lock();
                    if g.state == TxnState::AbortingTransaction {
                        txn.set_state(&mut g, TxnState::BeginAbort);
                    }
                }
                set_abortable(&inner, code, msg);
                let mut f = plain(
                    code,
                    format!("EndTxn {what} failed: {}", code.description()),
                );
                f.txn_requires_abort = true;
                return Err(f);
            }
        }
    }
}

/// AddOffsetsToTxn to the transaction coordinator, then TxnOffsetCommit to the group
/// coordinator, each retried on retriable errors until `deadline`.
pub(super) async fn send_offsets(
    inner: Arc<Inner>,
    offsets: Vec<TopicPartition>,
    cgmd: ConsumerGroupMetadata,
    deadline: Instant,
) -> Result<()> {
    let txn = inner.txn.as_ref().ok_or(ErrorCode::NOT_CONFIGURED)?;
    let pid = txn.pid().ok_or(ErrorCode::STATE)?;
    // Step 1: the transaction coordinator learns the group.
    loop {
        let r: Result<()> = async {
            let conn = coordinator(&inner, txn).await?;
            let mut req = AddOffsetsToTxnRequest::default();
            req.transactional_id = TransactionalId(StrBytes::from_string(txn.id.clone()));
            req.producer_id = ProducerId(pid.id);
            req.producer_epoch = pid.epoch;
            req.group_id = GroupId(StrBytes::from_string(cgmd.group_id.clone()));
            let resp = conn.send(&req, 3).await?;
            match resp.error_code {
                0 => Ok(()),
                c => Err(KafkaError::new(ErrorCode::from_kafka(c))),
            }
        }
        .await;
        let e = match r {
            Ok(()) => {
                txn.lock().req_cnt += 1;
                break;
            }
            Err(e) => e,
        };
        let code = normalize(e.code);
        let msg = format!(
            "Failed to add offsets to transaction: {}",
            code.description()
        );
        match classify(e.code) {
            Action::Retry { refresh } => {
                if refresh {
                    forget_coordinator(txn);
                }
                if unknown_outcome(e.code) {
                    txn.lock().req_cnt += 1;
                }
                if !backoff_until(txn.backoff, deadline).await {
                    return Err(retriable(code, msg));
                }
            }
            Action::Fatal => return Err(raise_fatal(&inner, code, msg)),
            Action::Abortable => return Err(raise_abortable(&inner, code, msg)),
        }
    }
    // Step 2: the offsets go to the group coordinator, pending until the transaction ends.
    let cluster = &inner.client.cluster;
    let mut group_node: Option<i32> = None;
    loop {
        let r: Result<Vec<(String, i32, ErrorCode)>> = async {
            let node = match group_node {
                Some(n) => n,
                None => {
                    let n = find_coordinator(cluster, 0, &cgmd.group_id).await?;
                    group_node = Some(n);
                    n
                }
            };
            let conn = cluster.connection(node).await?;
            let mut req = TxnOffsetCommitRequest::default();
            req.transactional_id = TransactionalId(StrBytes::from_string(txn.id.clone()));
            req.group_id = GroupId(StrBytes::from_string(cgmd.group_id.clone()));
            req.producer_id = ProducerId(pid.id);
            req.producer_epoch = pid.epoch;
            req.generation_id = cgmd.generation_id;
            req.member_id = StrBytes::from_string(cgmd.member_id.clone());
            req.group_instance_id = cgmd.group_instance_id.clone().map(StrBytes::from_string);
            for tp in &offsets {
                let name = TopicName(StrBytes::from_string(tp.topic.clone()));
                let mut p = TxnOffsetCommitRequestPartition::default();
                p.partition_index = tp.partition;
                p.committed_offset = tp.offset;
                p.committed_leader_epoch = -1;
                p.committed_metadata = Some(StrBytes::from_string(
                    tp.metadata.clone().unwrap_or_default(),
                ));
                match req.topics.iter_mut().find(|t| t.name == name) {
                    Some(t) => t.partitions.push(p),
                    None => {
                        let mut t = TxnOffsetCommitRequestTopic::default();
                        t.name = name;
                        t.partitions.push(p);
                        req.topics.push(t);
                    }
                }
            }
            let resp = conn.send(&req, 3).await?;
            Ok(resp
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions.iter().map(move |p| {
                        (
                            t.name.0.to_string(),
                            p.partition_index,
                            ErrorCode::from_kafka(p.error_code),
                        )
                    })
                })
                .collect())
        }
        .await;
        let code = match r {
            Ok(parts) => match parts.iter().find(|(_, _, c)| !c.is_ok()) {
                None => return Ok(()),
                Some((_, _, c)) => *c,
            },
            Err(e) => e.code,
        };
        let ncode = normalize(code);
        let msg = format!(
            "Failed to commit offsets to transaction: {}",
            ncode.description()
        );
        match classify(code) {
            Action::Retry { refresh } => {
                if refresh {
                    group_node = None;
                }
                if !backoff_until(Duration::from_millis(500).min(txn.backoff * 5), deadline).await {
                    // librdkafka: out of time here fails the transaction.
                    let mut e = plain(ErrorCode::TIMED_OUT, msg.clone());
                    e.txn_requires_abort = true;
                    set_abortable(&inner, ErrorCode::TIMED_OUT, msg);
                    return Err(e);
                }
            }
            Action::Fatal => return Err(raise_fatal(&inner, ncode, msg)),
            Action::Abortable => return Err(raise_abortable(&inner, ncode, msg)),
        }
    }
}
