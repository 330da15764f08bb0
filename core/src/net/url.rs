//! Bracketed URLs (RFC 3986 IP-literals, RFC 6874 zone ids) and scoped addresses.

use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::error::{NetError, UrlReason};
use super::parse::parse_u128;
use super::text::canonical;

/// An IPv6 address with a zone id, as link-local addresses need (`fe80::1%eth0`).
///
/// The zone is kept, never silently dropped: it is what tells the kernel which link
/// to use.
///
/// ```
/// use eks6::net::ScopedIpv6Addr;
/// let a: ScopedIpv6Addr = "fe80::0001%eth0".parse()?;
/// assert_eq!(a.zone(), Some("eth0"));
/// assert_eq!(a.to_string(), "fe80::1%eth0");
/// assert!("fe80::1%".parse::<ScopedIpv6Addr>().is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopedIpv6Addr {
    addr: Ipv6Addr,
    zone: Option<Box<str>>,
}

impl ScopedIpv6Addr {
    /// An address with an optional zone id.
    pub fn new(addr: Ipv6Addr, zone: Option<&str>) -> Result<Self, NetError> {
        if let Some(z) = zone {
            check_zone(z, 0)?;
        }
        Ok(Self { addr, zone: zone.map(Into::into) })
    }

    /// The address.
    pub fn addr(&self) -> Ipv6Addr {
        self.addr
    }

    /// The zone id, if any.
    pub fn zone(&self) -> Option<&str> {
        self.zone.as_deref()
    }
}

fn check_zone(zone: &str, offset: usize) -> Result<(), NetError> {
    if zone.is_empty() {
        return Err(NetError::url(zone, UrlReason::EmptyZone));
    }
    if let Some(i) = zone.char_indices().find(|(_, c)| c.is_whitespace() || c.is_control()).map(|(i, _)| i) {
        return Err(NetError::url(zone, UrlReason::ZoneChar { offset: offset + i }));
    }
    Ok(())
}

impl FromStr for ScopedIpv6Addr {
    type Err = NetError;

    fn from_str(s: &str) -> Result<Self, NetError> {
        let (addr, zone) = match s.find('%') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let addr = parse_u128(addr.as_bytes()).map_err(|r| NetError::addr(s, r))?;
        if let Some(z) = zone {
            check_zone(z, addr_len(s))?;
        }
        Ok(Self { addr: Ipv6Addr::from_bits(addr), zone: zone.map(Into::into) })
    }
}

fn addr_len(s: &str) -> usize {
    s.find('%').map_or(s.len(), |i| i + 1)
}

impl fmt::Display for ScopedIpv6Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&canonical(self.addr))?;
        if let Some(z) = &self.zone {
            write!(f, "%{z}")?;
        }
        Ok(())
    }
}

/// What a URL host turned out to be.
enum Host<'a> {
    V6(Ipv6Addr, Option<&'a str>),
    V4(Ipv4Addr),
    Name(&'a str),
}

fn classify_host(host: &str) -> Result<Host<'_>, NetError> {
    if host.is_empty() {
        return Err(NetError::url(host, UrlReason::EmptyHost));
    }
    if host.starts_with('[') || host.ends_with(']') {
        return Err(NetError::url(host, UrlReason::BracketedHost));
    }
    if let Some((name, port)) = host.rsplit_once(':')
        && !name.contains(':')
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(NetError::url(host, UrlReason::HostWithPort { offset: name.len() }));
    }
    if host.contains(':') {
        let (addr, zone) = match host.find('%') {
            Some(i) => (&host[..i], Some(&host[i + 1..])),
            None => (host, None),
        };
        let a = parse_u128(addr.as_bytes()).map_err(|r| NetError::url(host, UrlReason::Host(r)))?;
        if let Some(z) = zone {
            check_zone(z, addr.len() + 1).map_err(|e| match e {
                NetError::InvalidUrl { reason, .. } => NetError::url(host, reason),
                other => other,
            })?;
        }
        return Ok(Host::V6(Ipv6Addr::from_bits(a), zone));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return host
            .parse::<Ipv4Addr>()
            .map(Host::V4)
            .map_err(|_| NetError::url(host, UrlReason::DnsName { offset: 0 }));
    }
    check_dns_name(host)?;
    Ok(Host::Name(host))
}

/// A DNS host name: labels of letters, digits, '-' and '_' (1 to 63 bytes, no '-' at
/// either end), at most 253 bytes, an optional trailing dot.
fn check_dns_name(host: &str) -> Result<(), NetError> {
    let name = host.strip_suffix('.').unwrap_or(host);
    let bad = |offset| Err(NetError::url(host, UrlReason::DnsName { offset }));
    if name.len() > 253 {
        return bad(253);
    }
    let mut offset = 0;
    for label in name.split('.') {
        let b = label.as_bytes();
        if b.is_empty() || b.len() > 63 {
            return bad(offset);
        }
        if let Some(i) = b.iter().position(|&c| !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_')) {
            return bad(offset + i);
        }
        if b[0] == b'-' {
            return bad(offset);
        }
        if b[b.len() - 1] == b'-' {
            return bad(offset + b.len() - 1);
        }
        offset += b.len() + 1;
    }
    Ok(())
}

fn check_port(port: Option<u32>) -> Result<(), NetError> {
    port.map_or(Ok(()), |p| port_number(p.into()).map(drop))
}

