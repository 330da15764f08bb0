//! A fault-injecting HTTP proxy between the AWS SDK and the emulator, for tests only.
//!
//! The fault suite (`tests/faults.rs`, with [`crate::fake_aws`]) answers each operation
//! with a scripted reply and no server; this proxy breaks the HTTP exchange with the
//! emulator itself, so what is tested is the whole stack as it runs against AWS: the SDK's retry classifiers reading the
//! real error bodies AWS sends (EC2's XML `RequestLimitExceeded`, EKS's 429 with
//! `x-amzn-ErrorType: ThrottlingException`), its attempt and operation time-outs, its
//! connection pool after a reset, and eks6's own recovery when an answer is lost after
//! the emulator already did the work (a create without a client token must be looked up
//! by its tags, never made twice).
//!
//! The test points a client at [`FaultProxy::endpoint`] instead of the emulator and
//! says which requests get which [`Fault`] ([`FaultProxy::inject`]). Every request is
//! identified by service and operation: EC2 and STS by the `Action` of their form
//! body, EKS by method and path (`POST /clusters` is `CreateCluster`). Requests without
//! a fault are passed on unchanged (one fresh upstream connection each, with
//! `Connection: close`) and their answers relayed whole; the client keeps its
//! connection alive as with AWS.
//!
//! ```no_run
//! use eks6_tests::emulator::Emulator;
//! use eks6_tests::proxy::{Fault, FaultProxy, op};
//! let proxy = FaultProxy::start(&Emulator::shared().endpoint);
//! proxy.inject(op("CreateVpc"), Fault::Throttle, 2);
//! // ... a client with endpoint_url = proxy.endpoint() ...
//! assert_eq!(proxy.faulted("CreateVpc"), 2);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The service a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// EC2 (query protocol: `POST /` with `Action=...`).
    Ec2,
    /// EKS (REST-JSON: `/clusters/...`).
    Eks,
    /// STS (`AssumeRole`, which the tests' account isolation needs).
    Sts,
    /// IAM (query protocol, signed for `iam`).
    Iam,
    /// Anything else.
    Other,
}

/// A request as the proxy identified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The service, from the request's SigV4 credential scope (or its shape).
    pub service: Service,
    /// The operation: `CreateVpc`, `DescribeCluster`, `AssumeRole`; for an EKS request
    /// outside the known paths `Eks:<METHOD> <path>`, for others `<METHOD> <path>`.
    pub operation: String,
}

/// What the proxy does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Not passed on; answered as AWS throttles: EC2 `503` with the XML error
    /// `RequestLimitExceeded`, EKS `429` with `x-amzn-ErrorType: ThrottlingException`,
    /// STS `400` `Throttling`.
    Throttle,
    /// Not passed on; answered with this status and the service's error shape: EC2
    /// `Unavailable` (503) or `InternalError`, EKS `ServiceUnavailableException` (503)
    /// or `ServerException`, STS `ServiceUnavailable` (503) or `InternalFailure`.
    Status(u16),
    /// Passed on after this delay (the proxy gives up if the client hangs up first).
    Latency(Duration),
    /// Not passed on; the connection is reset (RST, `SO_LINGER` 0) before any answer.
    Reset,
    /// Passed on, so the emulator does the work; then only the first half of the
    /// answer's bytes reach the client and the connection is closed. The half holds the
    /// head and part of the body for all but tiny answers; either way the answer is lost.
    CutAfterUpstream,
}

type Matcher = Box<dyn Fn(&Request) -> bool + Send + Sync>;

