//! Prefix arithmetic on `ipnet::Ipv6Net`, computed on `u128`.

use std::fmt;
use std::iter::FusedIterator;
use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use super::error::NetError;

/// The network mask of a prefix length (0..=128) as a `u128`.
#[inline]
pub(crate) const fn mask(len: u8) -> u128 {
    if len == 0 { 0 } else { u128::MAX << (128 - len as u32) }
}

/// A prefix from its network bits and length (`len <= 128`, host bits already clear).
#[inline]
pub(crate) const fn net_from_u128(bits: u128, len: u8) -> Ipv6Net {
    // Callers pass len <= 128; the clamp lets the compiler drop new_assert's check.
    Ipv6Net::new_assert(Ipv6Addr::from_bits(bits), if len > 128 { 128 } else { len })
}

/// The first address of `net` as a `u128`, with any host bits of the value cleared.
#[inline]
pub(crate) fn first(net: Ipv6Net) -> u128 {
    net.addr().to_bits() & mask(net.prefix_len())
}

/// The last address of `net` as a `u128`.
#[inline]
pub(crate) fn last(net: Ipv6Net) -> u128 {
    net.addr().to_bits() | !mask(net.prefix_len())
}

fn check_len(parent: Ipv6Net, new_len: u8) -> Result<(), NetError> {
    if new_len > 128 || new_len < parent.prefix_len() {
        return Err(NetError::InvalidLength { parent, new_len: new_len.into() });
    }
    Ok(())
}

/// Whether `prefix` contains `addr`.
///
/// ```
/// use eks6::net::{contains, parse_prefix};
/// let node = parse_prefix("2600::46f9:0:0:0/80")?;
/// assert!(contains(node, "2600::46f9:0:0:1".parse().unwrap()));
/// assert!(!contains(node, "2600::405b:0:0:2".parse().unwrap()));
/// # Ok::<(), eks6::net::NetError>(())
/// ```
#[inline]
pub fn contains(prefix: Ipv6Net, addr: Ipv6Addr) -> bool {
    // Compare in network byte order: one table load instead of two byte swaps.
    let a = u128::from_ne_bytes(prefix.addr().octets());
    let b = u128::from_ne_bytes(addr.octets());
    (a ^ b) & MASK_NE[prefix.prefix_len() as usize & 255] == 0
}

/// `mask(len)` in network byte order, as a native integer, for each length; entries
/// past 128 are never used (`Ipv6Net` lengths are at most 128).
static MASK_NE: [u128; 256] = {
    let mut t = [u128::MAX; 256];
    let mut l = 0;
    while l <= 128 {
        t[l] = u128::from_ne_bytes(mask(l as u8).to_be_bytes());
        l += 1;
    }
    t
};

/// Whether `outer` contains every address of `inner`.
///
/// ```
/// use eks6::net::{contains_prefix, parse_prefix};
/// let vpc = parse_prefix("2600:1f13:812::/56")?;
/// assert!(contains_prefix(vpc, parse_prefix("2600:1f13:812:5::/64")?));
/// assert!(!contains_prefix(vpc, parse_prefix("2600:1f13:800::/40")?));
/// # Ok::<(), eks6::net::NetError>(())
/// ```
#[inline]
pub fn contains_prefix(outer: Ipv6Net, inner: Ipv6Net) -> bool {
    outer.prefix_len() <= inner.prefix_len() && contains(outer, inner.addr())
}

/// The number of `/new_len` subnets in `parent`, as a `u128`. Fails when `new_len` is
/// shorter than the parent or over 128, and for `::/0` carved into `/128`s, whose count
/// (2^128) is one past what a `u128` holds.
///
/// ```
/// use eks6::net::{parse_prefix, subnet_count};
/// let subnet = parse_prefix("2600:1f13:812::/64")?;
/// assert_eq!(subnet_count(subnet, 80)?, 65_536);
/// assert!(subnet_count(subnet, 48).is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn subnet_count(parent: Ipv6Net, new_len: u8) -> Result<u128, NetError> {
    check_len(parent, new_len)?;
    let bits = new_len - parent.prefix_len();
    if bits == 128 {
        return Err(NetError::CountOverflow { parent, new_len, bits });
    }
    Ok(1u128 << bits)
}

