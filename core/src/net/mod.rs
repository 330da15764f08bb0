//! IPv6 address and prefix math, with no AWS types and no async runtime.
//!
//! The API speaks [`std::net::Ipv6Addr`] and [`ipnet::Ipv6Net`] so that values pass
//! to and from the rest of the ecosystem unchanged; inside, everything is computed on
//! `u128`.
//!
//! - Text in: [`parse_addr`], [`parse_prefix`] (strict), [`parse_prefix_lenient`],
//!   [`ScopedIpv6Addr`] for addresses with a zone id. Errors say what and where.
//! - Text out: [`canonical`] (RFC 5952), [`expanded`], [`reverse_name`],
//!   [`reverse_zone`] (and [`reverse`] for either), all into stack buffers; [`bracketed_url`] and [`socket_text`].
//! - Prefixes: [`subnets`], [`nth_subnet`], [`subnet_count`] ([`count_subnets`] up to
//!   2^128), [`supernet`],
//!   [`contains`], [`contains_prefix`], [`aggregate`], [`exclude`],
//!   [`range_to_prefixes`].
//! - Structures: [`PrefixAllocator`] (lowest free aligned prefix) and [`PrefixTable`]
//!   (longest-prefix match).
//!
//! ```
//! use eks6::net::{nth_subnet, parse_prefix, subnets};
//! // A VPC's /56 → the third subnet's /64 → the node prefixes the VPC CNI hands out.
//! let vpc = parse_prefix("2600:1f13:812::/56")?;
//! let subnet = nth_subnet(vpc, 64, 2)?;
//! let first_node = subnets(subnet, 80)?.next().unwrap();
//! assert_eq!(first_node.to_string(), "2600:1f13:812:2::/80");
//! # Ok::<(), eks6::net::NetError>(())
//! ```

mod alloc;
mod error;
mod parse;
mod prefix;
mod table;
mod text;
mod url;

pub use alloc::PrefixAllocator;
pub use error::{AddrReason, NetError, PrefixReason, UrlReason};
pub use parse::{parse_addr, parse_addr_bytes, parse_length, parse_prefix, parse_prefix_lenient};
pub use prefix::{
    ExactSubnets, SubnetCount, Subnets, aggregate, contains, contains_prefix, count_subnets, exclude, nth_subnet,
    range_to_prefixes, subnet_count, subnets, supernet,
};
pub use table::PrefixTable;
pub use text::{
    AddrText, PrefixText, ReverseName, StackStr, canonical, canonical_prefix, expanded, for_each_subnet_text, reverse,
    reverse_name, reverse_zone,
};
pub use url::{ScopedIpv6Addr, bracketed_url, port_number, socket_text};

pub use ipnet::Ipv6Net;
pub use std::net::Ipv6Addr;
