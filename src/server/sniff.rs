//! The connection's first bytes, looked at once: an HTTP/2 prior-knowledge preface
//! (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) is answered `505 HTTP Version Not Supported` with a line
//! saying that only HTTP/1.1 is served, where hyper's HTTP/1 server would close it silently.
//! Everything else passes through untouched; after the first read this is one branch per read.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The part of the preface that no HTTP/1 request line starts with.
const HTTP2_PREFACE_START: &[u8] = b"PRI * HTTP/2.0";

const MESSAGE: &str = "This server speaks HTTP/1.1 only: HTTP/2 (prior knowledge) is not supported.\n";

/// The whole answer to an HTTP/2 preface, written straight to the socket.
fn http2_answer() -> String {
    format!("HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{MESSAGE}", MESSAGE.len())
}

enum Phase {
    /// Nothing read yet.
    First,
    /// Writing the 505; `sent` bytes of it are out.
    Answering { answer: Vec<u8>, sent: usize },
    /// Answered: reads see the end of the stream, so hyper closes the connection.
    Answered,
    Serving,
}

/// A TCP stream whose first read is checked for an HTTP/2 preface.
pub(super) struct Sniffed {
    stream: TcpStream,
    phase: Phase,
}

impl Sniffed {
    pub(super) fn new(stream: TcpStream) -> Sniffed {
        Sniffed { stream, phase: Phase::First }
    }
}

impl AsyncRead for Sniffed {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.phase {
                Phase::Serving => return Pin::new(&mut this.stream).poll_read(cx, buf),
                Phase::First => {
                    let before = buf.filled().len();
                    ready!(Pin::new(&mut this.stream).poll_read(cx, buf))?;
                    if !buf.filled()[before..].starts_with(HTTP2_PREFACE_START) {
                        this.phase = Phase::Serving;
                        return Poll::Ready(Ok(()));
                    }
                    // The preface is ours to answer, not hyper's to parse.
                    buf.set_filled(before);
                    this.phase = Phase::Answering { answer: http2_answer().into_bytes(), sent: 0 };
                }
                Phase::Answering { answer, sent } => {
                    while *sent < answer.len() {
                        match ready!(Pin::new(&mut this.stream).poll_write(cx, &answer[*sent..])) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => *sent += n,
                        }
                    }
                    this.phase = Phase::Answered;
                }
                Phase::Answered => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl AsyncWrite for Sniffed {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, data)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_a_whole_http_1_1_response() {
        let answer = http2_answer();
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
        assert!(head.starts_with("HTTP/1.1 505 "));
        assert!(head.contains(&format!("\r\nContent-Length: {}", body.len())));
        assert!(body.contains("HTTP/1.1 only"));
    }
}
