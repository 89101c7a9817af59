//! `security.protocol`: what wraps a broker connection — plain TCP, TLS, SASL, or both.
//!
//! Built once per client instance from its configuration (certificates are read then, so a
//! bad path fails `new Producer($conf)` rather than the first connection), and shared by all
//! of its connections.

use crate::config::Config;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::net::sasl::{OauthBearer, Sasl};
use crate::net::tls::Tls;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The read half of a broker connection.
pub type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
/// The write half of a broker connection.
pub type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// `security.protocol` with its TLS and SASL settings.
#[derive(Debug, Default)]
pub struct Security {
    tls: Option<Tls>,
    sasl: Option<Arc<Sasl>>,
    /// A configuration that did not build: every connection fails with this.
    refused: Option<KafkaError>,
}

impl Security {
    /// Plain TCP, no authentication.
    pub fn plaintext() -> Security {
        Security::default()
    }

    /// From `security.protocol` and the `ssl.*` / `sasl.*` properties.
    ///
    /// # Errors
    /// `_INVALID_ARG` for unreadable or unparsable certificates and keys or missing
    /// credentials, `_NOT_IMPLEMENTED` for what kafkars does not do (GSSAPI, PKCS#12
    /// keystores, OIDC token retrieval).
    pub fn from_config(conf: &Config) -> Result<Security> {
        let proto = conf.get("security.protocol").unwrap_or_default();
        let (tls, sasl) = match proto.as_str() {
            "plaintext" => (false, false),
            "ssl" => (true, false),
            "sasl_plaintext" => (false, true),
            "sasl_ssl" => (true, true),
            other => {
                return Err(KafkaError::with_message(
                    ErrorCode::INVALID_ARG,
                    format!("Unsupported security.protocol \"{other}\""),
                ))
            }
        };
        Ok(Security {
            tls: if tls {
                Some(Tls::from_config(conf)?)
            } else {
                None
            },
            sasl: if sasl {
                Some(Arc::new(Sasl::from_config(conf)?))
            } else {
                None
            },
            refused: None,
        })
    }

    /// Settings that fail every connection with `err`.
    pub fn refusing(err: KafkaError) -> Security {
        Security {
            refused: Some(err),
            ..Security::default()
        }
    }

    /// The SASL settings, if the protocol authenticates.
    pub fn sasl(&self) -> Option<&Arc<Sasl>> {
        self.sasl.as_ref()
    }

    /// The OAUTHBEARER token holder, if that is the mechanism.
    pub fn oauthbearer(&self) -> Option<&Arc<OauthBearer>> {
        self.sasl.as_ref().and_then(|s| s.oauthbearer())
    }

    /// Wraps a connected socket: the TLS handshake when the protocol has TLS.
    ///
    /// # Errors
    /// As [`Tls::handshake`].
    pub(crate) async fn wrap(&self, addr: &str, tcp: TcpStream) -> Result<(ReadHalf, WriteHalf)> {
        if let Some(e) = &self.refused {
            return Err(e.clone());
        }
        match &self.tls {
            None => {
                let (r, w) = tcp.into_split();
                Ok((Box::new(r), Box::new(w)))
            }
            Some(tls) => {
                let stream = tls.handshake(addr, tcp).await?;
                let (r, w) = tokio::io::split(stream);
                let (tx, rx) = tokio::sync::oneshot::channel();
                Ok((
                    Box::new(EndWithWriter {
                        inner: r,
                        writer: Some(rx),
                    }),
                    Box::new(KeepReader {
                        inner: w,
                        _alive: tx,
                    }),
                ))
            }
        }
    }
}

/// The read half of a split TLS stream that ends (EOF) once the write half is dropped.
///
/// Halves of `tokio::io::split` keep the socket open until both are gone, and the reader
/// task holds its half until the broker hangs up — minutes for an idle Kafka connection.
/// With this, dropping a [`Connection`](crate::net::Connection) closes its TLS socket as
/// dropping a TCP write half does.
struct EndWithWriter<R> {
    inner: R,
    writer: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl<R: AsyncRead + Unpin> AsyncRead for EndWithWriter<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.writer.as_mut() {
            None => return Poll::Ready(Ok(())),
            Some(rx) => {
                if Pin::new(rx).poll(cx).is_ready() {
                    self.writer = None;
                    return Poll::Ready(Ok(()));
                }
            }
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

/// The write half paired with [`EndWithWriter`]: dropping it ends the reader.
struct KeepReader<W> {
    inner: W,
    _alive: tokio::sync::oneshot::Sender<()>,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for KeepReader<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
