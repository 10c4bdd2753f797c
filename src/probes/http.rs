//! A tiny HTTP/1.0 GET client over a blocking `TcpStream`, with one deadline for the whole exchange.
//!
//! Enough for health endpoints on localhost (felix `/readiness`): one request, `Connection: close`,
//! the status code and the head of the body. No redirects, no TLS. The response is parsed by
//! `gather::http`, the parser the Docker API client uses too.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A reply larger than this is cut: only the status and the body's head matter.
const MAX_REPLY_BYTES: usize = 64 * 1024;

/// What the server answered.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpReply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why there was no usable answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HttpError {
    #[error("connection refused (nothing listens on {0})")]
    Refused(SocketAddr),
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("{0}")]
    Io(String),
    #[error("the reply is not HTTP: {0}")]
    Malformed(String),
}

/// `GET path` on `addr`; connecting, sending and reading all share one `timeout`.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<HttpReply, HttpError> {
    let deadline = Instant::now() + timeout;
    let remaining = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(HttpError::Timeout(timeout))
    };
    let io_error = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => HttpError::Refused(addr),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            HttpError::Timeout(timeout)
        }
        _ => HttpError::Io(e.to_string()),
    };
    let mut stream = TcpStream::connect_timeout(&addr, remaining()?).map_err(io_error)?;
    stream
        .set_write_timeout(Some(remaining()?))
        .map_err(io_error)?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: nodecheck/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream.write_all(request.as_bytes()).map_err(io_error)?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        stream
            .set_read_timeout(Some(remaining()?))
            .map_err(io_error)?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                reply.extend_from_slice(&buf[..n]);
                if reply.len() >= MAX_REPLY_BYTES || crate::gather::http::is_complete(&reply) {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // A reset after a complete status line still leaves a usable answer.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !reply.is_empty() => break,
            Err(e) => return Err(io_error(e)),
        }
    }
    if reply.is_empty() {
        return Err(HttpError::Malformed(
            "the connection closed without a reply".to_string(),
        ));
    }
    parse_response(&reply).map_err(HttpError::Malformed)
}

/// Parses `HTTP/1.x NNN reason\r\n headers \r\n\r\n body`; a reply cut before the end of its
/// headers still gives its status, with an empty body.
pub fn parse_response(reply: &[u8]) -> Result<HttpReply, String> {
    let (status, body) = crate::gather::http::parse_response(reply)?;
    Ok(HttpReply {
        status,
        body: body.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_body() {
        let r = parse_response(
            b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nnot ready\n",
        )
        .unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(r.body, b"not ready\n");
    }

    #[test]
    fn rejects_non_http() {
        assert!(parse_response(b"SSH-2.0-OpenSSH_9.2\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 abc\r\n\r\n").is_err());
    }
}
