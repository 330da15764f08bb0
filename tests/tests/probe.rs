//! The IPv6 probe against a real nginx on `[::1]`, a closed port and a listener that
//! never answers; and the `eks6 probe` exit codes.

use std::net::{Ipv6Addr, TcpListener};
use std::process::Command;
use std::time::Duration;

use eks6::ErrorKind;
use eks6::probe::{ProbeError, ProbeOptions, probe};
use eks6_tests::nginx::{Nginx, free_port};

fn opts(port: u16) -> ProbeOptions {
    ProbeOptions { port, ..Default::default() }
}

fn eks6_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("eks6")
}

#[tokio::test]
async fn nginx_on_ipv6_loopback_answers() {
    let nginx = Nginx::start();
    let a = probe("::1", &opts(nginx.port)).await.unwrap();
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.status_line, "HTTP/1.1 200 OK");
    assert_eq!(a.url, format!("http://[::1]:{}/", nginx.port));
    assert!(a.body.contains("Welcome to nginx!"), "{}", a.body);
    assert!(a.headers.iter().any(|(k, v)| k == "server" && v.starts_with("nginx")), "{:?}", a.headers);
    assert!(a.total_ms >= a.first_byte_ms && a.first_byte_ms >= a.connect_ms);
    // Non-canonical input comes out canonical in the URL.
    let a = probe("0:0:0:0:0:0:0:1", &opts(nginx.port)).await.unwrap();
    assert_eq!(a.url, format!("http://[::1]:{}/", nginx.port));
    // A path that does not exist still gets an HTTP answer.
    let a = probe("::1", &ProbeOptions { path: "/nope?x=1".into(), ..opts(nginx.port) }).await.unwrap();
    assert_eq!(a.status, 404);

    let o = Command::new(eks6_bin()).args(["probe", "::1", "--port", &nginx.port.to_string()]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("HTTP/1.1 200 OK\n") && out.contains("Welcome to nginx!"), "{out}");
}

#[tokio::test]
async fn closed_port_is_refused() {
    let port = free_port();
    let err = probe("::1", &opts(port)).await.unwrap_err();
    assert!(matches!(err, ProbeError::Refused { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::ProbeRefused);
    let o = Command::new(eks6_bin()).args(["probe", "::1", "--port", &port.to_string()]).output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(o.stdout.is_empty());
}

#[tokio::test]
async fn listener_that_never_answers_times_out() {
    let silent = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
    let port = silent.local_addr().unwrap().port();
    // Accept and hold connections without ever writing.
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in silent.incoming().take(2) {
            conns.push(c.unwrap());
        }
        std::thread::park_timeout(Duration::from_secs(5));
        drop(conns);
    });
    let o = ProbeOptions { total_timeout: Duration::from_millis(300), ..opts(port) };
    let err = probe("::1", &o).await.unwrap_err();
    let ProbeError::Timeout { phase, limit, .. } = &err else { panic!("{err}") };
    assert_eq!((*phase, *limit), ("request", Duration::from_millis(300)));
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let out = Command::new(eks6_bin())
        .args(["probe", "::1", "--port", &port.to_string(), "--timeout", "0.3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    held.thread().unpark();
}

#[tokio::test]
async fn ipv4_and_bad_targets_are_refused_clearly() {
    let err = probe("127.0.0.1", &opts(80)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProbeTarget);
    assert!(err.to_string().contains("IPv6 only"), "{err}");
    let err = probe("2600:0000:0000:35000000:46f9::1", &opts(80)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidAddress);
    assert!(err.to_string().contains("group \"35000000\" at offset 15"), "{err}");
    let err = probe("no-such-host.invalid", &opts(80)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProbeTarget);
}

/// A server that answers with something other than HTTP: a probe network failure (its
/// own kind, not an AWS one), exit 3 from the program.
#[tokio::test]
async fn an_answer_that_is_not_http_is_a_probe_network_error() {
    let server = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
    let port = server.local_addr().unwrap().port();
    let serve = std::thread::spawn(move || {
        use std::io::{Read, Write};
        for _ in 0..2 {
            let (mut c, _) = server.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
        }
    });
    let err = probe("::1", &opts(port)).await.unwrap_err();
    assert!(matches!(err, ProbeError::Io { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::ProbeNetwork, "{err}");
    let o = Command::new(eks6_bin()).args(["probe", "::1", "--port", &port.to_string()]).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    serve.join().unwrap();
}