struct Rule {
    matcher: Matcher,
    fault: Fault,
    /// Requests it still applies to; `None` for ever.
    left: Option<usize>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    log: Vec<(Request, Option<Fault>)>,
    forwarded: BTreeMap<String, usize>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running proxy on `127.0.0.1`, served by a thread of its own (so it works under
/// `#[tokio::test]` and in plain tests alike); stopped when dropped.
pub struct FaultProxy {
    endpoint: String,
    upstream: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = lock(&self.state);
        f.debug_struct("FaultProxy")
            .field("endpoint", &self.endpoint)
            .field("upstream", &self.upstream)
            .field("rules", &s.rules.iter().map(|r| (r.fault, r.left)).collect::<Vec<_>>())
            .field("requests", &s.log.len())
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:<port>`), with no faults.
    pub fn start(upstream: &str) -> Self {
        let address = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        assert!(!address.contains('/'), "the upstream must be http://host:port, not {upstream:?}");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy on 127.0.0.1");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let port = listener.local_addr().expect("the proxy's address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = state.clone();
        let to = address.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{port}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the fault proxy's runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("register the proxy's listener");
                    tokio::select! {
                        _ = stopped => {}
                        () = accept(listener, to, shared) => {}
                    }
                });
                // Dropping the runtime here drops every connection task (and its sockets).
            })
            .expect("start the fault proxy's thread");
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            upstream: address,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`: the endpoint URL for clients.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// The next `times` requests that `matcher` accepts get `fault`. Rules are tried in
    /// the order they were given; a used-up rule is skipped. The matcher runs under the
    /// proxy's lock: it must not call the proxy.
    pub fn inject(&self, matcher: impl Fn(&Request) -> bool + Send + Sync + 'static, fault: Fault, times: usize) {
        lock(&self.state).rules.push(Rule { matcher: Box::new(matcher), fault, left: Some(times) });
    }

    /// Every request that `matcher` accepts gets `fault`, until [`clear`](Self::clear).
    pub fn inject_always(&self, matcher: impl Fn(&Request) -> bool + Send + Sync + 'static, fault: Fault) {
        lock(&self.state).rules.push(Rule { matcher: Box::new(matcher), fault, left: None });
    }

    /// Removes every rule (the log and counts stay).
    pub fn clear(&self) {
        lock(&self.state).rules.clear();
    }

    /// Every request seen, in order, with the fault it got (its `Debug` text).
    pub fn log(&self) -> Vec<(Request, Option<String>)> {
        lock(&self.state).log.iter().map(|(r, f)| (r.clone(), f.map(|f| format!("{f:?}")))).collect()
    }

    /// Requests of operation `op` passed on to the emulator (with no fault, after a
    /// [`Fault::Latency`], or before a [`Fault::CutAfterUpstream`]).
    pub fn count(&self, op: &str) -> usize {
        lock(&self.state).forwarded.get(op).copied().unwrap_or(0)
    }

    /// Requests passed on to the emulator, by operation.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        lock(&self.state).forwarded.clone()
    }

    /// Requests of operation `op` that got a fault (any kind).
    pub fn faulted(&self, op: &str) -> usize {
        lock(&self.state).log.iter().filter(|(r, f)| f.is_some() && r.operation == op).count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Matches requests of operation `name` (`CreateVpc`, `DescribeCluster`, ...).
pub fn op(name: &'static str) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
    move |r: &Request| r.operation == name
}

/// Matches requests to service `s`.
pub fn service(s: Service) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
    move |r: &Request| r.service == s
}

/// Matches EC2 and EKS requests, not STS: the `AssumeRole` of the tests' account
/// isolation keeps working.
pub fn any_aws() -> impl Fn(&Request) -> bool + Send + Sync + 'static {
    |r: &Request| matches!(r.service, Service::Ec2 | Service::Eks | Service::Iam)
}

// ---------------------------------------------------------------------------------------
// Serving.

/// The largest request or response head the proxy accepts.
const MAX_HEAD: usize = 64 * 1024;
/// The largest body.
const MAX_BODY: usize = 64 * 1024 * 1024;

async fn accept(listener: TcpListener, upstream: String, state: Arc<Mutex<State>>) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                let _ = client.set_nodelay(true);
                tokio::spawn(serve(client, upstream.clone(), state.clone()));
            }
            // Out of file descriptors, say: wait a little rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// A request as read from the client.
struct RawRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    /// Whether the client gave a length (or a chunked body).
    framed: bool,
    body: Vec<u8>,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// One client connection: requests one after another (keep-alive).
async fn serve(mut client: TcpStream, upstream: String, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    while let Some(raw) = read_request(&mut client, &mut buf).await {
        let request = identify(&raw);
        let fault = {
            let mut s = lock(&state);
            let fault = s.rules.iter_mut().find(|r| r.left != Some(0) && (r.matcher)(&request)).map(|r| {
                if let Some(n) = &mut r.left {
                    *n -= 1;
                }
                r.fault
            });
            s.log.push((request.clone(), fault));
            fault
        };
        let answer = match fault {
            Some(f @ (Fault::Throttle | Fault::Status(_))) => error_answer(&request, f),
            Some(Fault::Reset) => {
                // Dropped with a zero linger: the kernel sends RST, not FIN.
                let _ = client.set_zero_linger();
                return;
            }
            Some(Fault::Latency(d)) => {
                if !sleep_unless_hung_up(&mut client, &mut buf, d).await {
                    return;
                }
                forward(&upstream, &raw, &request, &state).await
            }
            Some(Fault::CutAfterUpstream) => {
                let answer = forward(&upstream, &raw, &request, &state).await;
                let _ = client.write_all(&answer[..answer.len() / 2]).await;
                let _ = client.flush().await;
                let _ = client.shutdown().await;
                return;
            }
            None => forward(&upstream, &raw, &request, &state).await,
        };
        if client.write_all(&answer).await.is_err() || client.flush().await.is_err() {
            return;
        }
    }
}

