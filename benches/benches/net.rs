//! Criterion benches of the address math, each beside a baseline in the same run with
//! the same inputs. Group and function names are stable so results compare over time;
//! `benches/README.md` records the figures.

use std::fmt::Write as _;
use std::hint::black_box;
use std::net::Ipv6Addr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use eks6::net::{
    PrefixTable, aggregate, canonical, canonical_prefix, contains, nth_subnet, parse_addr, parse_prefix, subnets,
};
use ipnet::Ipv6Net;

// The C ABI's source, compiled into this binary (the ffi package builds only a cdylib
// and a staticlib, both named like the core library). Its `extern "C"` functions are
// called through function pointers behind `black_box`, so they are not inlined: the
// same out-of-line C-ABI call a C program makes (less the PLT hop).
extern crate eks6 as eks6_core;
#[allow(unexpected_cfgs, dead_code, unused_imports, clippy::upper_case_acronyms)]
#[path = "../../ffi/src/lib.rs"]
mod ffi;

/// A small deterministic generator (xorshift64*), so every run sees the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn u128(&mut self) -> u128 {
        ((self.next() as u128) << 64) | self.next() as u128
    }
}

const VPC: u128 = 0x2600_1f13_0812_0000_0000_0000_0000_0000;

/// Addresses as EKS shows them: node and pod addresses in a VPC's /56, some with
/// zero runs, a few IPv4-mapped.
fn addresses(n: usize) -> Vec<Ipv6Addr> {
    let mut rng = Rng(0x5eed);
    (0..n)
        .map(|i| {
            let r = rng.u128();
            let v = match i % 4 {
                0 => VPC | (r & 0xff_ffff_ffff_ffff_ffff_ffff), // anywhere in the /56
                1 => VPC | (r & 0xff_0000_ffff_0000_0000_00ff), // pod: subnet, /80 node, small host
                2 => VPC | (r & 0xffff),                        // short
                _ => r,
            };
            Ipv6Addr::from_bits(v)
        })
        .collect()
}

/// Per-item groups run over a fixed batch of 256 inputs per iteration (throughput is
/// per item), so loop and indexing overhead is spread the same over both functions.
const BATCH: usize = 256;

fn bench_parse(c: &mut Criterion) {
    let texts: Vec<String> = addresses(BATCH).iter().map(|a| a.to_string()).collect();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("eks6", |b| {
        b.iter(|| {
            for t in black_box(&texts) {
                black_box(parse_addr(t).ok());
            }
        })
    });
    g.bench_function("std", |b| {
        b.iter(|| {
            for t in black_box(&texts) {
                black_box(t.parse::<Ipv6Addr>().ok());
            }
        })
    });
    g.finish();
}

fn bench_format(c: &mut Criterion) {
    let addrs = addresses(BATCH);
    let mut g = c.benchmark_group("format");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("eks6", |b| {
        b.iter(|| {
            for a in black_box(&addrs) {
                black_box(canonical(*a));
            }
        })
    });
    g.bench_function("std", |b| {
        let mut s = String::with_capacity(64);
        b.iter(|| {
            for a in black_box(&addrs) {
                s.clear();
                write!(s, "{a}").unwrap();
                black_box(s.as_str());
            }
        })
    });
    g.finish();
}

fn bench_carve(c: &mut Criterion, name: &str, parent: Ipv6Net, new_len: u8) {
    let count = 1u64 << (new_len - parent.prefix_len());
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(count));
    g.bench_function("eks6", |b| {
        b.iter(|| {
            for n in subnets(black_box(parent), new_len).unwrap() {
                black_box(n);
            }
        })
    });
    g.bench_function("ipnet", |b| {
        b.iter(|| {
            for n in black_box(parent).subnets(new_len).unwrap() {
                black_box(n);
            }
        })
    });
    g.finish();
}

fn bench_carves(c: &mut Criterion) {
    bench_carve(c, "carve_56_64", "2600:1f13:812::/56".parse().unwrap(), 64);
    bench_carve(c, "carve_64_80", "2600:1f13:812::/64".parse().unwrap(), 80);
}

