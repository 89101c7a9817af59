//! SASL/OAUTHBEARER (RFC 7628, KIP-255): the client's token and how it is refreshed.
//!
//! Two sources, as in librdkafka:
//! - `enable.sasl.oauthbearer.unsecure.jwt=true`: the client makes an unsecured JWT
//!   (`alg: none`) itself from `sasl.oauthbearer.config` (`principal=admin
//!   [principalClaimName=sub] [scope=a,b] [scopeClaimName=scope] [lifeSeconds=3600]
//!   [extension_NAME=value]`), for development clusters that accept such tokens.
//! - otherwise the application sets tokens (`oauthbearerSetToken`, or
//!   [`OauthBearer::set_token`]) when asked by an [`Event::OauthbearerTokenRefresh`] — at the
//!   first connection and at 80% of each token's lifetime — or reports a failure.
//!
//! A connection that needs a token waits for one until its setup timeout; a failure set by
//! the application fails it with `_AUTHENTICATION` and the application's text.

use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::{Event, EventQueue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A token with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The compact-serialized token.
    pub value: String,
    /// Expiry, milliseconds since the epoch (librdkafka's `md_lifetime_ms`).
    pub expiry_ms: i64,
    /// Principal name.
    pub principal: String,
    /// SASL extensions (`key=value` pairs sent with the token).
    pub extensions: Vec<(String, String)>,
    /// When it was set (for the 80% refresh point).
    set_ms: i64,
}

impl Token {
    fn refresh_at_ms(&self) -> i64 {
        self.set_ms + (self.expiry_ms - self.set_ms) * 8 / 10
    }
}

/// The unsecured-JWT settings parsed from `sasl.oauthbearer.config`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unsecured {
    principal: String,
    principal_claim: String,
    scope: Vec<String>,
    scope_claim: String,
    life_secs: i64,
    extensions: Vec<(String, String)>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn invalid(msg: impl Into<String>) -> KafkaError {
    KafkaError::with_message(ErrorCode::INVALID_ARG, msg.into())
}