/// Reads more from the client; false at end of stream or on an error.
async fn fill(client: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    match client.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

/// The next request on the connection; `None` when the client is gone (or sent
/// something that is not HTTP/1.1).
async fn read_request(client: &mut TcpStream, buf: &mut Vec<u8>) -> Option<RawRequest> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD || !fill(client, buf).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n").skip_while(|l| l.is_empty());
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let start = head_end + 4;
    let chunked = header(&headers, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = header(&headers, "content-length");
    let framed = chunked || length.is_some();
    let (body, end) = if chunked {
        loop {
            if let Some((body, used)) = dechunk(&buf[start..]) {
                break (body, start + used);
            }
            if buf.len() > start + MAX_BODY || !fill(client, buf).await {
                return None;
            }
        }
    } else {
        let len: usize = match length {
            Some(v) => v.parse().ok()?,
            None => 0,
        };
        if len > MAX_BODY {
            return None;
        }
        while buf.len() < start + len {
            if !fill(client, buf).await {
                return None;
            }
        }
        (buf[start..start + len].to_vec(), start + len)
    };
    buf.drain(..end);
    Some(RawRequest { method, target, headers, framed, body })
}

/// Sleeps `d` unless the client hangs up first (an attempt time-out): false then, and
/// the request is not passed on.
async fn sleep_unless_hung_up(client: &mut TcpStream, buf: &mut Vec<u8>, d: Duration) -> bool {
    let mut sleep = std::pin::pin!(tokio::time::sleep(d));
    let mut chunk = [0u8; 4096];
    loop {
        tokio::select! {
            () = &mut sleep => return true,
            r = client.read(&mut chunk) => match r {
                Ok(0) | Err(_) => return false,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            },
        }
    }
}

/// Hop-by-hop headers and framing, which the proxy sets itself.
const HOP: [&str; 8] =
    ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "content-length", "te", "trailer", "upgrade"];

fn is_hop(name: &str) -> bool {
    HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Passes the request on and returns the answer for the client (re-framed with a
/// `Content-Length`); a `502` when the emulator cannot be reached.
async fn forward(upstream: &str, raw: &RawRequest, request: &Request, state: &Mutex<State>) -> Vec<u8> {
    match exchange(upstream, raw, request, state).await {
        Ok(answer) => answer,
        Err(e) => {
            let body = format!("fault proxy: upstream {upstream}: {e}");
            response(502, &[("Content-Type", "text/plain")], body.as_bytes())
        }
    }
}

async fn exchange(
    upstream: &str,
    raw: &RawRequest,
    request: &Request,
    state: &Mutex<State>,
) -> std::io::Result<Vec<u8>> {
    let mut out = format!("{} {} HTTP/1.1\r\n", raw.method, raw.target);
    for (k, v) in raw.headers.iter().filter(|(k, _)| !is_hop(k)) {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if raw.framed || !raw.body.is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", raw.body.len()));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&raw.body);

    let mut up = TcpStream::connect(upstream).await?;
    let _ = up.set_nodelay(true);
    up.write_all(&bytes).await?;
    up.flush().await?;
    *lock(state).forwarded.entry(request.operation.clone()).or_default() += 1;

    let mut answer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = up.read(&mut chunk).await?;
        if n == 0 {
            return reframe(&answer, true)
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "incomplete or malformed answer"));
        }
        answer.extend_from_slice(&chunk[..n]);
        if let Some(whole) = reframe(&answer, false) {
            return Ok(whole);
        }
        if answer.len() > MAX_HEAD + MAX_BODY {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "answer too large"));
        }
    }
}

