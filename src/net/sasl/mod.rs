//! SASL authentication of a connection (`security.protocol=sasl_plaintext|sasl_ssl`):
//! SaslHandshake v1 then SaslAuthenticate v0..v2 (KIP-152), with PLAIN, SCRAM-SHA-256/512
//! and OAUTHBEARER.
//!
//! The exchange runs on an `Exclusive` hold of the connection: nothing else is written
//! between its requests, which re-authentication (KIP-368) needs since a broker reads the
//! frames after a SaslHandshake as SASL tokens. When SaslAuthenticate v1+ returns a session
//! lifetime, the connection re-authenticates at 90% of it (see `connection.rs`).

pub mod oauthbearer;
pub(crate) mod reauth;
pub mod scram;

use crate::config::Config;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::net::connection::Exclusive;
use bytes::Bytes;
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::StrBytes;
pub use oauthbearer::OauthBearer;
use scram::{Scram, ScramHash};
use std::sync::Arc;
use std::time::Duration;

/// `sasl.mechanisms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// PLAIN (RFC 4616).
    Plain,
    /// SCRAM-SHA-256 or SCRAM-SHA-512.
    Scram(ScramHash),
    /// OAUTHBEARER (RFC 7628).
    OauthBearer,
}

impl Mechanism {
    /// The name sent in SaslHandshake.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Scram(ScramHash::Sha256) => "SCRAM-SHA-256",
            Mechanism::Scram(ScramHash::Sha512) => "SCRAM-SHA-512",
            Mechanism::OauthBearer => "OAUTHBEARER",
        }
    }
}

/// The SASL settings of a client instance.
#[derive(Debug)]
pub struct Sasl {
    mechanism: Mechanism,
    username: String,
    password: String,
    oauth: Option<Arc<OauthBearer>>,
}

fn auth_error(addr: &str, what: impl std::fmt::Display) -> KafkaError {
    KafkaError::with_message(
        ErrorCode::AUTHENTICATION,
        format!("{addr}: SASL authentication error: {what}"),
    )
}

impl Sasl {
    /// From `sasl.mechanisms`, `sasl.username`, `sasl.password`, `sasl.oauthbearer.config`,
    /// `enable.sasl.oauthbearer.unsecure.jwt`.
    ///
    /// # Errors
    /// `_INVALID_ARG` for an unknown mechanism or missing credentials, `_NOT_IMPLEMENTED` for
    /// GSSAPI (Kerberos) and `sasl.oauthbearer.method=oidc`.
    pub fn from_config(conf: &Config) -> Result<Sasl> {
        let name = conf.get_str("sasl.mechanisms").unwrap_or_default();
        let mechanism =
            match name.trim().to_ascii_uppercase().as_str() {
                "PLAIN" => Mechanism::Plain,
                "SCRAM-SHA-256" => Mechanism::Scram(ScramHash::Sha256),
                "SCRAM-SHA-512" => Mechanism::Scram(ScramHash::Sha512),
                "OAUTHBEARER" => Mechanism::OauthBearer,
                "GSSAPI" => return Err(KafkaError::with_message(
                    ErrorCode::NOT_IMPLEMENTED,
                    "sasl.mechanisms=GSSAPI (Kerberos) is not supported by kafkars: use PLAIN, \
                     SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
                )),
                other => {
                    return Err(KafkaError::with_message(
                        ErrorCode::INVALID_ARG,
                        format!(
                        "Unsupported SASL mechanism: {other} (supported: PLAIN, SCRAM-SHA-256, \
                         SCRAM-SHA-512, OAUTHBEARER)"
                    ),
                    ))
                }
            };
        let username = conf.get_str("sasl.username").unwrap_or_default();
        let password = conf.get_str("sasl.password").unwrap_or_default();
        let mut oauth = None;
        match mechanism {
            Mechanism::Plain | Mechanism::Scram(_) if username.is_empty() => {
                return Err(KafkaError::with_message(
                    ErrorCode::INVALID_ARG,
                    format!(
                        "sasl.username and sasl.password must be set for SASL/{}",
                        mechanism.name()
                    ),
                ))
            }
            Mechanism::OauthBearer => {
                if conf.get("sasl.oauthbearer.method").as_deref() == Some("oidc") {
                    return Err(KafkaError::with_message(
                        ErrorCode::NOT_IMPLEMENTED,
                        "sasl.oauthbearer.method=oidc is not supported by kafkars yet: set \
                         tokens with oauthbearerSetToken() from a token refresh callback",
                    ));
                }
                let config = conf.get_str("sasl.oauthbearer.config").unwrap_or_default();
                let unsecure = conf.get_bool("enable.sasl.oauthbearer.unsecure.jwt");
                oauth = Some(Arc::new(OauthBearer::new(&config, unsecure)?));
            }
            _ => {}
        }
        Ok(Sasl {
            mechanism,
            username,
            password,
            oauth,
        })
    }

    /// The mechanism.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The OAUTHBEARER token holder, when that is the mechanism.
    pub fn oauthbearer(&self) -> Option<&Arc<OauthBearer>> {
        self.oauth.as_ref()
    }