/// How many subnets a prefix holds: up to 2^128 (`::/0` in `/128`s), one past what a
/// `u128` holds. Its text (and its JSON, a decimal string, so that no reader rounds it
/// past 2^53) is the exact decimal number.
///
/// ```
/// use eks6::net::{count_subnets, parse_prefix, SubnetCount};
/// let all = count_subnets(parse_prefix("::/0")?, 128)?;
/// assert_eq!(all, SubnetCount::TwoTo128);
/// assert_eq!(all.to_string(), "340282366920938463463374607431768211456");
/// assert_eq!(count_subnets(parse_prefix("2600:1f13:812::/56")?, 64)?.get(), Some(256));
/// # Ok::<(), eks6::net::NetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubnetCount {
    /// A count a `u128` holds.
    Exactly(u128),
    /// 2^128.
    TwoTo128,
}

impl SubnetCount {
    /// The count, when a `u128` holds it.
    pub fn get(self) -> Option<u128> {
        match self {
            Self::Exactly(n) => Some(n),
            Self::TwoTo128 => None,
        }
    }

    /// Whether `index` (from 0) is one of the subnets.
    pub fn has_index(self, index: u128) -> bool {
        self.get().is_none_or(|n| index < n)
    }

    /// How many subnets there are from `index` on (saturating at `u128::MAX`).
    pub fn from_index(self, index: u128) -> u128 {
        match self {
            Self::Exactly(n) => n.saturating_sub(index),
            // 2^128 - index, which for index 0 is one past u128::MAX.
            Self::TwoTo128 => (u128::MAX - index).saturating_add(u128::from(index != 0)),
        }
    }
}

impl fmt::Display for SubnetCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exactly(n) => write!(f, "{n}"),
            Self::TwoTo128 => f.write_str("340282366920938463463374607431768211456"),
        }
    }
}

impl serde::Serialize for SubnetCount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The number of `/new_len` subnets in `parent`, whatever it is (2^128 included).
pub fn count_subnets(parent: Ipv6Net, new_len: u8) -> Result<SubnetCount, NetError> {
    match subnet_count(parent, new_len) {
        Ok(n) => Ok(SubnetCount::Exactly(n)),
        Err(NetError::CountOverflow { .. }) => Ok(SubnetCount::TwoTo128),
        Err(e) => Err(e),
    }
}

/// The `n`-th (from 0) `/new_len` subnet of `parent`, in O(1).
///
/// ```
/// use eks6::net::{nth_subnet, parse_prefix};
/// let vpc = parse_prefix("2600:1f13:812::/56")?;
/// assert_eq!(nth_subnet(vpc, 64, 255)?.to_string(), "2600:1f13:812:ff::/64");
/// assert!(nth_subnet(vpc, 64, 256).is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn nth_subnet(parent: Ipv6Net, new_len: u8, n: u128) -> Result<Ipv6Net, NetError> {
    check_len(parent, new_len)?;
    let bits = new_len - parent.prefix_len();
    if bits < 128 && n >> bits != 0 {
        return Err(NetError::IndexOutOfRange { parent, new_len, index: n, count: 1u128 << bits });
    }
    let shift = (128 - new_len as u32) & 127;
    Ok(net_from_u128(first(parent) | (n << shift), new_len))
}

/// The prefix of length `new_len` that contains `net` (`new_len <= net.prefix_len()`).
///
/// ```
/// use eks6::net::{parse_prefix, supernet};
/// let node = parse_prefix("2600:1f13:812:0:46f9::/80")?;
/// assert_eq!(supernet(node, 56)?.to_string(), "2600:1f13:812::/56");
/// assert!(supernet(node, 96).is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn supernet(net: Ipv6Net, new_len: u8) -> Result<Ipv6Net, NetError> {
    if new_len > net.prefix_len() {
        return Err(NetError::InvalidLength { parent: net, new_len: new_len.into() });
    }
    Ok(net_from_u128(net.addr().to_bits() & mask(new_len), new_len))
}