/// A port number from any integer: 1 to 65535, else an error that names the number as
/// given (a negative one too).
///
/// ```
/// assert_eq!(eks6::net::port_number(8080)?, 8080);
/// assert_eq!(eks6::net::port_number(-1).unwrap_err().to_string(), "cannot build a URL from \"-1\": port -1 is not in 1..=65535");
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn port_number(p: i64) -> Result<u16, NetError> {
    match u16::try_from(p) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(NetError::url(&p.to_string(), UrlReason::Port(p))),
    }
}

/// Writes the host part: `[canonical%25zone]`, a dotted IPv4 address, or a name.
fn write_host(out: &mut String, host: &Host<'_>) {
    match host {
        Host::V6(a, zone) => {
            out.push('[');
            out.push_str(&canonical(*a));
            if let Some(z) = zone {
                out.push_str("%25");
                percent_encode(out, z, |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            }
            out.push(']');
        }
        Host::V4(a) => {
            let _ = write!(out, "{a}");
        }
        Host::Name(n) => out.push_str(n),
    }
}

fn percent_encode(out: &mut String, s: &str, keep: impl Fn(u8) -> bool) {
    for &b in s.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Builds `scheme://host[:port]path`, bracketing an IPv6 host (RFC 3986), writing a
/// zone id as `%25zone` (RFC 6874) with characters outside `unreserved`
/// percent-encoded, and writing IPv6 in canonical form. IPv4 literals and DNS names are
/// written as they are. The port is written only when given; port 0 and ports over
/// 65535 are errors. The path must start with `/` and may carry a query; spaces and
/// control characters in it are errors, other bytes outside ASCII are percent-encoded.
///
/// ```
/// use eks6::net::bracketed_url;
/// assert_eq!(bracketed_url("http", "2600:0000:0000:0000:46f9::1", None, "/")?, "http://[2600::46f9:0:0:1]/");
/// assert_eq!(bracketed_url("http", "fe80::1%eth0", Some(8080), "/")?, "http://[fe80::1%25eth0]:8080/");
/// assert!(bracketed_url("http", "2600::1", Some(0), "/").is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn bracketed_url(scheme: &str, host: &str, port: Option<u32>, path: &str) -> Result<String, NetError> {
    let b = scheme.as_bytes();
    if b.is_empty()
        || !b[0].is_ascii_alphabetic()
        || !b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return Err(NetError::url(scheme, UrlReason::Scheme));
    }
    let h = classify_host(host)?;
    check_port(port)?;
    if !path.starts_with('/') {
        return Err(NetError::url(path, UrlReason::PathStart));
    }
    if let Some((i, _)) = path.char_indices().find(|(_, c)| *c == ' ' || c.is_control()) {
        return Err(NetError::url(path, UrlReason::PathChar { offset: i }));
    }
    let mut out = String::with_capacity(scheme.len() + host.len() + path.len() + 16);
    out.push_str(&scheme.to_ascii_lowercase());
    out.push_str("://");
    write_host(&mut out, &h);
    if let Some(p) = port {
        let _ = write!(out, ":{p}");
    }
    // Square brackets are reserved for IP literals (RFC 3986 gen-delims): escaped here.
    percent_encode(&mut out, path, |b| b.is_ascii() && !matches!(b, b' ' | b'[' | b']'));
    Ok(out)
}

/// `host:port` text for a socket address: `[2600::1]:80`, `192.0.2.1:80`, `name:80`.
///
/// ```
/// use eks6::net::socket_text;
/// assert_eq!(socket_text("2600:0:0:0::1", 80)?, "[2600::1]:80");
/// assert!(socket_text("2600::1", 70000).is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn socket_text(host: &str, port: u32) -> Result<String, NetError> {
    let h = classify_host(host)?;
    check_port(Some(port))?;
    let mut out = String::with_capacity(host.len() + 8);
    write_host(&mut out, &h);
    let _ = write!(out, ":{port}");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_errors() {
        assert_eq!(bracketed_url("HTTP", "example.com", Some(80), "/a?b=c").unwrap(), "http://example.com:80/a?b=c");
        assert_eq!(bracketed_url("http", "fe80::1%en 0", None, "/").unwrap_err().offset(), Some(10));
        assert_eq!(bracketed_url("http", "fe80::1%a/b", None, "/").unwrap(), "http://[fe80::1%25a%2Fb]/");
        assert!(bracketed_url("http", "[::1]", None, "/").is_err());
        assert!(bracketed_url("http", "::1", Some(65536), "/").is_err());
        assert!(bracketed_url("http", "::1", None, "x").is_err());
        assert!(bracketed_url("http", "::1", None, "/a b").is_err());
        assert!(bracketed_url("http", "::1", None, "/a\nb").is_err());
        assert!(bracketed_url("1http", "::1", None, "/").is_err());
        assert!(bracketed_url("http", "-bad.example", None, "/").is_err());
        assert!(bracketed_url("http", "999.1.1.1", None, "/").is_err());
        assert_eq!(bracketed_url("http", "::1", None, "/é").unwrap(), "http://[::1]/%C3%A9");
        assert_eq!(bracketed_url("http", "::1", None, "/?x=[y]").unwrap(), "http://[::1]/?x=%5By%5D");
        let e = bracketed_url("http", "evil.com:80", None, "/").unwrap_err();
        assert!(e.to_string().contains("give the port on its own"), "{e}");
        assert!(bracketed_url("http", "192.0.2.1:8080", None, "/").unwrap_err().to_string().contains("port"));
    }
}
