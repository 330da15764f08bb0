//! A buddy allocator of aligned prefixes inside a parent prefix.

use std::collections::BTreeSet;

use ipnet::Ipv6Net;

use super::error::NetError;
use super::prefix::{aggregate, contains_prefix, exclude, first, last, net_from_u128};

/// Hands out the lowest free aligned prefix of a requested length inside a parent
/// (a /64 for each subnet of a VPC's /56, a /80 for each ENI of a subnet's /64), given the
/// prefixes already in use.
///
/// Free space is kept as maximal aligned blocks, one ordered set per length (a buddy
/// system), so allocate, mark and release each cost O(log n) set operations for each
/// length between the parent's and the one asked for.
///
/// ```
/// use eks6::net::{parse_prefix, PrefixAllocator};
/// let vpc = parse_prefix("2600:1f13:812::/56")?;
/// let used = [parse_prefix("2600:1f13:812::/64")?, parse_prefix("2600:1f13:812:2::/64")?];
/// let mut alloc = PrefixAllocator::new(vpc, &used)?;
/// assert_eq!(alloc.allocate(64)?.to_string(), "2600:1f13:812:1::/64");
/// assert_eq!(alloc.allocate(64)?.to_string(), "2600:1f13:812:3::/64");
/// assert_eq!(alloc.allocate(63)?.to_string(), "2600:1f13:812:4::/63");
/// assert!(alloc.allocate(48).is_err()); // shorter than the parent
/// # Ok::<(), eks6::net::NetError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PrefixAllocator {
    parent: Ipv6Net,
    /// `free[len]`: first addresses of the free maximal blocks of that length.
    free: Vec<BTreeSet<u128>>,
}

impl PrefixAllocator {
    /// An allocator over `parent` with `used` already taken. Used prefixes may overlap
    /// each other; each must lie inside `parent`.
    pub fn new(parent: Ipv6Net, used: &[Ipv6Net]) -> Result<Self, NetError> {
        let parent = parent.trunc();
        for &u in used {
            if !contains_prefix(parent, u) {
                return Err(NetError::OutsideParent { parent, prefix: u });
            }
        }
        let mut free = vec![BTreeSet::new(); 129];
        // Free space = parent minus the union of used, as maximal aligned blocks.
        let mut gaps: Vec<(u128, u128)> = Vec::new();
        let mut cursor = Some(first(parent));
        for u in aggregate(used) {
            if let Some(c) = cursor
                && first(u) > c
            {
                gaps.push((c, first(u) - 1));
            }
            cursor = last(u).checked_add(1);
        }
        if let Some(c) = cursor
            && c <= last(parent)
        {
            gaps.push((c, last(parent)));
        }
        let mut blocks = Vec::new();
        for (lo, hi) in gaps {
            super::prefix::range_u128(lo, hi, &mut blocks);
        }
        for b in blocks {
            free[b.prefix_len() as usize].insert(first(b));
        }
        Ok(Self { parent, free })
    }

    /// The parent prefix.
    pub fn parent(&self) -> Ipv6Net {
        self.parent
    }

    fn check_len(&self, len: u8) -> Result<(), NetError> {
        if len > 128 || len < self.parent.prefix_len() {
            return Err(NetError::InvalidLength { parent: self.parent, new_len: len.into() });
        }
        Ok(())
    }

    /// Takes the lowest free aligned prefix of length `len`; [`NetError::Exhausted`]
    /// when none is left.
    pub fn allocate(&mut self, len: u8) -> Result<Ipv6Net, NetError> {
        self.check_len(len)?;
        // The lowest free block at least as large as asked: any free aligned /len lies
        // inside exactly one maximal free block, so the lowest such block holds the answer.
        let mut best: Option<(u128, u8)> = None;
        for l in self.parent.prefix_len()..=len {
            if let Some(&start) = self.free[l as usize].first()
                && best.is_none_or(|(s, _)| start < s)
            {
                best = Some((start, l));
            }
        }
        let Some((start, l)) = best else {
            return Err(NetError::Exhausted { parent: self.parent, len });
        };
        self.free[l as usize].remove(&start);
        // Split: keep the upper halves free, walk down to `len` along the lowest half.
        for down in l + 1..=len {
            let upper = start | (1u128 << (128 - down as u32));
            self.free[down as usize].insert(upper);
        }
        Ok(net_from_u128(start, len))
    }