/// Carves `parent` into its `/new_len` subnets, in address order.
///
/// ```
/// use eks6::net::{parse_prefix, subnets};
/// let mut it = subnets(parse_prefix("2600:1f13:812::/64")?, 80)?;
/// assert_eq!(it.remaining(), 65_536);
/// assert_eq!(it.nth(18_169).unwrap().to_string(), "2600:1f13:812:0:46f9::/80");
/// assert_eq!(it.next_back().unwrap().to_string(), "2600:1f13:812:0:ffff::/80");
/// assert!(subnets(parse_prefix("::/0")?, 129).is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn subnets(parent: Ipv6Net, new_len: u8) -> Result<Subnets, NetError> {
    check_len(parent, new_len)?;
    let shift = (128 - new_len as u32) & 127;
    // For new_len == 0 there is one subnet, so the step is never taken.
    let step = if new_len == 0 { 0 } else { 1u128 << shift };
    Ok(Subnets { front: first(parent), back: last(parent), step, shift, len: new_len, done: false }.fix_back())
}

/// The subnets of a prefix: an iterator that is double-ended and fused, with O(1)
/// `nth`/`nth_back`, and whose exact remaining count is [`remaining`](Self::remaining).
///
/// It is not an `ExactSizeIterator`, because a count can exceed `usize` (a /64 holds
/// 2^64 /128s); [`into_exact`](Self::into_exact) gives one where the count fits.
#[derive(Debug, Clone)]
pub struct Subnets {
    /// First address of the next subnet from the front.
    front: u128,
    /// First address of the next subnet from the back.
    back: u128,
    /// Distance between subnets: 2^shift.
    step: u128,
    shift: u32,
    len: u8,
    done: bool,
}

impl Subnets {
    /// Clears the host bits of `back` below the subnet length.
    fn fix_back(mut self) -> Self {
        self.back &= mask(self.len);
        self
    }

    /// Subnets between front and back, minus one.
    #[inline]
    fn span(&self) -> u128 {
        (self.back - self.front) >> self.shift
    }

    /// The exact number of subnets left. The one count a `u128` cannot hold, 2^128 for
    /// `::/0` carved into untouched `/128`s, saturates at `u128::MAX`.
    #[inline]
    pub fn remaining(&self) -> u128 {
        if self.done { 0 } else { self.span().saturating_add(1) }
    }

    /// Like [`Iterator::nth`], with an index of any size: skips `n` subnets and returns
    /// the next, in O(1).
    ///
    /// ```
    /// use eks6::net::{parse_prefix, subnets};
    /// let mut it = subnets(parse_prefix("::/0")?, 128)?;
    /// assert_eq!(it.nth_u128(u128::MAX - 1).unwrap().to_string(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128");
    /// assert_eq!(it.remaining(), 1);
    /// # Ok::<(), eks6::net::NetError>(())
    /// ```
    #[inline]
    pub fn nth_u128(&mut self, n: u128) -> Option<Ipv6Net> {
        if self.done {
            return None;
        }
        if n > self.span() {
            self.done = true;
            return None;
        }
        self.front += n << self.shift;
        self.next()
    }

    /// This iterator as an [`ExactSizeIterator`], when the remaining count fits `usize`.
    ///
    /// ```
    /// use eks6::net::{parse_prefix, subnets};
    /// let vpc = parse_prefix("2600:1f13:812::/56")?;
    /// assert_eq!(subnets(vpc, 64)?.into_exact().unwrap().len(), 256);
    /// assert!(subnets(vpc, 128)?.into_exact().is_none());
    /// # Ok::<(), eks6::net::NetError>(())
    /// ```
    pub fn into_exact(self) -> Option<ExactSubnets> {
        usize::try_from(self.remaining()).ok().map(|_| ExactSubnets(self))
    }
}

impl Iterator for Subnets {
    type Item = Ipv6Net;

