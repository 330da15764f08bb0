//! The one error type of the address math.

use std::fmt;
use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use crate::error::{ErrorKind, Q};

/// Why an IPv6 address text was rejected. Offsets are byte offsets into the input.
///
/// Each reason prints as a lowercase phrase that says what was wrong and where; the
/// enclosing [`NetError`] adds the input itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddrReason {
    /// The input is empty.
    Empty,
    /// A group has more than four hex digits.
    GroupTooLong {
        /// Byte offset of the group.
        offset: usize,
        /// Number of hex digits in the group.
        digits: usize,
    },
    /// A character that cannot appear at this place.
    UnexpectedChar {
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        ch: char,
    },
    /// A second `::`.
    SecondDoubleColon {
        /// Byte offset of the second `::`.
        offset: usize,
    },
    /// Three colons in a row.
    ThreeColons {
        /// Byte offset of the first of the three.
        offset: usize,
    },
    /// The address starts with a single colon.
    LeadingColon,
    /// The address ends with a single colon.
    TrailingColon {
        /// Byte offset of the colon.
        offset: usize,
    },
    /// More than eight groups (or eight groups and a `::`).
    TooManyGroups {
        /// Byte offset of the first group too many.
        offset: usize,
    },
    /// Fewer than eight groups and no `::`.
    TooFewGroups {
        /// Number of 16-bit groups found (an IPv4 tail counts two).
        found: usize,
    },
    /// Leading or trailing white space.
    Whitespace {
        /// Byte offset of the white space.
        offset: usize,
    },
    /// Square brackets, which belong in URLs, not in addresses.
    Brackets,
    /// A `/len` suffix: a prefix, not an address.
    PrefixLength {
        /// Byte offset of the `/`.
        offset: usize,
    },
    /// A `%zone` suffix where a plain address was expected.
    ZoneId {
        /// Byte offset of the `%`.
        offset: usize,
    },
    /// An IPv4 octet over 255.
    OctetTooLarge {
        /// Byte offset of the octet.
        offset: usize,
        /// Number of digits of the octet.
        len: usize,
    },
    /// An IPv4 octet written with a leading zero (ambiguous: octal in some parsers).
    OctetLeadingZero {
        /// Byte offset of the octet.
        offset: usize,
        /// Number of digits of the octet.
        len: usize,
    },
    /// An IPv4 tail without exactly four octets.
    OctetCount {
        /// Byte offset of the IPv4 part.
        offset: usize,
        /// Number of octets found.
        found: usize,
    },
    /// An IPv4 tail that is not at the end, or a hex group inside it.
    BadIpv4Part {
        /// Byte offset of the IPv4 part.
        offset: usize,
    },
    /// An IPv4 tail in a place where fewer than two groups are left.
    Ipv4TailPosition {
        /// Byte offset of the IPv4 part.
        offset: usize,
    },
    /// The whole input is an IPv4 address.
    Ipv4Address,
}

impl AddrReason {
    /// Byte offset of the problem in the input.
    pub fn offset(&self) -> usize {
        match *self {
            Self::Empty | Self::LeadingColon | Self::Brackets | Self::Ipv4Address => 0,
            Self::TooFewGroups { .. } => 0,
            Self::GroupTooLong { offset, .. }
            | Self::UnexpectedChar { offset, .. }
            | Self::SecondDoubleColon { offset }
            | Self::ThreeColons { offset }
            | Self::TrailingColon { offset }
            | Self::TooManyGroups { offset }
            | Self::Whitespace { offset }
            | Self::PrefixLength { offset }
            | Self::ZoneId { offset }
            | Self::OctetTooLarge { offset, .. }
            | Self::OctetLeadingZero { offset, .. }
            | Self::OctetCount { offset, .. }
            | Self::BadIpv4Part { offset }
            | Self::Ipv4TailPosition { offset } => offset,
        }
    }

