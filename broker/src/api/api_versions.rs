//! ApiVersions: which API versions this broker speaks.
//!
//! Two rules clients depend on: a too-new request version gets a v0-format answer with
//! UNSUPPORTED_VERSION plus the full list (the client then retries with a version from it),
//! and the response carries no tagged fields at all — librdkafka before 2.2 (Debian's 2.0.2)
//! misparses them in v3 and fails every connection.

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};

use super::{encode_frame, error_code, RequestContext, Response, ResponsePart, SUPPORTED};

fn api_keys() -> Vec<ApiVersion> {
    SUPPORTED
        .iter()
        .map(|&(key, min, max)| {
            ApiVersion::default()
                .with_api_key(key as i16)
                .with_min_version(min)
                .with_max_version(max)
        })
        .collect()
}

/// Serves a supported-version ApiVersions request.
pub async fn handle(_ctx: &RequestContext, _req: ApiVersionsRequest) -> ApiVersionsResponse {
    ApiVersionsResponse::default()
        .with_error_code(error_code::NONE)
        .with_api_keys(api_keys())
}

/// The v0 answer to a too-new ApiVersions request.
pub fn unsupported_version(correlation_id: i32) -> Response {
    let body = ApiVersionsResponse::default()
        .with_error_code(error_code::UNSUPPORTED_VERSION)
        .with_api_keys(api_keys());
    let frame = encode_frame(correlation_id, 0, &body, 0).unwrap_or_default();
    Response::Frame(vec![ResponsePart::Bytes(frame)])
}
