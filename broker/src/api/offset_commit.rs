//! OffsetCommit: members of a generation, or `assign()` users (generation -1, no member id).

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;
use crate::group::{MemberId, TopicPartition};

/// Serves OffsetCommit; answers once the offsets are on disk.
pub async fn handle(ctx: &RequestContext, req: OffsetCommitRequest) -> OffsetCommitResponse {
    let v = ctx.version;
    let mut offsets = Vec::new();
    for topic in &req.topics {
        for p in &topic.partitions {
            let epoch = if v >= 6 { p.committed_leader_epoch } else { -1 };
            offsets.push((
                TopicPartition::new(topic.name.0.to_string(), p.partition_index),
                p.committed_offset,
                epoch,
                p.committed_metadata.as_ref().map(|s| s.to_string()),
            ));
        }
    }
    let topics = &ctx.state.topics;
    let exists = |tp: &TopicPartition| {
        topics
            .get(&tp.topic)
            .is_some_and(|t| t.partition(tp.partition).is_some())
    };
    let result = ctx
        .state
        .groups
        .commit_offsets(
            &req.group_id.0,
            req.generation_id_or_member_epoch,
            &MemberId(req.member_id.to_string()),
            req.group_instance_id.as_deref(),
            offsets,
            exists,
        )
        .await;
    // One code per partition: the request-wide refusal, or the partition's own.
    let mut codes = match &result {
        Ok(list) => list
            .iter()
            .map(|(_, e)| e.map_or(0, |e| e.code()))
            .collect::<Vec<_>>(),
        Err(_) => Vec::new(),
    }
    .into_iter();
    let request_error = result.err().map(|e| e.code());
    let response_topics = req
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let code = request_error.unwrap_or_else(|| codes.next().unwrap_or(0));
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(TopicName(StrBytes::from_string(t.name.0.to_string())))
                .with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(response_topics)
}
