//! Property tests: the address math agrees with a plain `u128` reference, with `ipnet`
//! and with `std` on random input.

use std::net::Ipv6Addr;

use eks6::net::{
    PrefixAllocator, PrefixTable, aggregate, canonical, contains, exclude, expanded, nth_subnet, parse_addr,
    parse_prefix, range_to_prefixes, reverse_name, subnet_count, subnets,
};
use ipnet::Ipv6Net;
use proptest::prelude::*;

fn mask(len: u8) -> u128 {
    if len == 0 { 0 } else { u128::MAX << (128 - len) }
}

fn net(bits: u128, len: u8) -> Ipv6Net {
    Ipv6Net::new(Ipv6Addr::from_bits(bits & mask(len)), len).unwrap()
}

/// Addresses that hit the interesting shapes often: runs of zero groups, IPv4-mapped.
fn addr() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        any::<u128>(),
        // Each group zero with probability 1/2.
        (any::<[u16; 8]>(), any::<u8>()).prop_map(|(g, z)| {
            g.iter().enumerate().fold(0u128, |acc, (i, &x)| (acc << 16) | if z & (1 << i) != 0 { 0 } else { x as u128 })
        }),
        any::<u32>().prop_map(|v| 0xffff_0000_0000u128 | v as u128),
        any::<u32>().prop_map(|v| v as u128),
    ]
    .prop_map(Ipv6Addr::from_bits)
}

fn prefix() -> impl Strategy<Value = Ipv6Net> {
    (any::<u128>(), 0u8..=128).prop_map(|(b, l)| net(b, l))
}