    /// Writes the reason, quoting the part of `input` it is about.
    fn write(&self, input: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = |offset: usize, len: usize| input.get(offset..offset + len).unwrap_or("");
        match *self {
            Self::Empty => f.write_str("empty input"),
            Self::GroupTooLong { offset, digits } => {
                write!(f, "group {:?} at offset {offset} has {digits} hex digits (at most 4)", Q(part(offset, digits)))
            }
            Self::UnexpectedChar { offset, ch } => {
                write!(f, "unexpected character {ch:?} at offset {offset} (expected a hex digit, ':' or '.')")
            }
            Self::SecondDoubleColon { offset } => {
                write!(f, "second \"::\" at offset {offset} (only one is allowed)")
            }
            Self::ThreeColons { offset } => write!(f, "three colons in a row at offset {offset}"),
            Self::LeadingColon => f.write_str("single ':' at offset 0 (a leading colon must be \"::\")"),
            Self::TrailingColon { offset } => {
                write!(f, "single ':' at the end, offset {offset} (a trailing colon must be \"::\")")
            }
            Self::TooManyGroups { offset } => {
                write!(f, "too many groups: the group at offset {offset} is one past the 8 an address holds")
            }
            Self::TooFewGroups { found } => {
                write!(f, "{found} groups and no \"::\" (an address has 8 groups of 16 bits)")
            }
            Self::Whitespace { offset } => write!(f, "white space at offset {offset}"),
            Self::Brackets => f.write_str("square brackets at offset 0 (brackets belong in URLs, not in addresses)"),
            Self::PrefixLength { offset } => {
                write!(f, "prefix length at offset {offset} (a prefix is not an address)")
            }
            Self::ZoneId { offset } => {
                write!(f, "zone id at offset {offset} (use a scoped address type for link-local addresses with a zone)")
            }
            Self::OctetTooLarge { offset, len } => {
                write!(f, "IPv4 octet {:?} at offset {offset} is over 255", Q(part(offset, len)))
            }
            Self::OctetLeadingZero { offset, len } => {
                write!(f, "IPv4 octet {:?} at offset {offset} has a leading zero", Q(part(offset, len)))
            }
            Self::OctetCount { offset, found } => write!(
                f,
                "IPv4 part {:?} at offset {offset} has {found} octets (4 needed)",
                Q(input.get(offset..).unwrap_or(""))
            ),
            Self::BadIpv4Part { offset } => write!(f, "malformed IPv4 part at offset {offset}"),
            Self::Ipv4TailPosition { offset } => {
                write!(f, "IPv4 part at offset {offset} must stand in the last two groups")
            }
            Self::Ipv4Address => {
                f.write_str("this is an IPv4 address (an IPv4-mapped IPv6 address is written ::ffff:a.b.c.d)")
            }
        }
    }
}

/// Why a prefix text was rejected (beyond a bad address part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrefixReason {
    /// The address before the `/` is invalid.
    Addr(AddrReason),
    /// No `/len` at all.
    MissingLength,
    /// The length is not a decimal number from 0 to 128 without leading zeros.
    BadLength {
        /// Byte offset of the length.
        offset: usize,
    },
    /// The length is over 128.
    LengthOver128 {
        /// Byte offset of the length.
        offset: usize,
    },
}

/// Why a URL could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UrlReason {
    /// The scheme is empty or has characters RFC 3986 does not allow.
    Scheme,
    /// The host is empty.
    EmptyHost,
    /// The host is neither an IPv6 address, an IPv4 address nor a DNS name.
    Host(AddrReason),
    /// A DNS name with a character or label that is not allowed.
    DnsName {
        /// Byte offset in the host.
        offset: usize,
    },
    /// An empty zone id after `%`.
    EmptyZone,
    /// The zone id has white space or control characters.
    ZoneChar {
        /// Byte offset in the host.
        offset: usize,
    },
    /// The host is in square brackets; the builder adds them.
    BracketedHost,
    /// Port 0, a negative port or a port over 65535.
    Port(i64),
    /// A host with `:port` on it (`example.com:80`).
    HostWithPort {
        /// Byte offset of the `:`.
        offset: usize,
    },
    /// The path does not start with `/`.
    PathStart,
    /// The path has a space or a control character.
    PathChar {
        /// Byte offset in the path.
        offset: usize,
    },
}