fn bench_contains(c: &mut Criterion) {
    let mut rng = Rng(7);
    let addrs = addresses(BATCH);
    let nets: Vec<Ipv6Net> = (0..BATCH)
        .map(|i| {
            let len = [56u8, 64, 80, 128][i % 4];
            // Half contain their address, half do not.
            let base = if i % 2 == 0 { addrs[i].to_bits() } else { rng.u128() };
            Ipv6Net::new(Ipv6Addr::from_bits(base), len).unwrap().trunc()
        })
        .collect();
    let pairs: Vec<(Ipv6Net, Ipv6Addr)> = nets.into_iter().zip(addrs).collect();
    let mut g = c.benchmark_group("contains");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("eks6", |b| {
        b.iter(|| {
            for (n, a) in black_box(&pairs) {
                black_box(contains(*n, *a));
            }
        })
    });
    g.bench_function("ipnet", |b| {
        b.iter(|| {
            for (n, a) in black_box(&pairs) {
                black_box(n.contains(a));
            }
        })
    });
    g.finish();
}

/// 10,000 node /80s spread over 100 subnet /64s, plus the 100 /64s themselves.
fn lpm_inputs() -> (Vec<(Ipv6Net, u32)>, Vec<Ipv6Addr>) {
    let mut rng = Rng(42);
    let mut nets = Vec::new();
    for s in 0..100u128 {
        let subnet = VPC | (s << 64);
        nets.push((Ipv6Net::new(Ipv6Addr::from_bits(subnet), 64).unwrap(), 1_000_000 + s as u32));
        for _ in 0..100 {
            let node = subnet | ((rng.next() as u128 & 0xffff) << 48);
            nets.push((Ipv6Net::new(Ipv6Addr::from_bits(node), 80).unwrap(), nets.len() as u32));
        }
    }
    nets.sort_by_key(|(n, _)| (n.network(), n.prefix_len()));
    nets.dedup_by_key(|(n, _)| *n);
    // 4096 queries: most are pods on a node, some fall only in a subnet, a few nowhere.
    let nodes: Vec<Ipv6Net> = nets.iter().filter(|(n, _)| n.prefix_len() == 80).map(|(n, _)| *n).collect();
    let queries = (0..4096)
        .map(|i| {
            let r = rng.u128();
            let v = match i % 10 {
                0 => VPC | ((r % 100) << 64) | (r as u64 as u128 & 0xffff_ffff), // subnet only (almost surely)
                1 => r,                                                          // nowhere
                _ => nodes[(r % nodes.len() as u128) as usize].network().to_bits() | (r & 0xffff),
            };
            Ipv6Addr::from_bits(v)
        })
        .collect();
    (nets, queries)
}

fn bench_lpm(c: &mut Criterion) {
    let (nets, queries) = lpm_inputs();
    let table: PrefixTable<u32> = nets.iter().copied().collect();
    // Baseline: binary search over the sorted /80s for the exact /80, then over the
    // sorted shorter prefixes for one that contains the address.
    let mut node_keys: Vec<(u128, u32)> =
        nets.iter().filter(|(n, _)| n.prefix_len() == 80).map(|(n, v)| (n.network().to_bits(), *v)).collect();
    node_keys.sort_unstable();
    let mut shorter: Vec<(Ipv6Net, u32)> = nets.iter().filter(|(n, _)| n.prefix_len() < 80).copied().collect();
    shorter.sort_unstable_by_key(|(n, _)| n.network());
    let sorted_vec = |a: Ipv6Addr| -> Option<u32> {
        let key = a.to_bits() & (u128::MAX << 48);
        if let Ok(i) = node_keys.binary_search_by_key(&key, |e| e.0) {
            return Some(node_keys[i].1);
        }
        let i = shorter.partition_point(|(n, _)| n.network() <= a);
        (i > 0 && shorter[i - 1].0.contains(&a)).then(|| shorter[i - 1].1)
    };
    for q in &queries {
        assert_eq!(table.lookup(*q).copied(), sorted_vec(*q), "the baseline must agree");
    }
    let mut g = c.benchmark_group("lpm_10k");
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function("eks6", |b| {
        b.iter(|| {
            for q in black_box(&queries) {
                black_box(table.lookup(*q));
            }
        })
    });
    g.bench_function("sorted_vec", |b| {
        b.iter(|| {
            for q in black_box(&queries) {
                black_box(sorted_vec(*q));
            }
        })
    });
    g.finish();
}

