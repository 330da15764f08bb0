//! The walkthrough's `curl -g -6 http://[addr]/`: an HTTP/1.1 GET over IPv6 only, with
//! connect and total time-outs, returning the status, a few headers, the first bytes of
//! the body and the timings.
//!
//! ```no_run
//! # async fn f() -> Result<(), eks6::probe::ProbeError> {
//! use eks6::probe::{probe, ProbeOptions};
//! let answer = probe("2600:1f13:812:0:46f9::1", &ProbeOptions::default()).await?;
//! println!("{} in {} ms", answer.status_line, answer.total_ms);
//! # Ok(()) }
//! ```

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::ErrorKind;
use crate::net::{NetError, ScopedIpv6Addr, bracketed_url};

/// How to probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeOptions {
    /// TCP port (default 80).
    pub port: u16,
    /// Path and query (default `/`).
    pub path: String,
    /// Limit for the TCP connect (default 5 s).
    pub connect_timeout: Duration,
    /// Limit for the whole request (default 10 s).
    pub total_timeout: Duration,
    /// How many body bytes to keep (default 512).
    pub body_limit: usize,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            port: 80,
            path: "/".into(),
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            body_limit: 512,
        }
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeAnswer {
    /// The URL fetched, bracketed (`http://[2600::1]:8080/`).
    pub url: String,
    /// The address connected to.
    pub address: String,
    /// The status line, e.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// The status code.
    pub status: u16,
    /// A few headers: `server`, `content-type`, `content-length`, `date`.
    pub headers: Vec<(String, String)>,
    /// The first bytes of the body (lossy UTF-8).
    pub body: String,
    /// Milliseconds to connect.
    pub connect_ms: u64,
    /// Milliseconds to the first byte of the answer.
    pub first_byte_ms: u64,
    /// Milliseconds in all.
    pub total_ms: u64,
}

/// Why a probe failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The target is not IPv6 (an IPv4 address, or a name with no IPv6 address).
    #[error("probe target {target:?}: {reason}")]
    Target {
        /// The target as given.
        target: String,
        /// Why.
        reason: String,
    },
    /// The address or URL is malformed.
    #[error(transparent)]
    Address(#[from] NetError),
    /// Connection refused (curl's exit 7).
    #[error("connection to {address} refused: nothing listens on port {port}")]
    Refused {
        /// The address.
        address: String,
        /// The port.
        port: u16,
    },
    /// No connection or no answer within the limit (curl's exit 28).
    #[error("{phase} to {address} timed out after {limit:?}")]
    Timeout {
        /// `connect` or `request`.
        phase: &'static str,
        /// The address.
        address: String,
        /// The limit.
        limit: Duration,
    },
    /// Another network error (unreachable, reset, a malformed answer).
    #[error("probe of {address} failed: {source}")]
    Io {
        /// The address.
        address: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl ProbeError {
    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Target { .. } => ErrorKind::ProbeTarget,
            Self::Address(e) => e.kind(),
            Self::Refused { .. } => ErrorKind::ProbeRefused,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Io { .. } => ErrorKind::ProbeNetwork,
        }
    }
}

impl crate::error::ErrorDetails for ProbeError {
    fn kind(&self) -> ErrorKind {
        ProbeError::kind(self)
    }
    fn inner(&self) -> Option<&dyn crate::error::ErrorDetails> {
        match self {
            Self::Address(e) => Some(e),
            _ => None,
        }
    }
}

