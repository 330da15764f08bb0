//! Parsing of IPv6 address and prefix text (RFC 4291 section 2.2 and 2.3).
//!
//! One pass over the bytes, no allocation on success; on failure the byte offset and
//! the reason are kept.

use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use super::error::{AddrReason, NetError, PrefixReason};
use super::prefix::{mask, net_from_u128};

/// Hex value of each byte, or 0xff for a non-hex byte.
static HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Parses IPv6 address text in any RFC 4291 form: full, compressed with `::`, or with an
/// embedded IPv4 tail (`::ffff:192.0.2.1`). Hex digits may be upper or lower case.
///
/// Rejects with a reason and byte offset: zone ids (see [`ScopedIpv6Addr`]), brackets,
/// prefix lengths, white space, IPv4 octets with leading zeros.
///
/// [`ScopedIpv6Addr`]: super::ScopedIpv6Addr
///
/// ```
/// use eks6::net::parse_addr;
/// assert_eq!(parse_addr("2001:DB8:0:0:1::1")?.to_string(), "2001:db8::1:0:0:1");
/// let err = parse_addr("2600::1::2").unwrap_err();
/// assert!(err.to_string().contains("second \"::\" at offset 7"));
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn parse_addr(input: &str) -> Result<Ipv6Addr, NetError> {
    match parse_u128(input.as_bytes()) {
        Ok(v) => Ok(Ipv6Addr::from_bits(v)),
        Err(reason) => Err(NetError::addr(input, reason)),
    }
}

/// Parses address bytes as [`parse_addr`] does, for callers that hold bytes (a C string)
/// and would otherwise check UTF-8 first: the parser accepts ASCII only, so valid UTF-8
/// need not be checked on the way in. An error quotes the input lossily.
///
/// ```
/// use eks6::net::parse_addr_bytes;
/// assert_eq!(parse_addr_bytes(b"2600::1")?.segments()[0], 0x2600);
/// assert!(parse_addr_bytes(b"2600::\xff").is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn parse_addr_bytes(input: &[u8]) -> Result<Ipv6Addr, NetError> {
    match parse_u128(input) {
        Ok(v) => Ok(Ipv6Addr::from_bits(v)),
        Err(reason) => Err(NetError::addr(&String::from_utf8_lossy(input), reason)),
    }
}

/// Parses as [`parse_addr`] does, returning the address as a `u128`.
#[inline]
pub(crate) fn parse_u128(s: &[u8]) -> Result<u128, AddrReason> {
    let n = s.len();
    if n < 2 {
        return match s.first() {
            None => Err(AddrReason::Empty),
            Some(b':') => Err(AddrReason::LeadingColon),
            Some(_) => Err(short(s)),
        };
    }
    // Groups are shifted into `acc`; at a `::`, `acc` moves to `head` and the groups
    // after it gather in `acc` again.
    let mut acc: u128 = 0;
    let mut head: u128 = 0;
    let mut count = 0usize;
    // Number of groups before the `::`, or NO_DC.
    const NO_DC: usize = usize::MAX;
    let mut dc = NO_DC;
    let mut limit = 8usize;
    let mut i = 0usize;

    if s[0] == b':' {
        if s[1] != b':' {
            return Err(AddrReason::LeadingColon);
        }
        if n == 2 {
            return Ok(0);
        }
        if s[2] == b':' {
            return Err(AddrReason::ThreeColons { offset: 0 });
        }
        dc = 0;
        limit = 7;
        i = 2;
    }

    loop {
        // One group: up to four hex digits, or an IPv4 tail.
        let start = i;
        let mut v: u32 = 0;
        while i < n {
            let h = HEX[s[i] as usize];
            if h > 15 {
                break;
            }
            v = (v << 4) | h as u32;
            i += 1;
        }
        let digits = i - start;
        if i < n && s[i] == b'.' {
            let tail = parse_ipv4_tail(s, start)?;
            if count + 2 > limit {
                return Err(if count >= limit {
                    AddrReason::TooManyGroups { offset: start }
                } else {
                    AddrReason::Ipv4TailPosition { offset: start }
                });
            }
            if count == 0 && dc == NO_DC {
                return Err(AddrReason::Ipv4Address);
            }
            acc = (acc << 32) | tail as u128;
            count += 2;
            break;
        }
        if digits.wrapping_sub(1) >= 4 {
            return Err(if digits == 0 {
                unexpected(s, i)
            } else {
                AddrReason::GroupTooLong { offset: start, digits }
            });
        }
        if count >= limit {
            return Err(AddrReason::TooManyGroups { offset: start });
        }
        acc = (acc << 16) | v as u128;
        count += 1;
        if i == n {
            break;
        }
        if s[i] != b':' {
            return Err(unexpected(s, i));
        }
        i += 1;
        if i == n {
            return Err(AddrReason::TrailingColon { offset: i - 1 });
        }
        if s[i] == b':' {
            if dc != NO_DC {
                return Err(AddrReason::SecondDoubleColon { offset: i - 1 });
            }
            if count == 8 {
                // `::` must stand for at least one group.
                return Err(AddrReason::TooManyGroups { offset: i + 1 });
            }
            dc = count;
            limit = 7;
            head = acc;
            acc = 0;
            i += 1;
            if i == n {
                break;
            }
            if s[i] == b':' {
                return Err(AddrReason::ThreeColons { offset: i - 2 });
            }
        }
    }

    if dc == NO_DC {
        if count != 8 {
            return Err(AddrReason::TooFewGroups { found: count });
        }
        return Ok(acc);
    }
    // `head` holds `dc` groups that belong at the top.
    Ok(head.checked_shl(16 * (8 - dc) as u32).unwrap_or(0) | acc)
}

