//! DescribeCluster: this single node is the whole cluster and its controller.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;

/// Serves DescribeCluster.
pub async fn handle(ctx: &RequestContext, req: DescribeClusterRequest) -> DescribeClusterResponse {
    let state = &ctx.state;
    let broker = DescribeClusterBroker::default()
        .with_broker_id(BrokerId(state.node_id))
        .with_host(StrBytes::from_string(state.advertised_host.clone()))
        .with_port(state.advertised_port);
    DescribeClusterResponse::default()
        .with_endpoint_type(req.endpoint_type)
        .with_cluster_id(StrBytes::from_string(state.cluster_id.clone()))
        .with_controller_id(BrokerId(state.node_id))
        .with_brokers(vec![broker])
        .with_cluster_authorized_operations(i32::MIN)
}