/// Every error of the address math. Each variant carries the offending input.
///
/// ```
/// use eks6::net::{parse_addr, NetError};
/// let err = parse_addr("2600:0000:0000:35000000:46f9::1").unwrap_err();
/// assert_eq!(err.offset(), Some(15));
/// assert_eq!(
///     err.to_string(),
///     "invalid IPv6 address \"2600:0000:0000:35000000:46f9::1\": \
///      group \"35000000\" at offset 15 has 8 hex digits (at most 4)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// An IPv6 address text that does not parse.
    #[error("invalid IPv6 address {:?}: {}", Q(input), Reason(reason, input))]
    InvalidAddress {
        /// The input as given.
        input: Box<str>,
        /// What was wrong, and where.
        reason: AddrReason,
    },
    /// An IPv6 prefix text that does not parse.
    #[error("invalid IPv6 prefix {:?}: {}", Q(input), Reason(reason, input))]
    InvalidPrefix {
        /// The input as given.
        input: Box<str>,
        /// What was wrong, and where.
        reason: PrefixReason,
    },
    /// A prefix written with host bits set, under strict parsing.
    #[error("invalid IPv6 prefix {:?}: host bits are set past /{}; did you mean {network}?", Q(input), network.prefix_len())]
    HostBitsSet {
        /// The input as given.
        input: Box<str>,
        /// The network the input probably meant (host bits cleared).
        network: Ipv6Net,
    },
    /// A new prefix length shorter than the parent's, or over 128.
    #[error("{}", length_message(*parent, *new_len))]
    InvalidLength {
        /// The parent prefix.
        parent: Ipv6Net,
        /// The requested length.
        new_len: u16,
    },
    /// A prefix length given on its own that is not one.
    #[error(
        "prefix length {} is not a decimal number from 0 to 128 without leading zeros (the rule of a prefix's /len)",
        crate::error::quote_limited(input, crate::error::QUOTE_MAX)
    )]
    BadLength {
        /// The text.
        input: Box<str>,
    },
    /// A subnet index past the last subnet.
    #[error("subnet index {index} is past the last of the {count} /{new_len} subnets of {parent} (last index {})", count - 1)]
    IndexOutOfRange {
        /// The parent prefix.
        parent: Ipv6Net,
        /// The subnet length.
        new_len: u8,
        /// The index asked for.
        index: u128,
        /// How many subnets there are.
        count: u128,
    },
    /// The count of subnets does not fit the integer type asked for.
    #[error("{parent} holds 2^{bits} /{new_len} subnets, too many to count in this integer type")]
    CountOverflow {
        /// The parent prefix.
        parent: Ipv6Net,
        /// The subnet length.
        new_len: u8,
        /// Bits needed to hold the count, i.e. the count is 2^bits.
        bits: u8,
    },
    /// A prefix that is not inside the parent it was given for.
    #[error("{prefix} is not inside {parent}")]
    OutsideParent {
        /// The parent prefix.
        parent: Ipv6Net,
        /// The offending prefix.
        prefix: Ipv6Net,
    },
    /// An allocator has no free aligned block of the length asked for.
    #[error("no free /{len} is left in {parent}")]
    Exhausted {
        /// The parent prefix.
        parent: Ipv6Net,
        /// The length asked for.
        len: u8,
    },
    /// A prefix marked used that already overlaps a used one.
    #[error("{prefix} overlaps a prefix already in use")]
    InUse {
        /// The offending prefix.
        prefix: Ipv6Net,
    },
    /// A prefix released that is (partly) free already.
    #[error("{prefix} is not (wholly) in use, so it cannot be released")]
    NotInUse {
        /// The offending prefix.
        prefix: Ipv6Net,
    },
    /// A reverse zone asked for a prefix whose length is not a multiple of 4.
    #[error("{prefix} does not end on a nibble boundary (an ip6.arpa zone needs a length that is a multiple of 4)")]
    NotNibbleAligned {
        /// The offending prefix.
        prefix: Ipv6Net,
    },
    /// An address range whose first address is after its last.
    #[error("address range {first} - {last} is empty: the first address is after the last")]
    InvalidRange {
        /// First address.
        first: Ipv6Addr,
        /// Last address.
        last: Ipv6Addr,
    },
    /// A URL that could not be built.
    #[error("cannot build a URL from {:?}: {}", Q(input), Reason(reason, input))]
    InvalidUrl {
        /// The part that was wrong (scheme, host, port or path) as given.
        input: Box<str>,
        /// What was wrong, and where.
        reason: UrlReason,
    },
}

