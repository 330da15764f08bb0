//! Longest-prefix match over prefixes of mixed lengths.

use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use super::prefix::{first, mask};

const EMPTY: u32 = u32::MAX;

/// One open-addressing hash slot: a masked key split in two halves, and the index of
/// its entry (or `EMPTY`).
#[derive(Debug, Clone, Copy)]
struct Slot {
    hi: u64,
    lo: u64,
    idx: u32,
}

const FREE: Slot = Slot { hi: 0, lo: 0, idx: EMPTY };

/// All prefixes of one length: a hash set of their network bits.
#[derive(Debug, Clone)]
struct Level {
    len: u8,
    mask: u128,
    slots: Vec<Slot>,
    /// `slots.len() - 1`; the length is a power of two.
    slot_mask: usize,
    /// `64 - log2(slots.len())`.
    shift: u32,
    used: usize,
}

/// Multiplicative hashing (Knuth): the high bits of the product are well mixed, so a
/// table of 2^k slots takes the top k bits.
#[inline]
fn hash(key: u128, shift: u32) -> usize {
    let folded = (key >> 64) as u64 ^ (key as u64).rotate_left(29);
    (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> shift) as usize
}

impl Level {
    fn new(len: u8) -> Self {
        Self { len, mask: mask(len), slots: vec![FREE; 8], slot_mask: 7, shift: 61, used: 0 }
    }

    /// Index of the slot that holds `key`, or of the free slot where it would go.
    #[inline]
    fn probe(&self, key: u128) -> usize {
        let (hi, lo) = ((key >> 64) as u64, key as u64);
        let mut i = hash(key, self.shift);
        loop {
            let s = &self.slots[i];
            if s.idx == EMPTY || (s.hi == hi && s.lo == lo) {
                return i;
            }
            i = (i + 1) & self.slot_mask;
        }
    }

    #[inline]
    fn get(&self, addr: u128) -> Option<u32> {
        let s = self.slots[self.probe(addr & self.mask)];
        (s.idx != EMPTY).then_some(s.idx)
    }

    fn grow(&mut self) {
        let doubled = vec![FREE; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.slot_mask = self.slots.len() - 1;
        self.shift -= 1;
        for s in old.into_iter().filter(|s| s.idx != EMPTY) {
            let i = self.probe(((s.hi as u128) << 64) | s.lo as u128);
            self.slots[i] = s;
        }
    }
}

/// Longest-prefix match over prefixes of mixed lengths (pod address → node /80 → node;
/// any address → the most specific subnet), built once and queried many times.
///
/// Each prefix length present has its own hash set of networks; a lookup tries the
/// lengths from the longest down, so it costs one hash probe per distinct length at most.
///
/// ```
/// use eks6::net::{parse_prefix, PrefixTable};
/// let mut table = PrefixTable::new();
/// table.insert(parse_prefix("2600:1f13:812::/64")?, "subnet-a");
/// table.insert(parse_prefix("2600:1f13:812:0:46f9::/80")?, "node-1");
/// assert_eq!(table.lookup("2600:1f13:812:0:46f9::1".parse().unwrap()), Some(&"node-1"));
/// assert_eq!(table.lookup("2600:1f13:812::5".parse().unwrap()), Some(&"subnet-a"));
/// assert_eq!(table.lookup("2600:1f13:813::5".parse().unwrap()), None);
/// # Ok::<(), eks6::net::NetError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PrefixTable<T> {
    /// Longest length first.
    levels: Vec<Level>,
    entries: Vec<(Ipv6Net, T)>,
}

impl<T> Default for PrefixTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PrefixTable<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self { levels: Vec::new(), entries: Vec::new() }
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Inserts `prefix` (host bits ignored) with `value`, returning the value it replaces.
    pub fn insert(&mut self, prefix: Ipv6Net, value: T) -> Option<T> {
        let prefix = prefix.trunc();
        let len = prefix.prefix_len();
        let li = match self.levels.iter().position(|l| l.len <= len) {
            Some(i) if self.levels[i].len == len => i,
            Some(i) => {
                self.levels.insert(i, Level::new(len));
                i
            }
            None => {
                self.levels.push(Level::new(len));
                self.levels.len() - 1
            }
        };
        let key = first(prefix);
        let level = &mut self.levels[li];
        let slot = level.probe(key);
        if level.slots[slot].idx != EMPTY {
            let idx = level.slots[slot].idx as usize;
            return Some(std::mem::replace(&mut self.entries[idx].1, value));
        }
        let idx = u32::try_from(self.entries.len()).expect("a PrefixTable holds fewer than 2^32 - 1 prefixes");
        assert!(idx != EMPTY, "a PrefixTable holds fewer than 2^32 - 1 prefixes");
        self.entries.push((prefix, value));
        level.slots[slot] = Slot { hi: (key >> 64) as u64, lo: key as u64, idx };
        level.used += 1;
        if level.used * 8 > level.slots.len() * 5 {
            level.grow();
        }
        None
    }

    /// The most specific prefix that contains `addr`, with its value.
    #[inline]
    pub fn lookup_entry(&self, addr: Ipv6Addr) -> Option<(Ipv6Net, &T)> {
        let a = addr.to_bits();
        self.levels.iter().find_map(|l| l.get(a)).map(|i| {
            let (net, value) = &self.entries[i as usize];
            (*net, value)
        })
    }

    /// The value of the most specific prefix that contains `addr`.
    #[inline]
    pub fn lookup(&self, addr: Ipv6Addr) -> Option<&T> {
        let a = addr.to_bits();
        self.levels.iter().find_map(|l| l.get(a)).map(|i| &self.entries[i as usize].1)
    }

    /// The value stored for exactly `prefix`.
    pub fn get(&self, prefix: Ipv6Net) -> Option<&T> {
        let level = self.levels.iter().find(|l| l.len == prefix.prefix_len())?;
        level.get(first(prefix)).map(|i| &self.entries[i as usize].1)
    }

    /// The prefixes and values, in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Ipv6Net, &T)> + '_ {
        self.entries.iter().map(|(n, v)| (*n, v))
    }
}

impl<T> FromIterator<(Ipv6Net, T)> for PrefixTable<T> {
    fn from_iter<I: IntoIterator<Item = (Ipv6Net, T)>>(iter: I) -> Self {
        let mut table = Self::new();
        for (n, v) in iter {
            table.insert(n, v);
        }
        table
    }
}

impl<T> Extend<(Ipv6Net, T)> for PrefixTable<T> {
    fn extend<I: IntoIterator<Item = (Ipv6Net, T)>>(&mut self, iter: I) {
        for (n, v) in iter {
            self.insert(n, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_and_default_route() {
        let mut t = PrefixTable::new();
        assert_eq!(t.insert("::/0".parse().unwrap(), 1), None);
        assert_eq!(t.insert("::/0".parse().unwrap(), 2), Some(1));
        assert_eq!(t.insert("::1/128".parse().unwrap(), 3), None);
        assert_eq!(t.lookup("::1".parse().unwrap()), Some(&3));
        assert_eq!(t.lookup("::2".parse().unwrap()), Some(&2));
        assert_eq!(t.len(), 2);
        // Many of one length, forcing growth.
        for i in 0..1000u128 {
            t.insert(super::super::prefix::net_from_u128(i << 48, 80), 100 + i as i32);
        }
        assert_eq!(t.lookup(Ipv6Addr::from_bits((999 << 48) | 5)), Some(&1099));
        assert_eq!(t.get("::/0".parse().unwrap()), Some(&2));
    }
}