    /// Authenticates the connection; returns the session lifetime when the broker set one.
    ///
    /// # Errors
    /// `_AUTHENTICATION` with the broker's message (wrong password, mechanism not enabled,
    /// bad token), `_UNSUPPORTED_FEATURE` when the broker has no SaslHandshake v1, and
    /// transport errors.
    pub(crate) async fn authenticate(
        &self,
        conn: &mut Exclusive<'_>,
        timeout: Duration,
    ) -> Result<Option<Duration>> {
        let addr = conn.addr().to_string();
        let hs_version = conn.version::<SaslHandshakeRequest>(1)?;
        if hs_version < 1 {
            return Err(KafkaError::with_message(
                ErrorCode::UNSUPPORTED_FEATURE,
                format!("{addr}: the broker does not support SaslHandshake v1 (Kafka < 1.0)"),
            ));
        }
        let mut hs = SaslHandshakeRequest::default();
        hs.mechanism = StrBytes::from_static_str(self.mechanism.name());
        let resp = conn.send(&hs, hs_version, timeout).await?;
        if resp.error_code != 0 {
            let enabled: Vec<&str> = resp.mechanisms.iter().map(|m| m.as_str()).collect();
            let code = ErrorCode::from_kafka(resp.error_code);
            return Err(auth_error(
                &addr,
                format!(
                    "SASL handshake failed: {} (mechanism {} requested; the broker's enabled \
                     mechanisms: {})",
                    code.description(),
                    self.mechanism.name(),
                    enabled.join(",")
                ),
            ));
        }
        let auth_version = conn.version::<SaslAuthenticateRequest>(2)?;
        let step = |bytes: Vec<u8>| {
            let mut r = SaslAuthenticateRequest::default();
            r.auth_bytes = Bytes::from(bytes);
            r
        };
        let check = |resp: &kafka_protocol::messages::SaslAuthenticateResponse| {
            if resp.error_code == 0 {
                return Ok(());
            }
            let msg = resp
                .error_message
                .as_ref()
                .map(|m| m.to_string())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| {
                    ErrorCode::from_kafka(resp.error_code)
                        .description()
                        .to_string()
                });
            Err(auth_error(&addr, msg))
        };
        let lifetime = |ms: i64| (ms > 0).then(|| Duration::from_millis(ms as u64));
        match self.mechanism {
            Mechanism::Plain => {
                let mut msg = Vec::with_capacity(self.username.len() + self.password.len() + 2);
                msg.push(0);
                msg.extend_from_slice(self.username.as_bytes());
                msg.push(0);
                msg.extend_from_slice(self.password.as_bytes());
                let resp = conn.send(&step(msg), auth_version, timeout).await?;
                check(&resp)?;
                Ok(lifetime(resp.session_lifetime_ms))
            }
            Mechanism::Scram(hash) => {
                let mut scram = Scram::new(hash, &self.username, &self.password);
                let resp = conn
                    .send(&step(scram.client_first()), auth_version, timeout)
                    .await?;
                check(&resp)?;
                let fin = scram
                    .client_final(&resp.auth_bytes)
                    .map_err(|e| auth_error(&addr, e))?;
                let resp = conn.send(&step(fin), auth_version, timeout).await?;
                check(&resp)?;
                scram
                    .verify_server_final(&resp.auth_bytes)
                    .map_err(|e| auth_error(&addr, e))?;
                Ok(lifetime(resp.session_lifetime_ms))
            }
            Mechanism::OauthBearer => {
                let oauth = self
                    .oauth
                    .as_ref()
                    .ok_or_else(|| KafkaError::new(ErrorCode::STATE))?;
                let token = oauth.token(timeout).await.map_err(|e| {
                    KafkaError::with_message(e.code, format!("{addr}: {}", e.message))
                })?;
                let resp = conn
                    .send(
                        &step(OauthBearer::client_first(&token)),
                        auth_version,
                        timeout,
                    )
                    .await?;
                check(&resp)?;
                if !resp.auth_bytes.is_empty() {
                    // RFC 7628 3.2.2: the server's error JSON; answer with a lone %x01 and
                    // the broker then fails the exchange with its message.
                    let detail = String::from_utf8_lossy(&resp.auth_bytes).to_string();
                    let resp = conn.send(&step(vec![1]), auth_version, timeout).await?;
                    check(&resp)?;
                    return Err(auth_error(&addr, detail));
                }
                Ok(lifetime(resp.session_lifetime_ms))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(pairs: &[(&str, &str)]) -> Config {
        let mut c = Config::new();
        for (k, v) in pairs {
            c.set(k, v).unwrap();
        }
        c
    }

    #[test]
    fn mechanisms_from_config() {
        let s = Sasl::from_config(&conf(&[
            ("sasl.mechanism", "scram-sha-512"),
            ("sasl.username", "u"),
            ("sasl.password", "p"),
        ]))
        .unwrap();
        assert_eq!(s.mechanism().name(), "SCRAM-SHA-512");
        let e = Sasl::from_config(&conf(&[])).unwrap_err();
        assert_eq!(e.code, ErrorCode::NOT_IMPLEMENTED, "GSSAPI is the default");
        let e = Sasl::from_config(&conf(&[("sasl.mechanisms", "PLAIN")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_ARG);
        let e = Sasl::from_config(&conf(&[("sasl.mechanisms", "NTLM")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_ARG);
        let s = Sasl::from_config(&conf(&[
            ("sasl.mechanisms", "OAUTHBEARER"),
            ("enable.sasl.oauthbearer.unsecure.jwt", "true"),
            ("sasl.oauthbearer.config", "principal=admin"),
        ]))
        .unwrap();
        assert!(s.oauthbearer().is_some());
        assert!(Sasl::from_config(&conf(&[
            ("sasl.mechanisms", "OAUTHBEARER"),
            ("enable.sasl.oauthbearer.unsecure.jwt", "true"),
        ]))
        .is_err());
    }
}