/// The upstream answer re-framed for a kept-alive client connection (hop-by-hop headers
/// dropped, the body de-chunked, an exact `Content-Length`), once it is complete; at
/// `eof` a body without framing ends there.
fn reframe(raw: &[u8], eof: bool) -> Option<Vec<u8>> {
    let head_end = find(raw, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let rest = &raw[head_end + 4..];
    let bodiless = status < 200 || status == 204 || status == 304;
    let body = if bodiless {
        Vec::new()
    } else if header(&headers, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        dechunk(rest)?.0
    } else if let Some(len) = header(&headers, "content-length") {
        rest.get(..len.parse::<usize>().ok()?)?.to_vec()
    } else if eof {
        rest.to_vec()
    } else {
        return None;
    };
    let mut out = format!("{status_line}\r\n");
    for (k, v) in headers.iter().filter(|(k, _)| !is_hop(k)) {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !bodiless {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    Some(bytes)
}

/// A chunked body decoded, with the bytes it took; `None` while incomplete (or
/// malformed).
fn dechunk(data: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = at + find(&data[at..], b"\r\n")?;
        let line = std::str::from_utf8(&data[at..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // Trailers, up to an empty line.
            loop {
                let end = at + find(&data[at..], b"\r\n")?;
                let empty = end == at;
                at = end + 2;
                if empty {
                    return Some((body, at));
                }
            }
        }
        if data.len() < at + size + 2 {
            return None;
        }
        body.extend_from_slice(&data[at..at + size]);
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// Identifying requests.

/// STS actions, for requests whose service the signature does not name.
const STS_ACTIONS: [&str; 5] =
    ["AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "GetCallerIdentity", "GetSessionToken"];

fn identify(raw: &RawRequest) -> Request {
    let path = raw.target.split('?').next().unwrap_or("/");
    let action = form_value(&raw.body, "Action");
    let service = match signing_service(raw).as_deref() {
        Some("ec2") => Service::Ec2,
        Some("eks") => Service::Eks,
        Some("sts") => Service::Sts,
        Some("iam") => Service::Iam,
        Some(_) => Service::Other,
        None if path.starts_with("/clusters") => Service::Eks,
        None => match action.as_deref() {
            Some(a) if STS_ACTIONS.contains(&a) => Service::Sts,
            Some(_) => Service::Ec2,
            None => Service::Other,
        },
    };
    let operation = match (service, action) {
        (Service::Eks, _) => eks_operation(&raw.method, path),
        (_, Some(a)) => a,
        (_, None) => format!("{} {path}", raw.method),
    };
    Request { service, operation }
}

/// The service of the SigV4 credential scope:
/// `Credential=AKID/20250101/us-west-2/ec2/aws4_request` gives `ec2`.
fn signing_service(raw: &RawRequest) -> Option<String> {
    let auth = header(&raw.headers, "authorization")?;
    let scope = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    (parts.len() == 5).then(|| parts[3].to_ascii_lowercase())
}

/// The EKS operation of a REST path.
fn eks_operation(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let name = match (method.to_ascii_uppercase().as_str(), segments.as_slice()) {
        ("POST", ["clusters"]) => "CreateCluster",
        ("GET", ["clusters", _]) => "DescribeCluster",
        ("DELETE", ["clusters", _]) => "DeleteCluster",
        ("POST", ["clusters", _, "node-groups"]) => "CreateNodegroup",
        ("GET", ["clusters", _, "node-groups"]) => "ListNodegroups",
        ("GET", ["clusters", _, "node-groups", _]) => "DescribeNodegroup",
        ("DELETE", ["clusters", _, "node-groups", _]) => "DeleteNodegroup",
        _ => return format!("Eks:{method} {path}"),
    };
    name.to_string()
}

/// A value of an `application/x-www-form-urlencoded` body.
fn form_value(body: &[u8], key: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').filter_map(|pair| pair.split_once('=')).find(|(k, _)| *k == key).map(|(_, v)| percent_decode(v))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// Answers made up by the proxy.

fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("e6e6e6e6-0000-4000-8000-{:012x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The answer AWS gives when it throttles or fails, in the service's own shape.
fn error_answer(request: &Request, fault: Fault) -> Vec<u8> {
    let id = request_id();
    let throttle = fault == Fault::Throttle;
    let status = match fault {
        Fault::Status(s) => s,
        _ => match request.service {
            Service::Eks => 429,
            Service::Sts | Service::Iam => 400,
            Service::Ec2 | Service::Other => 503,
        },
    };
    match request.service {
        Service::Eks => {
            let (kind, message) = match status {
                _ if throttle => ("ThrottlingException", "Rate exceeded"),
                503 => ("ServiceUnavailableException", "Service is temporarily unavailable."),
                s if s >= 500 => ("ServerException", "An internal error occurred."),
                _ => ("InvalidRequestException", "The request is invalid."),
            };
            let body = format!("{{\"message\":\"{message}\"}}");
            response(
                status,
                &[("Content-Type", "application/json"), ("x-amzn-ErrorType", kind), ("x-amzn-RequestId", id.as_str())],
                body.as_bytes(),
            )
        }
        Service::Sts | Service::Iam => {
            let ns = if request.service == Service::Iam {
                "iam.amazonaws.com/doc/2010-05-08"
            } else {
                "sts.amazonaws.com/doc/2011-06-15"
            };
            let (kind, code, message) = match status {
                _ if throttle => ("Sender", "Throttling", "Rate exceeded"),
                503 => ("Receiver", "ServiceUnavailable", "Service is temporarily unavailable."),
                s if s >= 500 => ("Receiver", "InternalFailure", "An internal error occurred."),
                _ => ("Sender", "InvalidRequest", "The request is invalid."),
            };
            let body = format!(
                "<ErrorResponse xmlns=\"https://{ns}/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>"
            );
            response(status, &[("Content-Type", "text/xml"), ("x-amzn-RequestId", id.as_str())], body.as_bytes())
        }
        Service::Ec2 | Service::Other => {
            let (code, message) = match status {
                _ if throttle => ("RequestLimitExceeded", "Request limit exceeded."),
                503 => ("Unavailable", "The server is overloaded and can't handle the request."),
                s if s >= 500 => ("InternalError", "An internal error has occurred."),
                _ => ("InvalidRequest", "The request is invalid."),
            };
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{id}</RequestID></Response>"
            );
            response(status, &[("Content-Type", "text/xml;charset=UTF-8")], body.as_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(method: &str, target: &str, auth_service: Option<&str>, body: &str) -> RawRequest {
        let mut headers = vec![("Host".to_string(), "127.0.0.1:1".to_string())];
        if let Some(s) = auth_service {
            headers.push((
                "authorization".into(),
                format!("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-west-2/{s}/aws4_request, SignedHeaders=host, Signature=00"),
            ));
        }
        RawRequest { method: method.into(), target: target.into(), headers, framed: true, body: body.into() }
    }

    #[test]
    fn identifies_operations() {
        let ec2 =
            identify(&raw("POST", "/", Some("ec2"), "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16"));
        assert_eq!(ec2, Request { service: Service::Ec2, operation: "CreateVpc".into() });
        let sts = identify(&raw("POST", "/", None, "Action=AssumeRole&Version=2011-06-15"));
        assert_eq!(sts, Request { service: Service::Sts, operation: "AssumeRole".into() });
        let cases = [
            ("POST", "/clusters", "CreateCluster"),
            ("GET", "/clusters/AWSNewsBlog", "DescribeCluster"),
            ("DELETE", "/clusters/AWSNewsBlog", "DeleteCluster"),
            ("POST", "/clusters/AWSNewsBlog/node-groups", "CreateNodegroup"),
            ("GET", "/clusters/AWSNewsBlog/node-groups?maxResults=100", "ListNodegroups"),
            ("GET", "/clusters/AWSNewsBlog/node-groups/ng", "DescribeNodegroup"),
            ("DELETE", "/clusters/AWSNewsBlog/node-groups/ng", "DeleteNodegroup"),
            ("GET", "/clusters/AWSNewsBlog/addons", "Eks:GET /clusters/AWSNewsBlog/addons"),
        ];
        for (method, target, want) in cases {
            let r = identify(&raw(method, target, Some("eks"), ""));
            assert_eq!(r, Request { service: Service::Eks, operation: want.into() }, "{method} {target}");
        }
        assert!(any_aws()(&ec2) && !any_aws()(&sts) && op("CreateVpc")(&ec2) && service(Service::Sts)(&sts));
    }

    #[test]
    fn reframes_and_dechunks() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let out = reframe(chunked, false).unwrap();
        assert_eq!(out, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde");
        assert!(reframe(&chunked[..chunked.len() - 3], false).is_none(), "incomplete");
        let unframed = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<a/>";
        assert!(reframe(unframed, false).is_none(), "no length: complete only at end of stream");
        assert_eq!(
            reframe(unframed, true).unwrap(),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 4\r\n\r\n<a/>"
        );
        assert_eq!(percent_decode("10.0.0.0%2F16+x"), "10.0.0.0/16 x");
    }
}