/// Resolves the target to one IPv6 socket address (and its zone id, if any).
async fn resolve(target: &str, port: u16) -> Result<(SocketAddr, Ipv6Addr, Option<String>), ProbeError> {
    if target.contains(':') {
        let scoped: ScopedIpv6Addr = target.parse()?;
        let scope_id = match scoped.zone() {
            Some(z) => zone_index(z).ok_or_else(|| ProbeError::Target {
                target: target.into(),
                reason: format!("no network interface named {z:?}"),
            })?,
            None => 0,
        };
        let sa = SocketAddr::V6(SocketAddrV6::new(scoped.addr(), port, 0, scope_id));
        return Ok((sa, scoped.addr(), scoped.zone().map(str::to_string)));
    }
    if target.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(ProbeError::Target {
            target: target.into(),
            reason: "an IPv4 address; the probe goes over IPv6 only (as curl -6)".into(),
        });
    }
    let addrs = tokio::net::lookup_host((target, port))
        .await
        .map_err(|e| ProbeError::Target { target: target.into(), reason: format!("name lookup failed: {e}") })?;
    for a in addrs {
        if let SocketAddr::V6(v6) = a {
            return Ok((a, *v6.ip(), None));
        }
    }
    Err(ProbeError::Target { target: target.into(), reason: "the name has no IPv6 (AAAA) address".into() })
}

/// The interface index of a zone name (`eth0`) or number.
fn zone_index(zone: &str) -> Option<u32> {
    if let Ok(n) = zone.parse() {
        return Some(n);
    }
    let path = format!("/sys/class/net/{zone}/ifindex");
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// GETs `http://[target]:port/path` over IPv6.
pub async fn probe(target: &str, opts: &ProbeOptions) -> Result<ProbeAnswer, ProbeError> {
    let (sa, addr, zone) = resolve(target, opts.port).await?;
    let host = match &zone {
        Some(z) => format!("{addr}%{z}"),
        None => addr.to_string(),
    };
    let url = bracketed_url("http", &host, Some(opts.port.into()), &opts.path)?;
    let address = crate::net::socket_text(&host, opts.port.into())?;
    let start = Instant::now();
    let mut stream = match tokio::time::timeout(opts.connect_timeout, TcpStream::connect(sa)).await {
        Err(_) => return Err(ProbeError::Timeout { phase: "connect", address, limit: opts.connect_timeout }),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(ProbeError::Refused { address, port: opts.port });
        }
        Ok(Err(source)) => return Err(ProbeError::Io { address, source }),
        Ok(Ok(s)) => s,
    };
    let connect_ms = start.elapsed().as_millis() as u64;
    // The Host header carries the bracketed address, without the zone (RFC 9110).
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: [{addr}]:{}\r\nUser-Agent: eks6/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        opts.path,
        opts.port,
        env!("CARGO_PKG_VERSION")
    );
    let remaining = opts.total_timeout.saturating_sub(start.elapsed());
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        let mut first_byte = None;
        let limit = 16 * 1024 + opts.body_limit;
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            first_byte.get_or_insert_with(|| start.elapsed().as_millis() as u64);
            buf.extend_from_slice(&chunk[..n]);
            if let Some(h) = header_end(&buf)
                && buf.len() >= h + opts.body_limit
            {
                break;
            }
            if buf.len() >= limit {
                break;
            }
        }
        Ok::<_, std::io::Error>((buf, first_byte.unwrap_or(0)))
    };
    let (buf, first_byte_ms) = match tokio::time::timeout(remaining, exchange).await {
        Err(_) => return Err(ProbeError::Timeout { phase: "request", address, limit: opts.total_timeout }),
        Ok(Err(source)) => return Err(ProbeError::Io { address, source }),
        Ok(Ok(v)) => v,
    };
    let bad = |what: &str| ProbeError::Io {
        address: address.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string()),
    };
    let head_end = header_end(&buf).ok_or_else(|| bad("the answer has no complete HTTP header"))?;
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .filter(|_| status_line.starts_with("HTTP/"))
        .ok_or_else(|| bad("the answer does not start with an HTTP status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .filter(|(k, _)| matches!(k.as_str(), "server" | "content-type" | "content-length" | "date"))
        .collect();
    let body_bytes = &buf[head_end..];
    let body = String::from_utf8_lossy(&body_bytes[..body_bytes.len().min(opts.body_limit)]).into_owned();
    Ok(ProbeAnswer {
        url,
        address,
        status_line,
        status,
        headers,
        body,
        connect_ms,
        first_byte_ms,
        total_ms: start.elapsed().as_millis() as u64,
    })
}

/// The offset just past `\r\n\r\n`.
fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}