    #[inline]
    fn next(&mut self) -> Option<Ipv6Net> {
        if self.done {
            return None;
        }
        let a = self.front;
        self.done = a == self.back;
        self.front = a.wrapping_add(self.step);
        Some(net_from_u128(a, self.len))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        match usize::try_from(self.remaining()) {
            Ok(n) => (n, Some(n)),
            Err(_) => (usize::MAX, None),
        }
    }

    #[inline]
    fn nth(&mut self, n: usize) -> Option<Ipv6Net> {
        self.nth_u128(n as u128)
    }

    fn count(self) -> usize {
        usize::try_from(self.remaining()).expect("more subnets than usize can count; use Subnets::remaining")
    }

    fn last(mut self) -> Option<Ipv6Net> {
        self.next_back()
    }
}

impl DoubleEndedIterator for Subnets {
    #[inline]
    fn next_back(&mut self) -> Option<Ipv6Net> {
        if self.done {
            return None;
        }
        let a = self.back;
        self.done = a == self.front;
        self.back = a.wrapping_sub(self.step);
        Some(net_from_u128(a, self.len))
    }

    #[inline]
    fn nth_back(&mut self, n: usize) -> Option<Ipv6Net> {
        if self.done {
            return None;
        }
        if n as u128 > self.span() {
            self.done = true;
            return None;
        }
        self.back -= (n as u128) << self.shift;
        self.next_back()
    }
}

impl FusedIterator for Subnets {}

/// [`Subnets`] whose remaining count fits `usize`: an [`ExactSizeIterator`]. Made by
/// [`Subnets::into_exact`].
#[derive(Debug, Clone)]
pub struct ExactSubnets(Subnets);

impl ExactSubnets {
    /// The underlying iterator.
    pub fn into_inner(self) -> Subnets {
        self.0
    }
}