impl NetError {
    /// The stable kind of this error (a row of [`crate::error::TABLE`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidAddress { .. } => ErrorKind::InvalidAddress,
            Self::InvalidPrefix { .. } | Self::HostBitsSet { .. } | Self::NotNibbleAligned { .. } => {
                ErrorKind::InvalidPrefix
            }
            Self::InvalidLength { .. } | Self::BadLength { .. } => ErrorKind::InvalidLength,
            Self::IndexOutOfRange { .. } | Self::CountOverflow { .. } => ErrorKind::OutOfRange,
            Self::OutsideParent { .. } | Self::InUse { .. } | Self::NotInUse { .. } | Self::InvalidRange { .. } => {
                ErrorKind::PrefixConflict
            }
            Self::Exhausted { .. } => ErrorKind::Exhausted,
            Self::InvalidUrl { .. } => ErrorKind::InvalidUrl,
        }
    }

    /// The offending input text, where the error is about a text.
    pub fn input(&self) -> Option<&str> {
        match self {
            Self::InvalidAddress { input, .. }
            | Self::InvalidPrefix { input, .. }
            | Self::HostBitsSet { input, .. }
            | Self::InvalidUrl { input, .. }
            | Self::BadLength { input } => Some(input),
            _ => None,
        }
    }

    /// Byte offset of the problem in [`input`](Self::input), where there is one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::InvalidAddress { reason, .. } => Some(reason.offset()),
            Self::InvalidPrefix { reason, input } => Some(match reason {
                PrefixReason::Addr(r) => r.offset(),
                PrefixReason::MissingLength => input.len(),
                PrefixReason::BadLength { offset } | PrefixReason::LengthOver128 { offset } => *offset,
            }),
            Self::HostBitsSet { .. } => Some(0),
            Self::InvalidUrl { reason, .. } => match reason {
                UrlReason::Host(r) => Some(r.offset()),
                UrlReason::DnsName { offset }
                | UrlReason::ZoneChar { offset }
                | UrlReason::PathChar { offset }
                | UrlReason::HostWithPort { offset } => Some(*offset),
                _ => Some(0),
            },
            _ => None,
        }
    }

    #[cold]
    pub(crate) fn addr(input: &str, reason: AddrReason) -> Self {
        Self::InvalidAddress { input: input.into(), reason }
    }

    #[cold]
    pub(crate) fn prefix(input: &str, reason: PrefixReason) -> Self {
        Self::InvalidPrefix { input: input.into(), reason }
    }

    #[cold]
    pub(crate) fn url(input: &str, reason: UrlReason) -> Self {
        Self::InvalidUrl { input: input.into(), reason }
    }
}

/// Displays a reason with the input it points into.
struct Reason<'a, R>(&'a R, &'a str);

impl fmt::Display for Reason<'_, AddrReason> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(self.1, f)
    }
}

impl fmt::Display for Reason<'_, PrefixReason> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = self.1;
        match self.0 {
            PrefixReason::Addr(r) => r.write(input, f),
            PrefixReason::MissingLength => f.write_str("no \"/len\" prefix length"),
            PrefixReason::BadLength { offset } => write!(
                f,
                "prefix length {:?} at offset {offset} is not a decimal number from 0 to 128",
                Q(input.get(*offset..).unwrap_or(""))
            ),
            PrefixReason::LengthOver128 { offset } => {
                write!(f, "prefix length {} at offset {offset} is over 128", input.get(*offset..).unwrap_or(""))
            }
        }
    }
}

impl fmt::Display for Reason<'_, UrlReason> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            UrlReason::Scheme => f.write_str("a scheme starts with a letter, then letters, digits, '+', '-' or '.'"),
            UrlReason::EmptyHost => f.write_str("the host is empty"),
            UrlReason::Host(r) => r.write(self.1, f),
            UrlReason::DnsName { offset } => {
                write!(f, "not an IP address, and not a DNS name: bad character or label at offset {offset}")
            }
            UrlReason::EmptyZone => f.write_str("the zone id after '%' is empty"),
            UrlReason::ZoneChar { offset } => {
                write!(f, "white space or control character in the zone id at offset {offset}")
            }
            UrlReason::BracketedHost => f.write_str("give the address without square brackets; the builder adds them"),
            UrlReason::Port(p) => write!(f, "port {p} is not in 1..=65535"),
            UrlReason::HostWithPort { offset } => write!(
                f,
                "a host and a port at offset {offset}: give the port on its own (--port), and as the host an IPv6 address, an IPv4 address or a DNS name"
            ),
            UrlReason::PathStart => f.write_str("a path must start with '/'"),
            UrlReason::PathChar { offset } => write!(f, "space or control character in the path at offset {offset}"),
        }
    }
}

fn length_message(parent: Ipv6Net, new_len: u16) -> String {
    if new_len > 128 {
        format!("prefix length {new_len} for {parent} is over 128")
    } else {
        format!(
            "prefix length {new_len} is shorter than the parent {parent}; subnets must be /{} or longer",
            parent.prefix_len()
        )
    }
}
