//! One client connection: frames in, responses out, strictly in request order.
//!
//! ```text
//! frame = size: i32 (big endian, 0..=socket.request.max.bytes) | request header | body
//! ```
//! Requests on one connection are served one at a time, as Kafka does, so responses leave in
//! request order and pipelined requests simply wait in the socket buffer. The frame size is
//! checked before any allocation, and the buffer grows only as bytes actually arrive.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::api::{self, Response, ResponsePart};
use crate::log::FetchSlice;
use crate::state::SharedState;

/// Read granularity while a frame arrives.
const READ_CHUNK: usize = 64 * 1024;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    #[error("frame size {size} outside 0..={max} (socket.request.max.bytes)")]
    BadSize { size: i32, max: usize },
    #[error("connection closed in the middle of a frame")]
    Truncated,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Serves one connection until the client leaves, misbehaves, or the broker shuts down.
/// A request already being served when shutdown starts is finished and answered.
pub async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    state: SharedState,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let max = state.config.socket_request_max_bytes;
    let mut reader = FrameReader::default();
    loop {
        let frame = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            f = reader.read_frame(&mut stream, max) => f,
        };
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "closing connection: bad frame");
                break;
            }
        };
        match api::handle_frame(&state, peer, frame).await {
            Ok(Response::Nothing) => {}
            Ok(Response::Close) => {
                tracing::debug!(%peer, "closing connection: acks=0 produce failed");
                break;
            }
            Ok(Response::Frame(parts)) => {
                if let Err(e) = write_parts(&mut stream, &parts).await {
                    tracing::debug!(%peer, error = %e, "closing connection: write failed");
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(%peer, error = %e, "closing connection: bad request");
                break;
            }
        }
    }
    let _ = stream.shutdown().await;
}

/// Reads frames from a socket through one growing buffer: pipelined requests arriving
/// together cost one `read`, and each frame is split off the buffer without copying.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: BytesMut,
}

impl FrameReader {
    /// Reads one frame body. `Ok(None)` on a clean end of stream between frames.
    /// Cancel-safe: bytes already read stay in the buffer.
    ///
    /// # Errors
    /// Bad size, end of stream inside a frame, I/O.
    pub async fn read_frame(
        &mut self,
        stream: &mut TcpStream,
        max: usize,
    ) -> Result<Option<Bytes>, FrameError> {
        loop {
            if self.buf.len() >= 4 {
                let size = i32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
                if size < 0 || size as usize > max {
                    return Err(FrameError::BadSize { size, max });
                }
                let size = size as usize;
                if self.buf.len() >= 4 + size {
                    let _ = self.buf.split_to(4);
                    return Ok(Some(self.buf.split_to(size).freeze()));
                }
                // Grow only as far as this frame still needs, a chunk at a time.
                self.buf
                    .reserve((4 + size - self.buf.len()).min(READ_CHUNK));
            } else {
                self.buf.reserve(READ_CHUNK);
            }
            let n = stream.read_buf(&mut self.buf).await?;
            if n == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated)
                };
            }
        }
    }
}

/// Writes a response: memory parts with ordinary writes, file parts with `sendfile`.
///
/// # Errors
/// I/O; the connection is then closed (the frame size was already promised).
pub async fn write_parts(stream: &mut TcpStream, parts: &[ResponsePart]) -> io::Result<()> {
    for part in parts {
        match part {
            ResponsePart::Bytes(b) => stream.write_all(b).await?,
            ResponsePart::File(slice) => send_file(stream, slice).await?,
        }
    }
    Ok(())
}

async fn send_file(stream: &TcpStream, slice: &FetchSlice) -> io::Result<()> {
    let mut offset = slice.position as libc::off_t;
    let end = offset + slice.len as libc::off_t;
    let sock = stream.as_raw_fd();
    let file = slice.file.as_raw_fd();
    while offset < end {
        stream.writable().await?;
        let sent = stream.try_io(Interest::WRITABLE, || {
            let count = (end - offset) as usize;
            // SAFETY: both descriptors stay open for the call (the stream is borrowed, the
            // file is kept alive by the slice's Arc), and `offset` is a valid off_t we own.
            let n = unsafe { libc::sendfile(sock, file, &mut offset, count) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match sent {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "segment file shorter than the fetch slice",
                ))
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