/// A random text form of an address: full, with leading zeros, upper case, with `::`
/// anywhere it may stand, or with an IPv4 tail.
fn text_form(a: Ipv6Addr) -> impl Strategy<Value = String> {
    let g = a.segments();
    (any::<bool>(), any::<bool>(), 0usize..8, 0usize..9, any::<bool>()).prop_map(move |(upper, pad, zs, zl, v4)| {
        let mut parts: Vec<String> =
            g.iter().map(|x| if pad { format!("{x:04x}") } else { format!("{x:x}") }).collect();
        if v4 {
            let [a, b] = g[6].to_be_bytes();
            let [c, d] = g[7].to_be_bytes();
            parts.truncate(6);
            parts.push(format!("{a}.{b}.{c}.{d}"));
        }
        // Compress a run of zero groups that starts at `zs` and is at most `zl` long.
        let n = parts.len();
        let mut end = zs;
        while end < n && end < zs + zl && g[end] == 0 && !(v4 && end >= 6) {
            end += 1;
        }
        let mut s =
            if end > zs { format!("{}::{}", parts[..zs].join(":"), parts[end..].join(":")) } else { parts.join(":") };
        if upper {
            s = s.to_uppercase();
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn canonical_matches_std_and_round_trips(a in addr()) {
        let text = canonical(a);
        prop_assert_eq!(text.as_str(), a.to_string());
        prop_assert_eq!(parse_addr(&text).unwrap(), a);
        prop_assert_eq!(parse_addr(&expanded(a)).unwrap(), a);
        let rev = reverse_name(a);
        prop_assert_eq!(rev.len(), 73);
        let nibbles: String = rev.split('.').take(32).collect::<Vec<_>>().into_iter().rev().collect();
        prop_assert_eq!(u128::from_str_radix(&nibbles, 16).unwrap(), a.to_bits());
    }

    #[test]
    fn prefix_text_matches_display(p in prefix()) {
        let text = eks6::net::canonical_prefix(p);
        prop_assert_eq!(text.as_str(), p.to_string());
    }

    #[test]
    fn parse_agrees_with_std_on_text_forms((a, s) in addr().prop_flat_map(|a| (Just(a), text_form(a)))) {
        prop_assert_eq!(parse_addr(&s).unwrap(), a, "{}", s);
        prop_assert_eq!(s.parse::<Ipv6Addr>().unwrap(), a);
    }

    #[test]
    fn parse_agrees_with_std_on_garbage(s in "[0-9a-fA-F:.%/ \\[\\]g]{0,48}") {
        let ours = parse_addr(&s).ok();
        let std = s.parse::<Ipv6Addr>().ok();
        // std accepts nothing we reject, and we accept nothing std rejects.
        prop_assert_eq!(ours, std, "{:?}", s);
    }

    #[test]
    fn carve_agrees_with_reference_and_ipnet(p in prefix(), extra in 0u8..=12, n in any::<u128>()) {
        let new_len = (p.prefix_len() + extra).min(128);
        let bits = new_len - p.prefix_len();
        prop_assert_eq!(subnet_count(p, new_len).unwrap(), 1u128 << bits);
        let ours: Vec<Ipv6Net> = subnets(p, new_len).unwrap().collect();
        let theirs: Vec<Ipv6Net> = p.subnets(new_len).unwrap().collect();
        prop_assert_eq!(&ours, &theirs);
        let rev: Vec<Ipv6Net> = subnets(p, new_len).unwrap().rev().collect();
        prop_assert!(rev.iter().eq(ours.iter().rev()));
        let i = n % (1u128 << bits);
        let reference = net(p.network().to_bits() | (i << ((128 - new_len as u32) % 128)), new_len);
        prop_assert_eq!(nth_subnet(p, new_len, i).unwrap(), reference);
        prop_assert_eq!(ours[i as usize], reference);
        prop_assert!(nth_subnet(p, new_len, 1u128 << bits).is_err());
    }

    #[test]
    fn nth_is_consistent_with_next(p in prefix(), extra in 0u8..=40, a in any::<u64>(), b in any::<u64>()) {
        let new_len = (p.prefix_len() + extra).min(128);
        let mut it = subnets(p, new_len).unwrap();
        let total = it.remaining();
        let a = (a as u128 % total) as usize;
        let got = it.nth(a);
        prop_assert_eq!(got, Some(nth_subnet(p, new_len, a as u128).unwrap()));
        let left = it.remaining();
        prop_assert_eq!(left, total - a as u128 - 1);
        if left > 0 {
            let b = (b as u128 % left) as usize;
            prop_assert_eq!(it.nth_back(b), Some(nth_subnet(p, new_len, total - 1 - b as u128).unwrap()));
            prop_assert_eq!(it.remaining(), left - b as u128 - 1);
        }
    }

    #[test]
    fn contains_agrees_with_reference_and_ipnet(p in prefix(), a in addr()) {
        let reference = a.to_bits() & mask(p.prefix_len()) == p.network().to_bits();
        prop_assert_eq!(contains(p, a), reference);
        prop_assert_eq!(contains(p, a), p.contains(&a));
        // An address built inside the prefix is inside.
        let inside = Ipv6Addr::from_bits(p.network().to_bits() | (a.to_bits() & !mask(p.prefix_len())));
        prop_assert!(contains(p, inside));
    }

    #[test]
    fn aggregate_agrees_with_ipnet_and_covers_the_same(nets in prop::collection::vec((any::<u16>(), 100u8..=112), 0..40)) {
        // Prefixes clustered in one /96 so that merges happen.
        let nets: Vec<Ipv6Net> = nets.into_iter().map(|(x, l)| net(0x2600_0000_0000_0000_0000_0000_0000_0000 | (x as u128) << 16, l)).collect();
        let ours = aggregate(&nets);
        prop_assert_eq!(&ours, &Ipv6Net::aggregate(&nets));
        // Disjoint, sorted, and covering exactly the input.
        for w in ours.windows(2) {
            prop_assert!(w[0].broadcast().to_bits() < w[1].network().to_bits());
        }
        for n in &nets {
            prop_assert!(ours.iter().any(|o| o.contains(n)));
        }
        let covered: u128 = ours.iter().map(|o| 1u128 << (128 - o.prefix_len())).sum();
        let mut points: Vec<(u128, u128)> = nets.iter().map(|n| (n.network().to_bits(), n.broadcast().to_bits())).collect();
        points.sort();
        let mut total = 0u128;
        let mut cur: Option<(u128, u128)> = None;
        for (lo, hi) in points {
            match cur {
                Some((clo, chi)) if lo <= chi + 1 => cur = Some((clo, chi.max(hi))),
                Some((clo, chi)) => { total += chi - clo + 1; cur = Some((lo, hi)); }
                None => cur = Some((lo, hi)),
            }
        }
        if let Some((clo, chi)) = cur { total += chi - clo + 1; }
        prop_assert_eq!(covered, total);
    }

    #[test]
    fn exclude_partitions(from in prefix(), extra in 0u8..=20, pick in any::<u128>()) {
        let len = (from.prefix_len() + extra).min(128);
        let remove = net(from.network().to_bits() | (pick & !mask(from.prefix_len())), len);
        let rest = exclude(from, remove);
        let mut all = rest.clone();
        all.push(remove);
        prop_assert_eq!(aggregate(&all), vec![from]);
        for r in &rest {
            prop_assert!(!r.contains(&remove.network()) && !remove.contains(r));
        }
        // Unrelated prefix: nothing removed.
        let other = net(from.network().to_bits() ^ (1u128 << 127), from.prefix_len().max(1));
        if !other.contains(&from.network()) && !from.contains(&other.network()) {
            prop_assert_eq!(exclude(from, other), vec![from]);
        }
    }

    #[test]
    fn range_to_prefixes_is_minimal_and_exact(a in any::<u128>(), b in any::<u128>()) {
        let (lo, hi) = (a.min(b), a.max(b));
        let nets = range_to_prefixes(Ipv6Addr::from_bits(lo), Ipv6Addr::from_bits(hi)).unwrap();
        prop_assert_eq!(nets[0].network().to_bits(), lo);
        prop_assert_eq!(nets.last().unwrap().broadcast().to_bits(), hi);
        for w in nets.windows(2) {
            prop_assert_eq!(w[0].broadcast().to_bits() + 1, w[1].network().to_bits());
        }
        // Minimal: aggregating changes nothing, and it matches ipnet's range subnets.
        prop_assert_eq!(aggregate(&nets), nets.clone());
        let theirs: Vec<Ipv6Net> = ipnet::Ipv6Subnets::new(Ipv6Addr::from_bits(lo), Ipv6Addr::from_bits(hi), 0).collect();
        prop_assert_eq!(nets, theirs);
    }

    #[test]
    fn allocator_matches_reference(used in prop::collection::vec((0u8..64, 0u8..=3), 0..12), asks in prop::collection::vec(0u8..=4, 1..30)) {
        // Parent /58 of /64s; used prefixes of /62../64 (index, extra), requests /60../64.
        let parent = net(0x2600_1f13_0812_0000u128 << 64, 58);
        let used: Vec<Ipv6Net> = used.iter().map(|&(i, e)| net(parent.network().to_bits() | ((i as u128) << 64), 61 + e)).collect();
        let mut alloc = PrefixAllocator::new(parent, &used).unwrap();
        // Reference: a bitmap of the 64 /64s.
        let mut taken = [false; 64];
        for u in &used {
            let start = ((u.network().to_bits() >> 64) & 63) as usize;
            let n = 1usize << (64 - u.prefix_len());
            for t in &mut taken[start..start + n] { *t = true; }
        }
        let mut got = Vec::new();
        for ask in asks {
            let len = 60 + ask;
            let n = 1usize << (64 - len);
            let want = (0..64).step_by(n).find(|&s| taken[s..s + n].iter().all(|t| !t));
            match (alloc.allocate(len), want) {
                (Ok(p), Some(s)) => {
                    prop_assert_eq!(p, net(parent.network().to_bits() | ((s as u128) << 64), len));
                    for t in &mut taken[s..s + n] { *t = true; }
                    got.push(p);
                }
                (Err(_), None) => {}
                (ours, theirs) => prop_assert!(false, "allocator gave {:?}, reference {:?}", ours, theirs),
            }
        }
        // Releasing everything allocated restores the free space exactly.
        let before: Vec<Ipv6Net> = PrefixAllocator::new(parent, &used).unwrap().free_blocks();
        for p in got {
            alloc.release(p).unwrap();
        }
        prop_assert_eq!(alloc.free_blocks(), before);
    }

    #[test]
    fn table_matches_linear_scan(entries in prop::collection::vec((any::<u16>(), 96u8..=128), 1..60), probes in prop::collection::vec(any::<u32>(), 1..60)) {
        let base = 0x2600_0000_0000_0000_0000_0000_0000_0000u128;
        let nets: Vec<(Ipv6Net, usize)> = entries.iter().enumerate().map(|(i, &(x, l))| (net(base | ((x as u128) << 16), l), i)).collect();
        let table: PrefixTable<usize> = nets.iter().copied().collect();
        for p in probes {
            let a = Ipv6Addr::from_bits(base | p as u128);
            // Reference: the longest containing prefix; the last inserted wins a tie.
            let want = nets.iter().filter(|(n, _)| n.contains(&a)).max_by_key(|(n, i)| (n.prefix_len(), *i)).map(|(n, _)| n);
            let got = table.lookup_entry(a).map(|(n, _)| n);
            prop_assert_eq!(got.as_ref(), want);
            if let Some(n) = want {
                let last = nets.iter().filter(|(m, _)| m == n).map(|(_, i)| *i).max();
                prop_assert_eq!(table.lookup(a).copied(), last);
            }
        }
    }

    #[test]
    fn strict_and_lenient_prefix_parsing(a in addr(), len in 0u8..=128) {
        let text = format!("{a}/{len}");
        let lenient = eks6::net::parse_prefix_lenient(&text).unwrap();
        prop_assert_eq!(lenient, net(a.to_bits(), len));
        match parse_prefix(&text) {
            Ok(p) => prop_assert_eq!(p.addr(), a),
            Err(e) => {
                let hint = format!("did you mean {lenient}?");
                prop_assert!(e.to_string().contains(&hint));
            }
        }
    }
}