    /// The maximal free block holding `prefix` wholly, if any, as (start, len).
    fn free_block_containing(&self, prefix: Ipv6Net) -> Option<(u128, u8)> {
        let p = first(prefix);
        (self.parent.prefix_len()..=prefix.prefix_len()).find_map(|l| {
            let start = p & super::prefix::mask(l);
            self.free[l as usize].contains(&start).then_some((start, l))
        })
    }

    /// Whether any free block overlaps `prefix`.
    fn overlaps_free(&self, prefix: Ipv6Net) -> bool {
        if self.free_block_containing(prefix).is_some() {
            return true;
        }
        let (lo, hi) = (first(prefix), last(prefix));
        (prefix.prefix_len() as usize + 1..=128).any(|l| self.free[l].range(lo..=hi).next().is_some())
    }

    /// Whether all of `prefix` is free.
    pub fn is_free(&self, prefix: Ipv6Net) -> bool {
        contains_prefix(self.parent, prefix) && self.free_block_containing(prefix.trunc()).is_some()
    }

    /// Marks `prefix` used. It must lie inside the parent and be wholly free.
    pub fn mark_used(&mut self, prefix: Ipv6Net) -> Result<(), NetError> {
        let prefix = prefix.trunc();
        if !contains_prefix(self.parent, prefix) {
            return Err(NetError::OutsideParent { parent: self.parent, prefix });
        }
        let Some((start, l)) = self.free_block_containing(prefix) else {
            return Err(NetError::InUse { prefix });
        };
        self.free[l as usize].remove(&start);
        for rest in exclude(net_from_u128(start, l), prefix) {
            self.free[rest.prefix_len() as usize].insert(first(rest));
        }
        Ok(())
    }

    /// Frees `prefix` again (it must be wholly in use), merging it with free buddies.
    pub fn release(&mut self, prefix: Ipv6Net) -> Result<(), NetError> {
        let prefix = prefix.trunc();
        if !contains_prefix(self.parent, prefix) {
            return Err(NetError::OutsideParent { parent: self.parent, prefix });
        }
        if self.overlaps_free(prefix) {
            return Err(NetError::NotInUse { prefix });
        }
        let (mut start, mut len) = (first(prefix), prefix.prefix_len());
        while len > self.parent.prefix_len() {
            let buddy = start ^ (1u128 << (128 - len as u32));
            if !self.free[len as usize].remove(&buddy) {
                break;
            }
            start &= !(1u128 << (128 - len as u32));
            len -= 1;
        }
        self.free[len as usize].insert(start);
        Ok(())
    }

    /// The free space as maximal aligned blocks, sorted by address.
    pub fn free_blocks(&self) -> Vec<Ipv6Net> {
        let mut out: Vec<Ipv6Net> = self
            .free
            .iter()
            .enumerate()
            .flat_map(|(l, set)| set.iter().map(move |&s| net_from_u128(s, l as u8)))
            .collect();
        out.sort_unstable_by_key(|n| first(*n));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn exhaustion_and_release() {
        let mut a = PrefixAllocator::new(p("2600::/62"), &[]).unwrap();
        let got: Vec<_> = (0..4).map(|_| a.allocate(64).unwrap()).collect();
        assert_eq!(got, [p("2600::/64"), p("2600:0:0:1::/64"), p("2600:0:0:2::/64"), p("2600:0:0:3::/64")]);
        assert!(matches!(a.allocate(64), Err(NetError::Exhausted { .. })));
        a.release(p("2600:0:0:2::/64")).unwrap();
        assert!(matches!(a.release(p("2600:0:0:2::/64")), Err(NetError::NotInUse { .. })));
        assert_eq!(a.allocate(64).unwrap(), p("2600:0:0:2::/64"));
        for n in &got {
            a.release(*n).unwrap();
        }
        assert_eq!(a.free_blocks(), [p("2600::/62")]);
        assert!(matches!(a.mark_used(p("2700::/64")), Err(NetError::OutsideParent { .. })));
        a.mark_used(p("2600:0:0:1::/64")).unwrap();
        assert!(matches!(a.mark_used(p("2600:0:0:1::/80")), Err(NetError::InUse { .. })));
        assert_eq!(a.allocate(63).unwrap(), p("2600:0:0:2::/63"));
    }

    #[test]
    fn whole_space() {
        let mut a = PrefixAllocator::new(p("::/0"), &[p("::/128")]).unwrap();
        assert_eq!(a.allocate(128).unwrap(), p("::1/128"));
        assert_eq!(a.allocate(1).unwrap(), p("8000::/1"));
    }
}