fn bench_aggregate(c: &mut Criterion) {
    let mut rng = Rng(99);
    let mut nets: Vec<Ipv6Net> =
        (0..10_000u128).map(|i| Ipv6Net::new(Ipv6Addr::from_bits(VPC | (i << 48)), 80).unwrap()).collect();
    // Fisher-Yates with the deterministic generator.
    for i in (1..nets.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        nets.swap(i, j);
    }
    assert_eq!(aggregate(&nets), Ipv6Net::aggregate(&nets));
    let mut g = c.benchmark_group("aggregate_10k");
    g.bench_function("eks6", |b| b.iter(|| black_box(aggregate(black_box(&nets)))));
    g.bench_function("ipnet", |b| b.iter(|| black_box(Ipv6Net::aggregate(black_box(&nets)))));
    g.finish();
}

type TextFn = unsafe extern "C" fn(*const std::ffi::c_char, *mut std::ffi::c_char, usize, *mut usize) -> ffi::Status;
type NthFn =
    unsafe extern "C" fn(*const std::ffi::c_char, u8, u64, *mut std::ffi::c_char, usize, *mut usize) -> ffi::Status;

/// `eks6_canonical` and `eks6_nth_subnet` through the C ABI beside their Rust twins
/// (text in, text out), same inputs.
fn bench_c_abi(c: &mut Criterion) {
    let texts: Vec<String> = addresses(BATCH).iter().map(|a| expanded_text(*a)).collect();
    let ctexts: Vec<std::ffi::CString> = texts.iter().map(|t| std::ffi::CString::new(t.as_str()).unwrap()).collect();
    let mut g = c.benchmark_group("c_abi_canonical");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("rust", |b| {
        b.iter(|| {
            for t in black_box(&texts) {
                black_box(parse_addr(t).map(canonical).ok());
            }
        })
    });
    g.bench_function("c", |b| {
        let f: TextFn = black_box(ffi::eks6_canonical);
        let mut buf = [0 as std::ffi::c_char; 64];
        let mut n = 0usize;
        b.iter(|| {
            for t in black_box(&ctexts) {
                // SAFETY: a NUL-terminated string, a 64-byte buffer, a valid out_len.
                let s = unsafe { f(t.as_ptr(), buf.as_mut_ptr(), buf.len(), &mut n) };
                black_box((s, &buf));
            }
        })
    });
    g.finish();

    let parent = "2600:1f13:812:a00::/56";
    let cparent = std::ffi::CString::new(parent).unwrap();
    let ns: Vec<u64> = {
        let mut rng = Rng(0xc0de);
        (0..BATCH).map(|_| rng.next() & 0xff_ffff).collect()
    };
    let mut g = c.benchmark_group("c_abi_nth_subnet");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("rust", |b| {
        b.iter(|| {
            for &n in black_box(&ns) {
                let p = parse_prefix(black_box(parent)).unwrap();
                black_box(nth_subnet(p, 80, n.into()).map(canonical_prefix).ok());
            }
        })
    });
    g.bench_function("c", |b| {
        let f: NthFn = black_box(ffi::eks6_nth_subnet);
        let mut buf = [0 as std::ffi::c_char; 64];
        let mut out = 0usize;
        b.iter(|| {
            for &n in black_box(&ns) {
                // SAFETY: as above.
                let s = unsafe { f(black_box(cparent.as_ptr()), 80, n, buf.as_mut_ptr(), buf.len(), &mut out) };
                black_box((s, &buf));
            }
        })
    });
    g.finish();
}

/// Addresses as users paste them: half expanded, half canonical.
fn expanded_text(a: Ipv6Addr) -> String {
    if a.segments()[7].is_multiple_of(2) { eks6::net::expanded(a).to_string() } else { a.to_string() }
}

criterion_group!(
    benches,
    bench_c_abi,
    bench_parse,
    bench_format,
    bench_carves,
    bench_contains,
    bench_lpm,
    bench_aggregate
);
criterion_main!(benches);
