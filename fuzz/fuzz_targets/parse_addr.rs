//! Address text in, checked against std and against itself:
//!
//! - `parse_addr` accepts exactly what `str::parse::<Ipv6Addr>` accepts, with the same
//!   value (core/tests/net_props.rs asserts this on random text; here on any text);
//! - `parse_addr_bytes` agrees with `parse_addr` on UTF-8 and rejects the rest (the
//!   parser takes ASCII only);
//! - `canonical` is std's `Display` (RFC 5952, IPv4-mapped dotted as std writes it) and
//!   parses back to the same address, as does `expanded`;
//! - `ScopedIpv6Addr` agrees with `parse_addr` when there is no zone, and its text
//!   round-trips;
//! - errors render, and their offsets lie within the input.
#![no_main]

use std::net::Ipv6Addr;

use eks6::net::{NetError, ScopedIpv6Addr, canonical, expanded, parse_addr, parse_addr_bytes, reverse_name};
use libfuzzer_sys::fuzz_target;

/// The error renders, and its offset lies within the input (`len` bytes).
fn check_error(e: &NetError, len: usize) {
    let msg = e.to_string();
    assert!(!msg.is_empty());
    if let Some(offset) = e.offset() {
        assert!(offset <= len, "offset {offset} past the {len}-byte input ({e:?})");
    }
}

fuzz_target!(|data: &[u8]| {
    let from_bytes = parse_addr_bytes(data);
    let Ok(s) = std::str::from_utf8(data) else {
        // Not UTF-8, so not ASCII: never an address.
        match from_bytes {
            Ok(a) => panic!("parse_addr_bytes accepted non-UTF-8 {data:?} as {a}"),
            Err(e) => check_error(&e, data.len()),
        }
        return;
    };

    let ours = parse_addr(s);
    // On UTF-8 the bytes form is the same function, down to the error.
    assert_eq!(ours, from_bytes, "parse_addr and parse_addr_bytes disagree on {s:?}");

    let std = s.parse::<Ipv6Addr>().ok();
    assert_eq!(ours.as_ref().ok().copied(), std, "eks6 and std disagree on {s:?}");

    match ours {
        Ok(a) => {
            let text = canonical(a);
            assert_eq!(text.as_str(), a.to_string(), "canonical text differs from std for {s:?}");
            assert_eq!(parse_addr(&text), Ok(a), "canonical text {text:?} does not parse back");
            let full = expanded(a);
            assert_eq!(full.len(), 39);
            assert_eq!(parse_addr(&full), Ok(a), "expanded text {full:?} does not parse back");
            assert_eq!(reverse_name(a).len(), 73);
            let scoped: ScopedIpv6Addr = s.parse().expect("an address without a zone is a scoped address");
            assert_eq!((scoped.addr(), scoped.zone()), (a, None));
        }
        Err(e) => check_error(&e, s.len()),
    }

    // Addresses with a zone id: the text round-trips.
    match s.parse::<ScopedIpv6Addr>() {
        Ok(scoped) => {
            if !s.contains('%') {
                assert_eq!(Some(scoped.addr()), std);
            }
            let text = scoped.to_string();
            let back: ScopedIpv6Addr = text.parse().unwrap_or_else(|e| panic!("{text:?} from {s:?}: {e}"));
            assert_eq!(back, scoped);
        }
        Err(e) => {
            assert!(s.contains('%') || std.is_none(), "ScopedIpv6Addr rejects {s:?}, which std accepts");
            let _ = e.to_string();
        }
    }
});