/// The reason for a one-byte input that is not ':'.
#[cold]
fn short(s: &[u8]) -> AddrReason {
    if HEX[s[0] as usize] <= 15 { AddrReason::TooFewGroups { found: 1 } } else { unexpected(s, 0) }
}

/// Parses the dotted-quad tail that starts at `start` and must run to the end.
#[inline(never)]
fn parse_ipv4_tail(s: &[u8], start: usize) -> Result<u32, AddrReason> {
    let n = s.len();
    let mut value: u32 = 0;
    let mut octets = 0usize;
    let mut i = start;
    loop {
        let o_start = i;
        let mut o: u32 = 0;
        while i < n && s[i].is_ascii_digit() {
            o = o * 10 + (s[i] - b'0') as u32;
            i += 1;
            if i - o_start > 3 {
                // Keep counting digits for the message, but stop growing the value.
                while i < n && s[i].is_ascii_digit() {
                    i += 1;
                }
                return Err(AddrReason::OctetTooLarge { offset: o_start, len: i - o_start });
            }
        }
        let len = i - o_start;
        if len == 0 {
            if i < n && HEX[s[i] as usize] != 0xff {
                return Err(AddrReason::BadIpv4Part { offset: start });
            }
            return Err(unexpected(s, i));
        }
        if i < n && HEX[s[i] as usize] != 0xff {
            return Err(AddrReason::BadIpv4Part { offset: start });
        }
        if len > 1 && s[o_start] == b'0' {
            return Err(AddrReason::OctetLeadingZero { offset: o_start, len });
        }
        if o > 255 {
            return Err(AddrReason::OctetTooLarge { offset: o_start, len });
        }
        octets += 1;
        if octets > 4 {
            return Err(AddrReason::OctetCount { offset: start, found: octets });
        }
        value = (value << 8) | o;
        if i == n {
            break;
        }
        if s[i] == b'.' {
            i += 1;
            continue;
        }
        if s[i] == b':' {
            return Err(AddrReason::BadIpv4Part { offset: start });
        }
        return Err(unexpected(s, i));
    }
    if octets != 4 {
        return Err(AddrReason::OctetCount { offset: start, found: octets });
    }
    Ok(value)
}

/// The reason for an unexpected byte at `i` (or the end of input).
#[cold]
fn unexpected(s: &[u8], i: usize) -> AddrReason {
    if i >= s.len() {
        return AddrReason::TrailingColon { offset: s.len().saturating_sub(1) };
    }
    let b = s[i];
    match b {
        b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => AddrReason::Whitespace { offset: i },
        b'[' | b']' if s[0] == b'[' || s[s.len() - 1] == b']' => AddrReason::Brackets,
        b'/' => AddrReason::PrefixLength { offset: i },
        b'%' => AddrReason::ZoneId { offset: i },
        b':' => AddrReason::ThreeColons { offset: i.saturating_sub(2) },
        _ => {
            // Report the whole character, not one byte of it.
            let text = std::str::from_utf8(s).ok();
            let ch = text.and_then(|t| t.get(i..)).and_then(|t| t.chars().next()).unwrap_or('\u{fffd}');
            AddrReason::UnexpectedChar { offset: i, ch }
        }
    }
}

