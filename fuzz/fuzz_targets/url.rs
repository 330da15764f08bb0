//! `bracketed_url(scheme, host, port, path)` and `socket_text(host, port)` on arbitrary
//! pieces.
//!
//! Input: UTF-8 text `scheme \n host \n port \n path` (split on the first three
//! newlines; a newline is a control character, which no piece may hold anyway). A
//! missing piece takes a default (`http`, empty host, no port, `/`); an empty port is
//! `None`; a port that is not a decimal `u32` skips the input.
//!
//! On success:
//! - the URL is ASCII with no space and no control character;
//! - it starts with the lowercased scheme and `://`;
//! - an IPv6 host (the text before any `%` parses as an IPv6 address) is written as
//!   `[canonical]` or `[canonical%25zone]`, and the bracketed address parses back;
//!   any other host is written as given, without brackets;
//! - the port was 1..=65535 and follows the host as `:port`;
//! - `socket_text(host, port)` gives the same `host:port` text.
//!
//! Never a panic, whatever the pieces.
#![no_main]

use std::net::Ipv6Addr;

use eks6::net::{bracketed_url, canonical, parse_addr, socket_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let mut pieces = s.splitn(4, '\n');
    let scheme = pieces.next().unwrap_or("http");
    let host = pieces.next().unwrap_or("");
    let port = match pieces.next().unwrap_or("") {
        "" => None,
        p => match p.parse::<u32>() {
            Ok(p) => Some(p),
            Err(_) => return,
        },
    };
    let path = pieces.next().unwrap_or("/");

    let url = match bracketed_url(scheme, host, port, path) {
        Ok(url) => url,
        Err(e) => {
            let _ = e.to_string();
            if let Some(p) = port {
                let _ = socket_text(host, p).map_err(|e| e.to_string());
            }
            return;
        }
    };

    assert!(
        url.bytes().all(|b| b.is_ascii() && b != b' ' && !b.is_ascii_control()),
        "URL {url:?} from {s:?} has a space, a control character or a non-ASCII byte"
    );
    let prefix = format!("{}://", scheme.to_ascii_lowercase());
    assert!(url.starts_with(&prefix), "URL {url:?} does not start with {prefix:?}");
    // The path starts with '/', and a '/' in a zone id is percent-encoded, so the
    // authority runs to the first '/' after the scheme.
    let rest = &url[prefix.len()..];
    let slash = rest.find('/').unwrap_or_else(|| panic!("URL {url:?} has no path"));
    let authority = &rest[..slash];

    if let Some(p) = port {
        assert!((1..=65535).contains(&p), "port {p} accepted in {url:?}");
    }
    let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
    let host_text = authority
        .strip_suffix(port_text.as_str())
        .unwrap_or_else(|| panic!("URL {url:?}: authority {authority:?} does not end with {port_text:?}"));

    let (addr_part, zone) = match host.find('%') {
        Some(i) => (&host[..i], Some(&host[i + 1..])),
        None => (host, None),
    };
    if let Ok(a) = addr_part.parse::<Ipv6Addr>() {
        assert!(url.contains('['), "IPv6 host {host:?} not bracketed in {url:?}");
        let inner = host_text
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or_else(|| panic!("IPv6 host {host:?} written as {host_text:?} in {url:?}"));
        let (written, written_zone) = match inner.split_once("%25") {
            Some((w, z)) => (w, Some(z)),
            None => (inner, None),
        };
        assert_eq!(written, canonical(a).as_str(), "host {host:?} in {url:?}");
        assert_eq!(parse_addr(written), Ok(a));
        match (zone, written_zone) {
            (None, None) => {}
            (Some(z), Some(w)) => {
                assert!(
                    w.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
                    "zone {z:?} written as {w:?}: not percent-encoded"
                );
                assert_eq!(percent_decode(w).as_deref(), Some(z.as_bytes()), "zone {z:?} written as {w:?}");
            }
            _ => panic!("zone of {host:?} lost or invented in {url:?}"),
        }
    } else {
        assert!(zone.is_none(), "host {host:?} with a zone but no IPv6 address accepted: {url:?}");
        assert_eq!(host_text, host, "host {host:?} not written as given in {url:?}");
        assert!(!host_text.contains('['), "non-IPv6 host {host:?} bracketed in {url:?}");
    }

    if let Some(p) = port {
        let sock = socket_text(host, p).unwrap_or_else(|e| panic!("URL {url:?} built, socket_text failed: {e}"));
        assert_eq!(sock, authority, "socket_text disagrees with the URL's authority");
    }
});

/// `%XX` decoding; `None` on a malformed escape.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}
