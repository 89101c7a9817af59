//! TxnOffsetCommit: group offsets that become visible only when the transaction commits.

use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};

use super::RequestContext;
use crate::group::MemberId;
use crate::txn::{PendingOffset, TxnError};

/// Serves TxnOffsetCommit.
pub async fn handle(ctx: &RequestContext, req: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse {
    let state = &ctx.state;
    let group = req.group_id.0.to_string();
    let max_metadata = state.groups.config().max_metadata_bytes;
    let mut codes: Vec<i16> = Vec::new();
    let mut offsets = Vec::new();
    for t in &req.topics {
        let topic = state.topics.get(&t.name.0);
        for p in &t.partitions {
            let metadata = p
                .committed_metadata
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_default();
            let code = if topic
                .as_ref()
                .and_then(|t| t.partition(p.partition_index))
                .is_none()
            {
                TxnError::UnknownTopicOrPartition.code()
            } else if metadata.len() > max_metadata {
                12 // OFFSET_METADATA_TOO_LARGE
            } else {
                offsets.push(PendingOffset {
                    group: group.clone(),
                    topic: t.name.0.to_string(),
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: if ctx.version >= 2 {
                        p.committed_leader_epoch
                    } else {
                        -1
                    },
                    metadata,
                });
                0
            };
            codes.push(code);
        }
    }
    let member = MemberId(req.member_id.to_string());
    let request_error = if ctx.version >= 3 {
        state
            .groups
            .validate_txn_commit(
                &group,
                req.generation_id,
                &member,
                req.group_instance_id.as_deref(),
            )
            .err()
            .map(|e| e.code())
    } else {
        None
    };
    let request_error = request_error.or_else(|| {
        state
            .txns
            .txn_offset_commit(
                &req.transactional_id.0,
                req.producer_id.0,
                req.producer_epoch,
                offsets,
            )
            .err()
            .map(TxnError::code)
    });
    let mut codes = codes.into_iter();
    let topics = req
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let own = codes.next().unwrap_or(0);
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(if own != 0 {
                            own
                        } else {
                            request_error.unwrap_or(0)
                        })
                })
                .collect();
            TxnOffsetCommitResponseTopic::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    TxnOffsetCommitResponse::default().with_topics(topics)
}
