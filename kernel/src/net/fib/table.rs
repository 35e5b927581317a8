//! One routing table's storage: routes grouped by prefix (a trie leaf's alias list for
//! IPv4, a fib6 node's route list for IPv6), found by exact prefix.
//!
//! Longest-prefix match walks the prefix lengths present, longest first, and probes the
//! masked destination at each: the order Linux's backtracking trie walks produce, without
//! the trie. A `BTreeMap` keeps it deterministic.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cmp::{Ordering, Reverse};

use super::{netmask, FibAddr, Route};

/// Routes of one table.
#[derive(Clone, Debug)]
pub(crate) struct Table<A: FibAddr> {
    /// Table id.
    pub(crate) id: u32,
    /// Creation sequence number (dump order within a hash bucket).
    pub(crate) seq: u64,
    /// (masked key, prefix length, longest first) → routes in Linux's list order.
    nodes: BTreeMap<(u128, Reverse<u8>), Vec<Route<A>>>,
    /// Prefix length → number of prefixes of that length present.
    lens: BTreeMap<u8, usize>,
}

impl<A: FibAddr> Table<A> {
    pub(crate) fn new(id: u32, seq: u64) -> Self {
        Table { id, seq, nodes: BTreeMap::new(), lens: BTreeMap::new() }
    }

    /// The routes of exactly `key/len` (`key` already masked).
    pub(crate) fn node(&self, key: u128, len: u8) -> Option<&Vec<Route<A>>> {
        self.nodes.get(&(key, Reverse(len)))
    }

    /// The routes of exactly `key/len`, created empty if missing.
    pub(crate) fn node_entry(&mut self, key: u128, len: u8) -> &mut Vec<Route<A>> {
        let lens = &mut self.lens;
        self.nodes.entry((key, Reverse(len))).or_insert_with(|| {
            *lens.entry(len).or_insert(0) += 1;
            Vec::new()
        })
    }

    /// Removes route `idx` of `key/len`, and the prefix if it was its last route.
    pub(crate) fn remove(&mut self, key: u128, len: u8, idx: usize) -> Option<Route<A>> {
        let node = self.nodes.get_mut(&(key, Reverse(len)))?;
        if idx >= node.len() {
            return None;
        }
        let r = node.remove(idx);
        if node.is_empty() {
            self.nodes.remove(&(key, Reverse(len)));
            self.drop_len(len);
        }
        Some(r)
    }

    fn drop_len(&mut self, len: u8) {
        if let Some(n) = self.lens.get_mut(&len) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.lens.remove(&len);
            }
        }
    }

    /// Prefix lengths present, longest first.
    pub(crate) fn lens_desc(&self) -> impl Iterator<Item = u8> + '_ {
        self.lens.keys().rev().copied()
    }

    /// The prefixes covering `addr`, longest first, with their routes.
    pub(crate) fn covering(&self, addr: A) -> impl Iterator<Item = (u8, &Vec<Route<A>>)> + '_ {
        let bits = addr.to_bits();
        self.lens_desc()
            .filter_map(move |len| self.node(bits & netmask::<A>(len), len).map(|n| (len, n)))
    }

    /// Number of routes.
    pub(crate) fn len(&self) -> usize {
        self.nodes.values().map(Vec::len).sum()
    }

    /// Routes in dump order: IPv4's trie leaf walk (key ascending, longer prefixes first
    /// within a leaf) or IPv6's fib6 walker (`fib6_walk_continue`: left subtree, right
    /// subtree, then the node, so more specific prefixes come before the ones covering them
    /// and `default` comes last).
    pub(crate) fn dump_order(&self) -> Vec<&Route<A>> {
        let mut nodes: Vec<(u128, u8, &Vec<Route<A>>)> =
            self.nodes.iter().map(|(k, v)| (k.0, k.1 .0, v)).collect();
        if A::IS_V6 {
            nodes.sort_by(|a, b| post_order::<A>((a.0, a.1), (b.0, b.1)));
        }
        nodes.into_iter().flat_map(|(_, _, v)| v.iter()).collect()
    }

    /// Every route, mutably, in key order; the caller must not change what keys a route
    /// (its destination and prefix length).
    pub(crate) fn routes_mut(&mut self) -> impl Iterator<Item = &mut Route<A>> + '_ {
        self.nodes.values_mut().flat_map(|v| v.iter_mut())
    }

    /// Keeps the routes `keep` accepts; returns how many were removed.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Route<A>) -> bool) -> usize {
        let before = self.len();
        let mut emptied = Vec::new();
        for (k, v) in self.nodes.iter_mut() {
            v.retain(|r| keep(r));
            if v.is_empty() {
                emptied.push(*k);
            }
        }
        for k in emptied {
            self.nodes.remove(&k);
            self.drop_len(k.1 .0);
        }
        before - self.len()
    }
}

/// Post-order of a binary radix tree over `(key, len)` prefixes: compare the bits both
/// prefixes have; where they differ the 0 side (left child) comes first; where one is a
/// prefix of the other, the longer (the descendant) comes first.
fn post_order<A: FibAddr>(a: (u128, u8), b: (u128, u8)) -> Ordering {
    let common = a.1.min(b.1);
    let m = netmask::<A>(common);
    match (a.0 & m).cmp(&(b.0 & m)) {
        Ordering::Equal => b.1.cmp(&a.1),
        o => o,
    }
}