/// RFC 7628 3.1: `key = 1*(ALPHA)`, and `auth` is reserved.
fn check_extension(key: &str, value: &str) -> Result<()> {
    if key == "auth" {
        return Err(invalid(
            "Cannot explicitly set the reserved `auth` SASL/OAUTHBEARER extension key",
        ));
    }
    if let Some(bad) = key.chars().find(|c| !c.is_ascii_alphabetic()) {
        return Err(invalid(format!(
            "SASL/OAUTHBEARER extension keys must only consist of A-Z or a-z characters: \
             {key} ({bad})"
        )));
    }
    if key.is_empty() {
        return Err(invalid(
            "SASL/OAUTHBEARER extension keys must only consist of A-Z or a-z characters",
        ));
    }
    if !value
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) || matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        return Err(invalid(format!(
            "SASL/OAUTHBEARER extension values must only consist of space, horizontal tab, \
             CR, LF, and visible characters (%x21-7E): {key}"
        )));
    }
    Ok(())
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Unsecured {
    /// Parses librdkafka's `sasl.oauthbearer.config` for the unsecured JWT handler.
    fn parse(config: &str) -> Result<Unsecured> {
        let mut u = Unsecured {
            principal: String::new(),
            principal_claim: "sub".into(),
            scope: Vec::new(),
            scope_claim: "scope".into(),
            life_secs: 3600,
            extensions: Vec::new(),
        };
        for item in config.split_whitespace() {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                invalid(format!(
                    "Unrecognized sasl.oauthbearer.config value: {item} (expected key=value)"
                ))
            })?;
            match k {
                "principal" => u.principal = v.to_string(),
                "principalClaimName" => u.principal_claim = v.to_string(),
                "scope" => {
                    u.scope = v
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                }
                "scopeClaimName" => u.scope_claim = v.to_string(),
                "lifeSeconds" => {
                    u.life_secs = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        invalid(format!(
                            "Invalid sasl.oauthbearer.config: lifeSeconds must be a positive \
                             integer: {v}"
                        ))
                    })?
                }
                _ => match k.strip_prefix("extension_") {
                    Some(name) => {
                        check_extension(name, v)?;
                        u.extensions.push((name.to_string(), v.to_string()));
                    }
                    None => {
                        return Err(invalid(format!(
                            "Unrecognized sasl.oauthbearer.config value: {k}"
                        )))
                    }
                },
            }
        }
        if u.principal.is_empty() {
            return Err(invalid(
                "Invalid sasl.oauthbearer.config: no principal=<value>",
            ));
        }
        Ok(u)
    }

    /// An unsecured JWT (`{"alg":"none"}`, empty signature) valid for `life_secs`.
    fn token(&self) -> Token {
        let now = now_ms();
        let exp = now + self.life_secs * 1000;
        let mut claims = format!(
            "{{{}:{},\"iat\":{:.3},\"exp\":{:.3}",
            json_str(&self.principal_claim),
            json_str(&self.principal),
            now as f64 / 1000.0,
            exp as f64 / 1000.0
        );
        if !self.scope.is_empty() {
            let list: Vec<String> = self.scope.iter().map(|s| json_str(s)).collect();
            claims.push_str(&format!(
                ",{}:[{}]",
                json_str(&self.scope_claim),
                list.join(",")
            ));
        }
        claims.push('}');
        let value = format!(
            "{}.{}.",
            B64URL.encode(br#"{"alg":"none"}"#),
            B64URL.encode(claims.as_bytes())
        );
        Token {
            value,
            expiry_ms: exp,
            principal: self.principal.clone(),
            extensions: self.extensions.clone(),
            set_ms: now,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    token: Option<Token>,
    failure: Option<String>,
    refresh_requested: bool,
}

/// Finds the client instance's event queue (it is created after the cluster view).
type EventSource = Box<dyn Fn() -> Option<Arc<EventQueue>> + Send + Sync>;

/// The OAUTHBEARER token of one client instance.
pub struct OauthBearer {
    unsecured: Option<Unsecured>,
    config: String,
    state: Mutex<State>,
    changed: tokio::sync::Notify,
    events: Mutex<Option<EventSource>>,
}

impl std::fmt::Debug for OauthBearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OauthBearer")
            .field("unsecured_jwt", &self.unsecured.is_some())
            .finish_non_exhaustive()
    }
}

