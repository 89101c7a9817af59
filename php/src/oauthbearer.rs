//! SASL/OAUTHBEARER from PHP: `RdKafka::oauthbearerSetToken()`,
//! `RdKafka::oauthbearerSetTokenFailure()`, and running the
//! `Conf::setOauthbearerTokenRefreshCb()` callback when the core asks for a token.
//!
//! The token logic (validation, refresh at 80% of the lifetime, waiting connections) is the
//! core's `kafkars::net::sasl::OauthBearer`; this file only converts arguments and errors as
//! php-rdkafka does (`RdKafka\Exception` with librdkafka's code and text).

use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use kafkars::ErrorCode;

use crate::callbacks::{invoke, CallbackKind, Callbacks};
use crate::client::ClientState;
use crate::exception::rdkafka_exception;

fn holder(state: &ClientState) -> PhpResult<&std::sync::Arc<kafkars::net::sasl::OauthBearer>> {
    state.client().oauthbearer().ok_or_else(|| {
        rdkafka_exception(
            "SASL/OAUTHBEARER is not the configured authentication mechanism",
            i64::from(ErrorCode::STATE.0),
        )
    })
}

fn to_php(e: kafkars::KafkaError) -> PhpException {
    rdkafka_exception(e.message.clone(), i64::from(e.code.0))
}

/// `oauthbearerSetToken($token_value, $lifetime_ms, $principal_name, $extensions)`:
/// `$lifetime_ms` is the expiry time in milliseconds since the epoch, as in librdkafka.
///
/// # Errors
/// `RdKafka\Exception` with `_STATE` when OAUTHBEARER is not configured, `_INVALID_ARG` for
/// an invalid or expired token or bad extensions.
pub fn set_token(
    state: &ClientState,
    value: &str,
    lifetime_ms: i64,
    principal: &str,
    extensions: Vec<(String, String)>,
) -> PhpResult<()> {
    holder(state)?
        .set_token(value, lifetime_ms, principal, &extensions)
        .map_err(to_php)
}

/// `oauthbearerSetTokenFailure($error)`.
///
/// # Errors
/// As [`set_token`]; `_INVALID_ARG` for an empty reason.
pub fn set_token_failure(state: &ClientState, error: &str) -> PhpResult<()> {
    // php-rdkafka throws these with no message, only the code.
    holder(state)?
        .set_token_failure(error)
        .map_err(|e| rdkafka_exception("", i64::from(e.code.0)))
}

/// Runs the refresh callback for a refresh request: `callback($kafka, $oauthbearer_config)`.
/// Without a callback the request is dropped: the application sets tokens on its own.
///
/// # Errors
/// A PHP exception thrown by the callback.
pub fn dispatch_refresh(this: &Zval, state: &ClientState, config: &str) -> PhpResult<()> {
    let Some(cb) = state
        .callbacks
        .get(CallbackKind::OauthbearerTokenRefresh)
        .map(Zval::shallow_clone)
    else {
        return Ok(());
    };
    invoke(&cb, vec![this, &config.to_string()])?;
    Ok(())
}

/// librdkafka's `rd_kafka_new` check: the built-in unsecured-JWT handler and an application
/// refresh callback exclude each other.
///
/// # Errors
/// `RdKafka\Exception` (code 0, as php-rdkafka throws for a failed `rd_kafka_new`).
pub fn check_conf(config: &kafkars::Config, callbacks: &Callbacks) -> PhpResult<()> {
    if callbacks.is_set(CallbackKind::OauthbearerTokenRefresh)
        && config.get_bool("enable.sasl.oauthbearer.unsecure.jwt")
    {
        return Err(rdkafka_exception(
            "`enable.sasl.oauthbearer.unsecure.jwt` and `oauthbearer_token_refresh_cb` are \
             mutually exclusive",
            0,
        ));
    }
    Ok(())
}

/// A new client with a refresh callback asks for its first token at once (served by the
/// first `poll()`), as librdkafka does.
pub fn on_create(client: &kafkars::Client, callbacks: &Callbacks) {
    if callbacks.is_set(CallbackKind::OauthbearerTokenRefresh) {
        if let Some(o) = client.oauthbearer() {
            o.request_refresh();
        }
    }
}
