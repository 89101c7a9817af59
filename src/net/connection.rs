//! One TCP connection to one broker: framing, correlation ids, pipelining, timeouts.
//!
//! Requests are written under a write lock, each registers a one-shot waiter under its
//! correlation id first; a reader task routes every response frame to its waiter. Several
//! requests may be in flight at once (pipelining). A request that gets no answer within its
//! timeout fails with `_TIMED_OUT`; a connection that breaks fails all waiters with
//! `_TRANSPORT` and is never reused.

use crate::error::{ErrorCode, KafkaError, Result};
use crate::net::security::WriteHalf;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, Request, StrBytes};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<std::result::Result<Bytes, KafkaError>>;

#[derive(Default)]
struct Pending {
    waiters: HashMap<i32, Waiter>,
    closed: Option<KafkaError>,
}

/// Connection parameters taken from the client configuration.
#[derive(Debug, Clone)]
pub struct ConnectionOptions {
    /// `client.id`.
    pub client_id: String,
    /// `socket.connection.setup.timeout.ms`.
    pub connect_timeout: Duration,
    /// `socket.timeout.ms`: default timeout of a request.
    pub request_timeout: Duration,
    /// `receive.message.max.bytes`: largest response frame accepted.
    pub max_frame: usize,
    /// Counters of this broker for statistics.
    pub stats: Option<Arc<crate::stats::BrokerStats>>,
    /// The instance's logger.
    pub log: Option<Arc<crate::log::Logger>>,
    /// librdkafka's broker name (`host:port/id`) for log lines.
    pub name: String,
    /// `security.protocol`: TLS and SASL of the client instance.
    pub security: Arc<crate::net::Security>,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            client_id: "rdkafka".into(),
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            max_frame: 100_000_000,
            stats: None,
            log: None,
            name: String::new(),
            security: Arc::new(crate::net::Security::plaintext()),
        }
    }
}

/// A connection to one broker (`host:port`).
pub struct Connection {
    addr: String,
    writer: tokio::sync::Mutex<WriteHalf>,
    pending: Arc<Mutex<Pending>>,
    next_id: AtomicI32,
    versions: Mutex<HashMap<i16, (i16, i16)>>,
    opts: ConnectionOptions,
    closed: Arc<AtomicBool>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .finish()
    }
}

/// `Produce`, `Fetch` … for log lines.
fn api_name(key: i16) -> String {
    ApiKey::try_from(key)
        .map(|k| format!("{k:?}").trim_end_matches("Key").to_string())
        .unwrap_or_else(|_| format!("ApiKey{key}"))
}

/// An I/O error's text as librdkafka shows it (`strerror`): "Connection refused", without
/// Rust's " (os error 111)".
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(n) => text
            .strip_suffix(&format!(" (os error {n})"))
            .map_or_else(|| text.clone(), str::to_string),
        None => text,
    }
}

fn transport(addr: &str, what: impl std::fmt::Display) -> KafkaError {
    KafkaError::with_message(ErrorCode::TRANSPORT, format!("{addr}: {what}"))
}