/// Parses prefix text `addr/len` strictly: host bits past the length are an error that
/// names the network the input probably meant.
///
/// ```
/// use eks6::net::parse_prefix;
/// assert_eq!(parse_prefix("2600:1f13:812::/56")?.to_string(), "2600:1f13:812::/56");
/// let err = parse_prefix("2600:1f13:812::1/56").unwrap_err();
/// assert!(err.to_string().ends_with("did you mean 2600:1f13:812::/56?"));
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn parse_prefix(input: &str) -> Result<Ipv6Net, NetError> {
    let (addr, len) = split_prefix(input)?;
    let net = net_from_u128(addr & mask(len), len);
    if addr & !mask(len) != 0 {
        return Err(NetError::HostBitsSet { input: input.into(), network: net });
    }
    Ok(net)
}

/// Parses prefix text `addr/len`, clearing any host bits (`2600::1/64` gives `2600::/64`).
///
/// ```
/// use eks6::net::parse_prefix_lenient;
/// assert_eq!(parse_prefix_lenient("2600:1f13:812::1/56")?.to_string(), "2600:1f13:812::/56");
/// assert!(parse_prefix_lenient("2600::/129").is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn parse_prefix_lenient(input: &str) -> Result<Ipv6Net, NetError> {
    let (addr, len) = split_prefix(input)?;
    Ok(net_from_u128(addr & mask(len), len))
}

fn split_prefix(input: &str) -> Result<(u128, u8), NetError> {
    let s = input.as_bytes();
    let Some(slash) = s.iter().rposition(|&b| b == b'/') else {
        // Diagnose the address part first: "2600::1 " should blame the space.
        return Err(match parse_u128(s) {
            Err(r) => NetError::prefix(input, PrefixReason::Addr(r)),
            Ok(_) => NetError::prefix(input, PrefixReason::MissingLength),
        });
    };
    let addr = match parse_u128(&s[..slash]) {
        Ok(a) => a,
        Err(AddrReason::PrefixLength { offset }) => {
            return Err(NetError::prefix(input, PrefixReason::BadLength { offset: offset + 1 }));
        }
        Err(r) => return Err(NetError::prefix(input, PrefixReason::Addr(r))),
    };
    let offset = slash + 1;
    let Some(len) = length_digits(&s[offset..]) else {
        return Err(NetError::prefix(input, PrefixReason::BadLength { offset }));
    };
    if len > 128 {
        return Err(NetError::prefix(input, PrefixReason::LengthOver128 { offset }));
    }
    Ok((addr, len as u8))
}

