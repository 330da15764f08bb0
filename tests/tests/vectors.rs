//! Every vector in `tests/vectors/ipv6.json` through `eks6::net`.

use eks6::net::{
    AddrReason, NetError, aggregate, bracketed_url, canonical, contains, expanded, nth_subnet, parse_addr,
    parse_prefix, reverse_name, subnet_count, subnets,
};
use eks6_tests::vectors;

#[test]
fn canonical_expanded_reverse() {
    let v = vectors::load();
    assert!(!v.canonical.is_empty());
    for c in &v.canonical {
        let a = parse_addr(&c.input).unwrap_or_else(|e| panic!("{}: {e}", c.input));
        assert_eq!(canonical(a).as_str(), c.canonical, "canonical of {}", c.input);
        assert_eq!(expanded(a).as_str(), c.expanded, "expanded of {}", c.input);
        assert_eq!(reverse_name(a).as_str(), c.reverse, "reverse of {}", c.input);
        // The canonical form parses back to the same address.
        assert_eq!(parse_addr(&c.canonical).unwrap(), a);
    }
}

/// The reason each invalid vector must be rejected with, keyed by its input.
fn expected_reason(input: &str) -> fn(&AddrReason) -> bool {
    match input {
        "2600:0000:0000:35000000:46f9::1" => |r| matches!(r, AddrReason::GroupTooLong { offset: 15, digits: 8 }),
        "2600::1::2" => |r| matches!(r, AddrReason::SecondDoubleColon { offset: 7 }),
        "1:2:3:4:5:6:7:8:9" => |r| matches!(r, AddrReason::TooManyGroups { offset: 16 }),
        "1:2:3:4:5:6:7" => |r| matches!(r, AddrReason::TooFewGroups { found: 7 }),
        "gggg::1" => |r| matches!(r, AddrReason::UnexpectedChar { offset: 0, ch: 'g' }),
        "" => |r| matches!(r, AddrReason::Empty),
        ":::" => |r| matches!(r, AddrReason::ThreeColons { offset: 0 }),
        ":1:2:3:4:5:6:7" => |r| matches!(r, AddrReason::LeadingColon),
        "1:2:3:4:5:6:7:" => |r| matches!(r, AddrReason::TrailingColon { offset: 13 }),
        "[2600::1]" => |r| matches!(r, AddrReason::Brackets),
        " 2600::1" => |r| matches!(r, AddrReason::Whitespace { offset: 0 }),
        "2600::1 " => |r| matches!(r, AddrReason::Whitespace { offset: 7 }),
        "::ffff:192.0.2.256" => |r| matches!(r, AddrReason::OctetTooLarge { offset: 15, len: 3 }),
        "::ffff:192.0.2" => |r| matches!(r, AddrReason::OctetCount { offset: 7, found: 3 }),
        "::ffff:01.2.3.4" => |r| matches!(r, AddrReason::OctetLeadingZero { offset: 7, len: 2 }),
        "1.2.3.4" => |r| matches!(r, AddrReason::Ipv4Address),
        "2600:1f13::1/64" => |r| matches!(r, AddrReason::PrefixLength { offset: 12 }),
        other => panic!("new invalid vector {other:?}: add the reason it must be rejected with"),
    }
}

#[test]
fn invalid_addresses_rejected_with_fitting_reason() {
    let v = vectors::load();
    assert!(!v.invalid_addresses.is_empty());
    for bad in &v.invalid_addresses {
        let err = parse_addr(&bad.input).expect_err(&bad.input);
        let NetError::InvalidAddress { input, reason } = &err else { panic!("{err:?}") };
        assert_eq!(&**input, bad.input);
        assert!(expected_reason(&bad.input)(reason), "{:?} ({}): got {reason:?}: {err}", bad.input, bad.why);
        // The message quotes the input and is one lowercase line after the prefix.
        let text = err.to_string();
        assert!(text.starts_with(&format!("invalid IPv6 address {:?}: ", bad.input)), "{text}");
        assert!(!text.contains('\n'));
    }
    let err = parse_addr("2600:0000:0000:35000000:46f9::1").unwrap_err();
    assert!(err.to_string().ends_with("group \"35000000\" at offset 15 has 8 hex digits (at most 4)"), "{err}");
}

#[test]
fn carve() {
    let v = vectors::load();
    for c in &v.carve {
        let parent = parse_prefix(&c.parent).unwrap();
        assert_eq!(subnet_count(parent, c.new_len).unwrap(), c.count, "{}", c.parent);
        let it = subnets(parent, c.new_len).unwrap();
        assert_eq!(it.remaining(), c.count);
        for (n, want) in &c.nth {
            let n: u128 = n.parse().unwrap();
            assert_eq!(nth_subnet(parent, c.new_len, n).unwrap().to_string(), *want, "{} #{n}", c.parent);
            let mut it = subnets(parent, c.new_len).unwrap();
            assert_eq!(it.nth(n as usize).unwrap().to_string(), *want);
            let mut back = subnets(parent, c.new_len).unwrap();
            assert_eq!(back.nth_back((c.count - 1 - n) as usize).unwrap().to_string(), *want);
        }
    }
}

#[test]
fn carve_invalid() {
    let v = vectors::load();
    assert_eq!(v.carve_invalid.len(), 4);
    for c in &v.carve_invalid {
        let result = parse_prefix(&c.parent).and_then(|p| {
            let len = u8::try_from(c.new_len).unwrap_or(u8::MAX);
            match c.n {
                Some(n) => nth_subnet(p, len, n),
                None => subnets(p, len).map(|mut s| s.next().unwrap()),
            }
        });
        let err = result.expect_err(&c.why);
        let fits = match c.why.as_str() {
            "new length shorter than the parent" => matches!(err, NetError::InvalidLength { new_len: 48, .. }),
            "length over 128" => matches!(err, NetError::InvalidLength { new_len, .. } if new_len > 128),
            "index past the last subnet" => matches!(err, NetError::IndexOutOfRange { index: 256, count: 256, .. }),
            "host bits set in the parent (strict parsing)" => {
                matches!(&err, NetError::HostBitsSet { network, .. } if network.to_string() == "2600:1f13:812::/56")
            }
            other => panic!("new carve_invalid vector {other:?}"),
        };
        assert!(fits, "{}: {err:?}", c.why);
    }
}

#[test]
fn contains_vectors() {
    let v = vectors::load();
    for c in &v.contains {
        let p = parse_prefix(&c.prefix).unwrap();
        let a = parse_addr(&c.addr).unwrap();
        assert_eq!(contains(p, a), c.expect, "{} in {}", c.addr, c.prefix);
    }
}

#[test]
fn aggregate_vectors() {
    let v = vectors::load();
    for c in &v.aggregate {
        let nets: Vec<_> = c.input.iter().map(|s| parse_prefix(s).unwrap()).collect();
        let got: Vec<String> = aggregate(&nets).iter().map(|n| n.to_string()).collect();
        assert_eq!(got, c.output);
    }
}

#[test]
fn bracketed_url_vectors() {
    let v = vectors::load();
    for c in &v.bracketed_url {
        assert_eq!(bracketed_url(&c.scheme, &c.host, c.port, &c.path).unwrap(), c.url);
    }
}