impl Connection {
    /// Connects and negotiates API versions.
    ///
    /// # Errors
    /// `_TRANSPORT` when the broker cannot be reached or the handshake fails, `_TIMED_OUT`
    /// when connecting takes longer than `connect_timeout`.
    pub async fn connect(addr: &str, opts: ConnectionOptions) -> Result<Arc<Connection>> {
        let stream = match tokio::time::timeout(opts.connect_timeout, TcpStream::connect(addr))
            .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(transport(addr, format!("Connect failed: {}", strerror(&e)))),
            Err(_) => {
                return Err(KafkaError::with_message(
                    ErrorCode::TRANSPORT,
                    format!("{addr}: Connection setup timed out"),
                ))
            }
        };
        let _ = stream.set_nodelay(true);
        let security = opts.security.clone();
        let (mut reader, writer) =
            match tokio::time::timeout(opts.connect_timeout, security.wrap(addr, stream)).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(KafkaError::with_message(
                        ErrorCode::TRANSPORT,
                        format!("{addr}: Connection setup timed out in state SSL_HANDSHAKE"),
                    ))
                }
            };
        let pending = Arc::new(Mutex::new(Pending::default()));
        let closed = Arc::new(AtomicBool::new(false));
        let conn = Arc::new(Connection {
            addr: addr.to_string(),
            writer: tokio::sync::Mutex::new(writer),
            pending: pending.clone(),
            next_id: AtomicI32::new(1),
            versions: Mutex::new(HashMap::new()),
            opts: opts.clone(),
            closed: closed.clone(),
        });
        let raddr = addr.to_string();
        let max_frame = opts.max_frame;
        let rstats = opts.stats.clone();
        let rlog = opts.log.clone();
        let rname = opts.name.clone();
        tokio::spawn(async move {
            let err = loop {
                let size = match reader.read_i32().await {
                    Ok(s) => s,
                    Err(e) => break transport(&raddr, format!("Disconnected ({e})")),
                };
                if size < 4 || size as usize > max_frame {
                    break transport(&raddr, format!("Invalid response size {size}"));
                }
                let mut buf = BytesMut::zeroed(size as usize);
                if let Err(e) = reader.read_exact(&mut buf).await {
                    break transport(&raddr, format!("Disconnected ({e})"));
                }
                let body = buf.freeze();
                let cid = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let waiter = pending.lock().ok().and_then(|mut p| p.waiters.remove(&cid));
                if let Some(w) = waiter {
                    let _ = w.send(Ok(body));
                }
            };
            closed.store(true, Ordering::SeqCst);
            if let Some(s) = &rstats {
                s.disconnects.fetch_add(1, Ordering::Relaxed);
                let (_, up_for) = s.set_state(crate::stats::BrokerState::Down);
                if let Some(l) = &rlog {
                    l.debug(
                        crate::log::Ctx::Broker,
                        "FAIL",
                        &rname,
                        format_args!(
                            "{rname}: {} (after {}ms in state UP)",
                            err.message,
                            up_for.as_millis()
                        ),
                    );
                }
            }
            if let Ok(mut p) = pending.lock() {
                p.closed = Some(err.clone());
                for (_, w) in p.waiters.drain() {
                    let _ = w.send(Err(err.clone()));
                }
            }
        });
        conn.negotiate_versions().await?;
        if let Some(sasl) = security.sasl() {
            crate::net::sasl::reauth::authenticate(&conn, sasl.clone()).await?;
        }
        Ok(conn)
    }

    /// The `host:port` this connection goes to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether the connection broke; a closed connection is never reused.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    async fn negotiate_versions(&self) -> Result<()> {
        let mut req = ApiVersionsRequest::default();
        req.client_software_name = StrBytes::from_static_str("kafkars");
        req.client_software_version = StrBytes::from_static_str(crate::VERSION);
        let mut resp = self
            .send_versioned(&req, 3, self.opts.connect_timeout)
            .await;
        if matches!(&resp, Ok(r) if r.error_code == 35) || resp.is_err() && !self.is_closed() {
            resp = self
                .send_versioned(&ApiVersionsRequest::default(), 0, self.opts.connect_timeout)
                .await;
        }
        let resp = resp?;
        if resp.error_code != 0 {
            return Err(KafkaError::with_message(
                ErrorCode::from_kafka(resp.error_code),
                format!("{}: ApiVersionRequest failed", self.addr),
            ));
        }
        let mut v = self
            .versions
            .lock()
            .map_err(|_| KafkaError::new(ErrorCode::FAIL))?;
        for k in resp.api_keys {
            v.insert(k.api_key, (k.min_version, k.max_version));
        }
        Ok(())
    }

    /// Highest version of `R` both sides support, capped at `cap`.
    ///
    /// # Errors
    /// `_UNSUPPORTED_FEATURE` when the broker does not support the API in that range.
    pub fn version<R: Request>(&self, cap: i16) -> Result<i16> {
        let theirs = self
            .versions
            .lock()
            .ok()
            .and_then(|v| v.get(&R::KEY).copied());
        let (bmin, bmax) = theirs.unwrap_or((-1, -1));
        let max = bmax.min(cap).min(R::VERSIONS.max);
        let min = bmin.max(R::VERSIONS.min);
        if theirs.is_none() || max < min {
            return Err(KafkaError::with_message(
                ErrorCode::UNSUPPORTED_FEATURE,
                format!("{}: broker does not support API key {}", self.addr, R::KEY),
            ));
        }
        Ok(max)
    }

    fn frame<R: Request>(&self, req: &R, version: i16, cid: i32) -> Result<Bytes> {
        let key = ApiKey::try_from(R::KEY).map_err(|_| KafkaError::new(ErrorCode::INVALID_ARG))?;
        let mut header = RequestHeader::default();
        header.request_api_key = R::KEY;
        header.request_api_version = version;
        header.correlation_id = cid;
        header.client_id = Some(StrBytes::from_string(self.opts.client_id.clone()));
        let mut buf = BytesMut::with_capacity(64);
        buf.put_i32(0);
        let enc = |e: anyhow::Error| {
            KafkaError::with_message(ErrorCode::INVALID_ARG, format!("encode: {e}"))
        };
        header
            .encode(&mut buf, key.request_header_version(version))
            .map_err(enc)?;
        req.encode(&mut buf, version).map_err(enc)?;
        let len = (buf.len() - 4) as i32;
        buf[0..4].copy_from_slice(&len.to_be_bytes());
        Ok(buf.freeze())
    }

    async fn write(&self, frame: &[u8]) -> Result<()> {
        let mut w = self.writer.lock().await;
        // flush: a TLS stream may hold the last record back; a TCP half returns at once.
        if let Err(e) = async {
            w.write_all(frame).await?;
            w.flush().await
        }
        .await
        {
            self.closed.store(true, Ordering::SeqCst);
            return Err(transport(&self.addr, format!("Send failed: {e}")));
        }
        Ok(())
    }

    /// Sends `req` at `version` and waits for its response, at most `timeout`.
    ///
    /// # Errors
    /// `_TRANSPORT` if the connection breaks, `_TIMED_OUT` after `timeout`, `_BAD_MSG` when the
    /// response does not decode.
    pub async fn send_versioned<R: Request>(
        &self,
        req: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response> {
        let cid = self.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = self.frame(req, version, cid)?;
        let rx = self.wait_for(cid)?;
        if let Err(e) = self.write(&frame).await {
            self.stop_waiting(cid);
            if let Some(s) = &self.opts.stats {
                s.txerrs.fetch_add(1, Ordering::Relaxed);
            }
            return Err(e);
        }
        let sent_at = std::time::Instant::now();
        if let Some(s) = &self.opts.stats {
            s.sent(frame.len());
        }
        if let Some(l) = self.opts.log.as_ref() {
            l.debug(
                crate::log::Ctx::Protocol,
                "SEND",
                &self.opts.name,
                format_args!(
                    "{}: Sent {}Request (v{version}, {} bytes, CorrId {cid})",
                    self.opts.name,
                    api_name(R::KEY),
                    frame.len()
                ),
            );
        }
        let body = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(r))) => {
                if let Some(s) = &self.opts.stats {
                    s.received(r.len() + 4, sent_at.elapsed());
                }
                r
            }
            Ok(Ok(Err(e))) => {
                if let Some(s) = &self.opts.stats {
                    s.unanswered(false);
                }
                return Err(e);
            }
            Ok(Err(_)) => {
                if let Some(s) = &self.opts.stats {
                    s.unanswered(false);
                }
                return Err(transport(&self.addr, "Disconnected"));
            }
            Err(_) => {
                self.stop_waiting(cid);
                if let Some(s) = &self.opts.stats {
                    s.unanswered(true);
                }
                if let Some(l) = self.opts.log.as_ref() {
                    l.log(
                        crate::log::level::WARNING,
                        "REQTMOUT",
                        &self.opts.name,
                        format_args!(
                            "{}: Timed out {}Request in flight (after {}ms, timeout #{})",
                            self.opts.name,
                            api_name(R::KEY),
                            timeout.as_millis(),
                            self.opts
                                .stats
                                .as_ref()
                                .map_or(0, |s| s.req_timeouts.load(Ordering::Relaxed) - 1)
                        ),
                    );
                }
                return Err(KafkaError::with_message(
                    ErrorCode::TIMED_OUT,
                    format!(
                        "{}: request timed out after {} ms",
                        self.addr,
                        timeout.as_millis()
                    ),
                ));
            }
        };
        decode_response::<R>(body, version)
    }

    /// Sends `req` at the best common version (capped at `cap`) with the default timeout.
    ///
    /// # Errors
    /// As [`Connection::send_versioned`], plus `_UNSUPPORTED_FEATURE`.
    pub async fn send<R: Request>(&self, req: &R, cap: i16) -> Result<R::Response> {
        let v = self.version::<R>(cap)?;
        self.send_versioned(req, v, self.opts.request_timeout).await
    }

    /// Sends a request the broker does not answer (Produce with acks=0).
    ///
    /// # Errors
    /// `_TRANSPORT` if writing fails.
    pub async fn send_no_response<R: Request>(&self, req: &R, version: i16) -> Result<()> {
        let cid = self.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = self.frame(req, version, cid)?;
        self.write(&frame).await
    }
}