impl OauthBearer {
    /// From `sasl.oauthbearer.config` and `enable.sasl.oauthbearer.unsecure.jwt`.
    ///
    /// # Errors
    /// `_INVALID_ARG` for an unparsable unsecured-JWT config.
    pub fn new(config: &str, unsecure_jwt: bool) -> Result<OauthBearer> {
        let unsecured = if unsecure_jwt {
            Some(Unsecured::parse(config)?)
        } else {
            None
        };
        Ok(OauthBearer {
            unsecured,
            config: config.to_string(),
            state: Mutex::new(State::default()),
            changed: tokio::sync::Notify::new(),
            events: Mutex::new(None),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where refresh requests and failures go: `source` finds the instance's event queue.
    pub(crate) fn set_event_source(
        &self,
        source: impl Fn() -> Option<Arc<EventQueue>> + Send + Sync + 'static,
    ) {
        *self.events.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(source));
    }

    /// Sets a token (`rd_kafka_oauthbearer_set_token`): `expiry_ms` is the expiry time in
    /// milliseconds since the epoch.
    ///
    /// # Errors
    /// `_INVALID_ARG` for an empty value or principal, an expired token, or extensions that
    /// break RFC 7628 (odd count, reserved `auth`, bad characters).
    pub fn set_token(
        self: &Arc<Self>,
        value: &str,
        expiry_ms: i64,
        principal: &str,
        extensions: &[(String, String)],
    ) -> Result<()> {
        // librdkafka accepts an empty value (the broker then refuses it); so does this.
        if principal.is_empty() {
            return Err(invalid("A principal name must be provided"));
        }
        let now = now_ms();
        if expiry_ms <= now {
            return Err(invalid(format!(
                "Must supply an unexpired token: now={now}ms, exp={expiry_ms}ms"
            )));
        }
        for (k, v) in extensions {
            check_extension(k, v)?;
        }
        let token = Token {
            value: value.to_string(),
            expiry_ms,
            principal: principal.to_string(),
            extensions: extensions.to_vec(),
            set_ms: now,
        };
        let refresh_in = Duration::from_millis((token.refresh_at_ms() - now).max(0) as u64);
        {
            let mut st = self.lock();
            st.token = Some(token);
            st.failure = None;
            st.refresh_requested = false;
        }
        self.changed.notify_waiters();
        // Ask for the next token at 80% of this one's lifetime.
        if let Ok(handle) = crate::runtime::handle() {
            let me = Arc::downgrade(self);
            handle.spawn(async move {
                tokio::time::sleep(refresh_in).await;
                if let Some(me) = me.upgrade() {
                    if me
                        .lock()
                        .token
                        .as_ref()
                        .is_some_and(|t| t.refresh_at_ms() <= now_ms())
                    {
                        me.request_refresh();
                    }
                }
            });
        }
        Ok(())
    }

    /// Records that the application could not get a token
    /// (`rd_kafka_oauthbearer_set_token_failure`): waiting connections fail with it, and an
    /// `_AUTHENTICATION` error event says so.
    ///
    /// # Errors
    /// `_INVALID_ARG` for an empty reason.
    pub fn set_token_failure(&self, reason: &str) -> Result<()> {
        if reason.is_empty() {
            return Err(invalid("Error string must be provided"));
        }
        {
            let mut st = self.lock();
            st.failure = Some(reason.to_string());
            st.refresh_requested = false;
        }
        self.changed.notify_waiters();
        if let Some(q) = self.queue() {
            q.push_error(
                ErrorCode::AUTHENTICATION,
                format!("Failed to acquire SASL OAUTHBEARER token: {reason}"),
            );
        }
        Ok(())
    }

    fn queue(&self) -> Option<Arc<EventQueue>> {
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        (events.as_ref()?)()
    }

    /// Asks the application for a token (an [`Event::OauthbearerTokenRefresh`]), once until
    /// it answers. librdkafka asks right when a client with a refresh callback is created;
    /// the PHP binding calls this then. Nothing happens while the client has no event queue
    /// yet, nor with the built-in unsecured-JWT handler.
    pub fn request_refresh(&self) {
        if self.unsecured.is_some() {
            return;
        }
        let Some(q) = self.queue() else { return };
        {
            let mut st = self.lock();
            if st.refresh_requested {
                return;
            }
            st.refresh_requested = true;
        }
        q.push(Event::OauthbearerTokenRefresh {
            config: self.config.clone(),
        });
    }

    /// Whether tokens come from the built-in unsecured-JWT handler.
    pub fn is_unsecured_jwt(&self) -> bool {
        self.unsecured.is_some()
    }

    /// A token to authenticate with, waiting up to `timeout` for the application to set one.
    ///
    /// # Errors
    /// `_AUTHENTICATION` when the application reported a failure or set no token in time.
    pub async fn token(&self, timeout: Duration) -> Result<Token> {
        if let Some(u) = &self.unsecured {
            let mut st = self.lock();
            let fresh = st.token.as_ref().filter(|t| t.refresh_at_ms() > now_ms());
            if let Some(t) = fresh {
                return Ok(t.clone());
            }
            let t = u.token();
            st.token = Some(t.clone());
            return Ok(t);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = now_ms();
            let (token, failure) = {
                let st = self.lock();
                (
                    st.token.clone().filter(|t| t.expiry_ms > now),
                    st.failure.clone(),
                )
            };
            if let Some(t) = token {
                if t.refresh_at_ms() <= now {
                    self.request_refresh();
                }
                return Ok(t);
            }
            if let Some(f) = failure {
                return Err(KafkaError::with_message(
                    ErrorCode::AUTHENTICATION,
                    format!("Failed to acquire SASL OAUTHBEARER token: {f}"),
                ));
            }
            self.request_refresh();
            if tokio::time::timeout_at(deadline.into(), changed)
                .await
                .is_err()
            {
                return Err(KafkaError::with_message(
                    ErrorCode::AUTHENTICATION,
                    "No SASL OAUTHBEARER token: none was set (oauthbearerSetToken) before the \
                     connection setup timed out",
                ));
            }
        }
    }

    /// The client's first (and only) message: `n,,\x01auth=Bearer TOKEN\x01k=v\x01\x01`.
    pub fn client_first(token: &Token) -> Vec<u8> {
        let mut m = format!("n,,\x01auth=Bearer {}", token.value);
        for (k, v) in &token.extensions {
            m.push_str(&format!("\x01{k}={v}"));
        }
        m.push_str("\x01\x01");
        m.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsecured_config_and_token() {
        let u = Unsecured::parse("principal=alice scope=a,b lifeSeconds=60 extension_traceId=x1")
            .unwrap();
        assert_eq!(u.principal, "alice");
        assert_eq!(u.scope, vec!["a", "b"]);
        let t = u.token();
        assert_eq!(t.principal, "alice");
        assert!(t.expiry_ms - t.set_ms == 60_000);
        let parts: Vec<&str> = t.value.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(B64URL.decode(parts[0]).unwrap(), br#"{"alg":"none"}"#);
        let claims = String::from_utf8(B64URL.decode(parts[1]).unwrap()).unwrap();
        assert!(claims.starts_with(r#"{"sub":"alice","iat":"#), "{claims}");
        assert!(claims.ends_with(r#","scope":["a","b"]}"#), "{claims}");
        assert_eq!(parts[2], "");
        let first = OauthBearer::client_first(&t);
        assert!(first.starts_with(b"n,,\x01auth=Bearer eyJ"));
        assert!(first.ends_with(b"\x01traceId=x1\x01\x01"));

        assert!(Unsecured::parse("").is_err());
        assert!(Unsecured::parse("scope=x").is_err());
        assert!(Unsecured::parse("principal=a lifeSeconds=-1").is_err());
        assert!(Unsecured::parse("principal=a bogus=1").is_err());
        assert!(Unsecured::parse("principal=a extension_auth=1").is_err());
        assert!(Unsecured::parse("principal=a extension_a1=1").is_err());
    }

    #[test]
    fn set_token_validates() {
        let o = Arc::new(OauthBearer::new("", false).unwrap());
        let later = now_ms() + 60_000;
        assert_eq!(
            o.set_token("t", later, "p", &[("a1".into(), "x".into())])
                .unwrap_err()
                .message,
            "SASL/OAUTHBEARER extension keys must only consist of A-Z or a-z characters: a1 (1)"
        );
        assert!(o.set_token("t", later, "", &[]).is_err());
        assert!(o.set_token("t", now_ms() - 1, "p", &[]).is_err());
        assert!(o
            .set_token("t", later, "p", &[("auth".into(), "x".into())])
            .is_err());
        assert!(o.set_token_failure("").is_err());
        o.set_token("t", later, "p", &[("k".into(), "v".into())])
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let t = rt.block_on(o.token(Duration::from_millis(10))).unwrap();
        assert_eq!(t.value, "t");
        o.set_token_failure("no idp").unwrap();
        // A failure does not drop a still-valid token.
        assert!(rt.block_on(o.token(Duration::from_millis(10))).is_ok());
    }

    #[test]
    fn waiting_for_a_token_times_out_or_fails() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let o = OauthBearer::new("", false).unwrap();
        let e = rt.block_on(o.token(Duration::from_millis(20))).unwrap_err();
        assert_eq!(e.code, ErrorCode::AUTHENTICATION);
        o.set_token_failure("idp down").unwrap();
        let e = rt.block_on(o.token(Duration::from_millis(20))).unwrap_err();
        assert!(e.message.contains("idp down"), "{}", e.message);
    }
}