impl Iterator for ExactSubnets {
    type Item = Ipv6Net;
    #[inline]
    fn next(&mut self) -> Option<Ipv6Net> {
        self.0.next()
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
    #[inline]
    fn nth(&mut self, n: usize) -> Option<Ipv6Net> {
        self.0.nth(n)
    }
}

impl DoubleEndedIterator for ExactSubnets {
    #[inline]
    fn next_back(&mut self) -> Option<Ipv6Net> {
        self.0.next_back()
    }
    #[inline]
    fn nth_back(&mut self, n: usize) -> Option<Ipv6Net> {
        self.0.nth_back(n)
    }
}

impl ExactSizeIterator for ExactSubnets {}
impl FusedIterator for ExactSubnets {}

/// The minimal list of prefixes that covers the inclusive `u128` range.
pub(crate) fn range_u128(mut lo: u128, hi: u128, out: &mut Vec<Ipv6Net>) {
    loop {
        // Largest aligned block starting at `lo` that does not pass `hi`.
        let align = if lo == 0 { 128 } else { lo.trailing_zeros() };
        let span = hi - lo; // block size - 1 must be <= span
        let fit = if span == u128::MAX { 128 } else { 127 - (span + 1).leading_zeros() };
        let bits = align.min(fit);
        out.push(net_from_u128(lo, (128 - bits) as u8));
        if bits == 128 {
            return;
        }
        let next = lo + ((1u128 << bits) - 1);
        if next >= hi {
            return;
        }
        lo = next + 1;
    }
}

/// The minimal list of prefixes that covers exactly the addresses `first..=last`.
///
/// ```
/// use eks6::net::range_to_prefixes;
/// let nets = range_to_prefixes("2600::".parse().unwrap(), "2600::2".parse().unwrap())?;
/// let text: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
/// assert_eq!(text, ["2600::/127", "2600::2/128"]);
/// assert!(range_to_prefixes("::2".parse().unwrap(), "::1".parse().unwrap()).is_err());
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn range_to_prefixes(first: Ipv6Addr, last: Ipv6Addr) -> Result<Vec<Ipv6Net>, NetError> {
    if first > last {
        return Err(NetError::InvalidRange { first, last });
    }
    let mut out = Vec::new();
    range_u128(first.to_bits(), last.to_bits(), &mut out);
    Ok(out)
}

/// Collapses a list of prefixes into the fewest that cover the same addresses, sorted by
/// address. Overlapping and adjacent prefixes merge.
///
/// ```
/// use eks6::net::{aggregate, parse_prefix};
/// let nets = [parse_prefix("2600:1f13:812:1::/64")?, parse_prefix("2600:1f13:812::/64")?];
/// assert_eq!(aggregate(&nets)[0].to_string(), "2600:1f13:812::/63");
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn aggregate(nets: &[Ipv6Net]) -> Vec<Ipv6Net> {
    let mut ranges: Vec<(u128, u128)> = nets.iter().map(|&n| (first(n), last(n))).collect();
    ranges.sort_unstable_by_key(|r| r.0);
    let mut out = Vec::with_capacity(ranges.len().min(64));
    let mut iter = ranges.into_iter();
    let Some((mut lo, mut hi)) = iter.next() else {
        return out;
    };
    for (a, b) in iter {
        if hi == u128::MAX || a <= hi + 1 {
            hi = hi.max(b);
        } else {
            range_u128(lo, hi, &mut out);
            (lo, hi) = (a, b);
        }
    }
    range_u128(lo, hi, &mut out);
    out
}

/// The prefixes of `from` that remain when `remove` is taken out, sorted by address.
///
/// ```
/// use eks6::net::{exclude, parse_prefix};
/// let rest = exclude(parse_prefix("2600::/62")?, parse_prefix("2600::/64")?);
/// let text: Vec<String> = rest.iter().map(|n| n.to_string()).collect();
/// assert_eq!(text, ["2600:0:0:1::/64", "2600:0:0:2::/63"]);
/// # Ok::<(), eks6::net::NetError>(())
/// ```
pub fn exclude(from: Ipv6Net, remove: Ipv6Net) -> Vec<Ipv6Net> {
    if contains_prefix(remove, from) {
        return Vec::new();
    }
    if !contains_prefix(from, remove) {
        return vec![from.trunc()];
    }
    let target = first(remove);
    let mut out = Vec::with_capacity((remove.prefix_len() - from.prefix_len()) as usize);
    for len in from.prefix_len() + 1..=remove.prefix_len() {
        // The half at this level that does not hold `remove`.
        let sibling = (target & mask(len)) ^ (1u128 << (128 - len as u32));
        out.push(net_from_u128(sibling, len));
    }
    out.sort_unstable_by_key(|n| first(*n));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn full_space() {
        let mut it = subnets(p("::/0"), 128).unwrap();
        assert_eq!(it.remaining(), u128::MAX);
        assert_eq!(it.next().unwrap(), p("::/128"));
        assert_eq!(it.remaining(), u128::MAX);
        assert_eq!(it.next_back().unwrap(), p("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"));
        assert_eq!(it.remaining(), u128::MAX - 1);
        assert!(subnet_count(p("::/0"), 128).is_err());
        assert_eq!(subnets(p("::/0"), 0).unwrap().collect::<Vec<_>>(), [p("::/0")]);
        assert_eq!(nth_subnet(p("::/0"), 128, u128::MAX).unwrap(), p("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"));
    }

    #[test]
    fn nth_past_end_fuses() {
        let mut it = subnets(p("2600::/63"), 64).unwrap();
        assert_eq!(it.nth(2), None);
        assert_eq!(it.next(), None);
        let mut it = subnets(p("2600::/63"), 64).unwrap();
        assert_eq!(it.nth_back(1).unwrap(), p("2600::/64"));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn whole_range() {
        assert_eq!(range_to_prefixes(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from_bits(u128::MAX)).unwrap(), [p("::/0")]);
        assert_eq!(aggregate(&[p("::/1"), p("8000::/1")]), [p("::/0")]);
        assert_eq!(exclude(p("::/0"), p("::/0")), Vec::<Ipv6Net>::new());
    }
}