/// Exclusive use of a connection: nothing else is written while it is held. SASL
/// authentication and re-authentication (KIP-368) need it: after a SaslHandshake the broker
/// reads the next frames as SASL tokens.
pub(crate) struct Exclusive<'a> {
    conn: &'a Connection,
    w: tokio::sync::MutexGuard<'a, WriteHalf>,
}

impl Exclusive<'_> {
    /// The broker's `host:port`.
    pub(crate) fn addr(&self) -> &str {
        &self.conn.addr
    }

    /// As [`Connection::version`].
    pub(crate) fn version<R: Request>(&self, cap: i16) -> Result<i16> {
        self.conn.version::<R>(cap)
    }

    /// Sends `req` and waits for its answer (earlier pipelined answers arrive first).
    pub(crate) async fn send<R: Request>(
        &mut self,
        req: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response> {
        let conn = self.conn;
        let cid = conn.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = conn.frame(req, version, cid)?;
        let rx = conn.wait_for(cid)?;
        let w = &mut self.w;
        if let Err(e) = async {
            w.write_all(&frame).await?;
            w.flush().await
        }
        .await
        {
            conn.closed.store(true, Ordering::SeqCst);
            conn.stop_waiting(cid);
            return Err(transport(&conn.addr, format!("Send failed: {e}")));
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(r)) => decode_response::<R>(r?, version),
            Ok(Err(_)) => Err(transport(&conn.addr, "Disconnected")),
            Err(_) => {
                conn.stop_waiting(cid);
                conn.closed.store(true, Ordering::SeqCst);
                Err(KafkaError::with_message(
                    ErrorCode::TIMED_OUT,
                    format!(
                        "{}: SASL authentication timed out after {} ms",
                        conn.addr,
                        timeout.as_millis()
                    ),
                ))
            }
        }
    }
}