/// One to three decimal digits without a leading zero (but `0` itself): the text of a
/// prefix length, which may still be over 128.
fn length_digits(digits: &[u8]) -> Option<u16> {
    let ok = !digits.is_empty()
        && digits.len() <= 3
        && digits.iter().all(u8::is_ascii_digit)
        && !(digits.len() > 1 && digits[0] == b'0');
    ok.then(|| digits.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')))
}

/// A prefix length on its own (`--len 64`), by the rule of a prefix's `/len`: a decimal
/// number from 0 to 128, without sign or leading zeros.
///
/// ```
/// use eks6::net::parse_length;
/// assert_eq!(parse_length("64")?, 64);
/// assert!(parse_length("064").is_err());
/// assert!(parse_length("129").is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn parse_length(text: &str) -> Result<u8, NetError> {
    match length_digits(text.as_bytes()) {
        Some(n) if n <= 128 => Ok(n as u8),
        _ => Err(NetError::BadLength { input: text.into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> AddrReason {
        parse_u128(s.as_bytes()).unwrap_err()
    }

    #[test]
    fn forms() {
        for (text, want) in [
            ("::", "::"),
            ("::1", "::1"),
            ("1::", "1::"),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
            ("1:2:3:4:5:6::8", "1:2:3:4:5:6:0:8"),
            ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
            ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
            ("::1.2.3.4", "::102:304"),
            ("0000:0000:0000:0000:0000:ffff:255.255.255.255", "::ffff:255.255.255.255"),
        ] {
            let ours = parse_addr(text).unwrap();
            let std: Ipv6Addr = want.parse().unwrap();
            assert_eq!(ours, std, "{text}");
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(reason("2600:0000:0000:35000000:46f9::1"), AddrReason::GroupTooLong { offset: 15, digits: 8 });
        assert_eq!(reason("2600::1::2"), AddrReason::SecondDoubleColon { offset: 7 });
        assert_eq!(reason("1:2:3:4:5:6:7:8:9"), AddrReason::TooManyGroups { offset: 16 });
        assert_eq!(reason("1:2:3:4:5:6:7"), AddrReason::TooFewGroups { found: 7 });
        assert_eq!(reason("gggg::1"), AddrReason::UnexpectedChar { offset: 0, ch: 'g' });
        assert_eq!(reason(""), AddrReason::Empty);
        assert_eq!(reason(":::"), AddrReason::ThreeColons { offset: 0 });
        assert_eq!(reason("1:::2"), AddrReason::ThreeColons { offset: 1 });
        assert_eq!(reason(":1:2:3:4:5:6:7"), AddrReason::LeadingColon);
        assert_eq!(reason("1:2:3:4:5:6:7:"), AddrReason::TrailingColon { offset: 13 });
        assert_eq!(reason("[2600::1]"), AddrReason::Brackets);
        assert_eq!(reason(" 2600::1"), AddrReason::Whitespace { offset: 0 });
        assert_eq!(reason("2600::1 "), AddrReason::Whitespace { offset: 7 });
        assert_eq!(reason("::ffff:192.0.2.256"), AddrReason::OctetTooLarge { offset: 15, len: 3 });
        assert_eq!(reason("::ffff:192.0.2"), AddrReason::OctetCount { offset: 7, found: 3 });
        assert_eq!(reason("::ffff:01.2.3.4"), AddrReason::OctetLeadingZero { offset: 7, len: 2 });
        assert_eq!(reason("1.2.3.4"), AddrReason::Ipv4Address);
        assert_eq!(reason("2600:1f13::1/64"), AddrReason::PrefixLength { offset: 12 });
        assert_eq!(reason("fe80::1%eth0"), AddrReason::ZoneId { offset: 7 });
        assert_eq!(reason("1:2:3:4:5:6:7:8::"), AddrReason::TooManyGroups { offset: 17 });
        assert_eq!(reason("1"), AddrReason::TooFewGroups { found: 1 });
        assert_eq!(reason("g"), AddrReason::UnexpectedChar { offset: 0, ch: 'g' });
        assert_eq!(reason(":"), AddrReason::LeadingColon);
        assert_eq!(reason("1:2:3:4::5:6:7:8"), AddrReason::TooManyGroups { offset: 15 });
        assert_eq!(reason("1:2:3:4:5:6:7:1.2.3.4"), AddrReason::Ipv4TailPosition { offset: 14 });
        assert_eq!(reason("::1.2.3.4:5"), AddrReason::BadIpv4Part { offset: 2 });
        assert_eq!(reason("::ffé"), AddrReason::UnexpectedChar { offset: 4, ch: 'é' });
        assert_eq!(reason("::1.2.3.4.5"), AddrReason::OctetCount { offset: 2, found: 5 });
        assert_eq!(reason(&"1".repeat(300)), AddrReason::GroupTooLong { offset: 0, digits: 300 });
        assert_eq!(reason(&"1:".repeat(300)), AddrReason::TooManyGroups { offset: 16 });
    }

    #[test]
    fn prefixes() {
        assert_eq!(parse_prefix("::/0").unwrap().prefix_len(), 0);
        assert_eq!(parse_prefix("::1/128").unwrap().prefix_len(), 128);
        for bad in ["::/129", "::/", "::/064", "::/1a", "::", "::/-1", "::/1/2"] {
            assert!(parse_prefix(bad).is_err(), "{bad}");
        }
        let err = parse_prefix("2600:1f13:812::1/56").unwrap_err();
        assert!(matches!(err, NetError::HostBitsSet { .. }));
        assert_eq!(
            err.to_string(),
            "invalid IPv6 prefix \"2600:1f13:812::1/56\": host bits are set past /56; did you mean 2600:1f13:812::/56?"
        );
    }
}
