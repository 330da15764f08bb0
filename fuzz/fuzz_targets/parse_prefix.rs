//! Prefix text in, strict and lenient parsing checked against each other:
//!
//! - strict Ok implies lenient Ok with the same value;
//! - lenient Err implies strict Err with the same error (both fail on the syntax first);
//! - lenient Ok with strict Err means host bits were set, and the strict error names
//!   the lenient network;
//! - a parsed prefix has no host bits; its `Display` (and `canonical_prefix`) text parses
//!   back, strictly, to the same prefix; its address part is `parse_addr` of the text
//!   before the last '/';
//! - errors render, and their offsets lie within the input.
#![no_main]

use eks6::net::{Ipv6Net, NetError, canonical_prefix, parse_addr, parse_prefix, parse_prefix_lenient};
use libfuzzer_sys::fuzz_target;

fn check_error(e: &NetError, s: &str) {
    assert!(!e.to_string().is_empty());
    if let Some(offset) = e.offset() {
        assert!(offset <= s.len(), "offset {offset} past the input {s:?} ({e:?})");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let strict = parse_prefix(s);
    let lenient = parse_prefix_lenient(s);

    if let Ok(p) = &strict {
        assert_eq!(lenient.as_ref().ok(), Some(p), "strict accepts {s:?} but lenient gives {lenient:?}");
    }

    match &lenient {
        Ok(net) => {
            let net = *net;
            assert_eq!(net, net.trunc(), "host bits left in {net:?} from {s:?}");
            let text = net.to_string();
            assert_eq!(canonical_prefix(net).as_str(), text);
            assert_eq!(parse_prefix(&text), Ok(net), "{text:?} (from {s:?}) does not parse back");
            assert_eq!(parse_prefix_lenient(&text), Ok(net));

            let (addr, len) = s.rsplit_once('/').expect("a prefix has a '/'");
            let addr = parse_addr(addr).unwrap_or_else(|e| panic!("prefix {s:?} parsed, its address did not: {e}"));
            let len: u8 = len.parse().expect("a prefix length is a small decimal number");
            assert_eq!(Ipv6Net::new(addr, len).ok().map(|n| n.trunc()), Some(net));

            match &strict {
                Ok(_) => assert_eq!(addr, net.network(), "strict accepted host bits in {s:?}"),
                Err(NetError::HostBitsSet { network, .. }) => {
                    assert_eq!(*network, net);
                    assert_ne!(addr, net.network());
                    check_error(strict.as_ref().unwrap_err(), s);
                }
                Err(e) => panic!("lenient accepts {s:?}, strict fails with something other than host bits: {e:?}"),
            }
        }
        Err(e) => {
            assert_eq!(strict.as_ref().err(), Some(e), "strict and lenient fail differently on {s:?}");
            check_error(e, s);
        }
    }
});