impl Connection {
    /// Registers a waiter for the answer with correlation id `cid`.
    ///
    /// # Errors
    /// The error that closed the connection, if it is closed.
    fn wait_for(&self, cid: i32) -> Result<oneshot::Receiver<Result<Bytes>>> {
        let (tx, rx) = oneshot::channel();
        let mut p = self
            .pending
            .lock()
            .map_err(|_| KafkaError::new(ErrorCode::FAIL))?;
        if let Some(e) = &p.closed {
            return Err(e.clone());
        }
        p.waiters.insert(cid, tx);
        Ok(rx)
    }

    /// Forgets the waiter for `cid` (its request failed or timed out).
    fn stop_waiting(&self, cid: i32) {
        if let Ok(mut p) = self.pending.lock() {
            p.waiters.remove(&cid);
        }
    }

    /// Holds the connection's write side until the returned guard is dropped.
    pub(crate) async fn exclusive(&self) -> Exclusive<'_> {
        Exclusive {
            conn: self,
            w: self.writer.lock().await,
        }
    }

    /// `socket.connection.setup.timeout.ms` of this connection.
    pub(crate) fn setup_timeout(&self) -> Duration {
        self.opts.connect_timeout
    }

    /// Marks the connection unusable (a failed re-authentication); the next request for this
    /// broker opens a new one.
    pub(crate) fn mark_closed(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

fn decode_response<R: Request>(mut body: Bytes, version: i16) -> Result<R::Response> {
    let key = ApiKey::try_from(R::KEY).map_err(|_| KafkaError::new(ErrorCode::BAD_MSG))?;
    let bad =
        |e: anyhow::Error| KafkaError::with_message(ErrorCode::BAD_MSG, format!("decode: {e}"));
    ResponseHeader::decode(&mut body, key.response_header_version(version)).map_err(bad)?;
    let resp = R::Response::decode(&mut body, version).map_err(bad)?;
    let _ = body.remaining();
    Ok(resp)
}
