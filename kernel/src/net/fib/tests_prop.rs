//! Property tests in plain Rust: a seeded xorshift drives random tables and flows, and
//! every lookup is compared with a linear scan that applies Linux's rules directly.

use super::*;

/// xorshift64 (Marsaglia): deterministic, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const REJECTS: [RouteType; 4] =
    [RouteType::Unreachable, RouteType::Prohibit, RouteType::Blackhole, RouteType::Throw];

fn rand_type(rng: &mut Rng) -> RouteType {
    match rng.below(12) {
        n @ 0..=3 => REJECTS[n as usize],
        _ => RouteType::Unicast,
    }
}

/// Addresses crowded into a small space so that prefixes overlap.
fn rand_v4(rng: &mut Rng) -> Ipv4Addr {
    if rng.below(8) == 0 {
        return Ipv4Addr::from(rng.next() as u32);
    }
    Ipv4Addr::new(10, rng.below(4) as u8, rng.below(4) as u8, rng.next() as u8)
}

fn rand_v6(rng: &mut Rng) -> Ipv6Addr {
    if rng.below(8) == 0 {
        return Ipv6Addr::new(0x2001, 0xdb8, rng.next() as u16, 0, 0, 0, 0, rng.next() as u16);
    }
    Ipv6Addr::new(
        0x2001,
        0xdb8,
        rng.below(4) as u16,
        rng.below(4) as u16,
        0,
        0,
        0,
        rng.below(4) as u16,
    )
}

/// The IPv4 rules written out: longest prefix, then TOS descending, then priority; skip
/// on TOS, scope; a reject type answers; skip on oif.
fn scan4(model: &[Route<Ipv4Addr>], fl: &Flow<Ipv4Addr>) -> Result<(Ipv4Addr, u8, u8, u32), Errno> {
    let mut c: Vec<&Route<Ipv4Addr>> =
        model.iter().filter(|r| prefix_match(fl.daddr, r.dst, r.dst_len)).collect();
    c.sort_by(|a, b| {
        b.dst_len.cmp(&a.dst_len).then(b.tos.cmp(&a.tos)).then(a.priority.cmp(&b.priority))
    });
    for r in c {
        if (r.tos != 0 && r.tos != fl.tos) || r.scope < fl.scope {
            continue;
        }
        if let Some(e) = r.rtype.fib_props().0 {
            return Err(if e == Errno::EAGAIN { Errno::ENETUNREACH } else { e });
        }
        if fl.oif != 0 && fl.oif != r.oif {
            continue;
        }
        return Ok((r.dst, r.dst_len, r.tos, r.priority));
    }
    Err(Errno::ENETUNREACH)
}

#[test]
fn v4_lookup_matches_linear_scan() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Outcomes seen: the property means little unless all kinds occur.
    let mut seen = BTreeMap::new();
    for round in 0..40 {
        let mut f = Fib4::new();
        let mut model = Vec::new();
        for _ in 0..80 {
            let len = if rng.below(4) == 0 {
                rng.below(33) as u8
            } else {
                rng.pick(&[0u8, 8, 16, 20, 24, 24, 28, 30, 32, 32])
            };
            let dst = Ipv4Addr::from(mask_addr(rand_v4(&mut rng), len) as u32);
            let rtype = rand_type(&mut rng);
            let mut r = Route::new(dst, len)
                .rtype(rtype)
                .tos(rng.pick(&[0, 0, 0x10]))
                .metric(rng.below(3) as u32);
            if rtype == RouteType::Unicast {
                r = r
                    .dev(1 + rng.below(4) as u32)
                    .scope(rng.pick(&[RT_SCOPE_UNIVERSE, RT_SCOPE_LINK]));
            }
            match f.add(0, r.clone(), NlFlags::ADD) {
                Ok(()) => model.push(r),
                Err(e) => {
                    assert_eq!(e, Errno::EEXIST);
                    assert!(model.iter().any(|m| (m.dst, m.dst_len, m.tos, m.priority)
                        == (r.dst, r.dst_len, r.tos, r.priority)));
                }
            }
        }
        assert_eq!(f.routes(0).len(), model.len());
        for _ in 0..300 {
            let mut fl = Flow::output(rand_v4(&mut rng)).tos(rng.pick(&[0, 0x10, 0x08]));
            if rng.below(3) == 0 {
                fl = fl.oif(1 + rng.below(4) as u32);
            }
            if rng.below(4) == 0 {
                fl = fl.scope(RT_SCOPE_LINK);
            }
            let got = f
                .lookup(&fl)
                .map(|r| (r.route.dst, r.route.dst_len, r.route.tos, r.route.priority))
                .map_err(|e| e.errno);
            assert_eq!(got, scan4(&model, &fl), "round {} flow {:?}", round, fl);
            *seen.entry(got.map(|_| 0).unwrap_or_else(|e| e.0)).or_insert(0usize) += 1;
        }
    }
    assert!(seen.values().all(|&n| n >= 100) && seen.len() == 5, "{:?}", seen);
}

/// One IPv6 route as the model keeps it, normalized as `ip6_route_info_create` does.
#[derive(Clone)]
struct M6 {
    key: u128,
    len: u8,
    metric: u32,
    oif: u32,
    error: Option<Errno>,
}

/// The IPv6 rules written out: for each covering prefix, longest first, its routes in
/// insertion order stably sorted by metric; among the lowest metric the first on `oif`,
/// else (not strict) the first; if none qualifies (strict), the first on `oif` at any other
/// metric; else the next prefix.
fn scan6(model: &[M6], fl: &Flow<Ipv6Addr>) -> Result<(u128, u8, u32, u32), Errno> {
    let strict = fl.oif != 0 && fl.saddr.is_unspecified();
    let mut lens: Vec<u8> = model.iter().map(|m| m.len).collect();
    lens.sort_unstable_by(|a, b| b.cmp(a));
    lens.dedup();
    for len in lens {
        let key = mask_addr(fl.daddr, len);
        let mut node: Vec<&M6> = model.iter().filter(|m| m.len == len && m.key == key).collect();
        node.sort_by_key(|m| m.metric);
        let Some(first) = node.first() else { continue };
        let (head, rest): (Vec<&M6>, Vec<&M6>) =
            node.iter().partition(|m| m.metric == first.metric);
        let pick = |rs: &[&M6]| -> Option<M6> {
            let on = rs.iter().find(|m| fl.oif == 0 || m.oif == fl.oif);
            on.or(if strict { None } else { rs.first() }).map(|m| (*m).clone())
        };
        if let Some(m) = pick(&head).or_else(|| pick(&rest)) {
            return match m.error {
                None => Ok((m.key, m.len, m.metric, m.oif)),
                Some(e) if e == Errno::EAGAIN => Err(Errno::ENETUNREACH),
                Some(e) => Err(e),
            };
        }
    }
    Err(Errno::ENETUNREACH)
}

#[test]
fn v6_lookup_matches_linear_scan() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut seen = BTreeMap::new();
    for round in 0..40 {
        let mut f = Fib6::new();
        let mut model: Vec<M6> = Vec::new();
        for _ in 0..80 {
            let len = rng.pick(&[0u8, 16, 32, 48, 56, 64, 64, 96, 127, 128]);
            let rtype = rand_type(&mut rng);
            let r = Route::new(rand_v6(&mut rng), len)
                .rtype(rtype)
                .metric(1 + rng.below(3) as u32)
                .dev(2 + rng.below(4) as u32);
            let reject = rtype != RouteType::Unicast;
            let m = M6 {
                key: mask_addr(r.dst, len),
                len,
                metric: r.priority,
                oif: if reject { LOOPBACK_IFINDEX } else { r.oif },
                error: match rtype {
                    RouteType::Unreachable => Some(Errno::EHOSTUNREACH),
                    RouteType::Prohibit => Some(Errno::EACCES),
                    RouteType::Blackhole => Some(Errno::EINVAL),
                    RouteType::Throw => Some(Errno::EAGAIN),
                    _ => None,
                },
            };
            let nl = if rng.below(2) == 0 { NlFlags::ADD } else { NlFlags::APPEND };
            match f.add(0, r, nl) {
                Ok(()) => model.push(m),
                Err(e) => {
                    assert_eq!(e, Errno::EEXIST);
                    assert!(model
                        .iter()
                        .any(|o| (o.key, o.len, o.metric) == (m.key, m.len, m.metric)
                            && (nl == NlFlags::ADD || o.oif == m.oif)));
                }
            }
        }
        assert_eq!(f.routes(0).len(), model.len());
        for _ in 0..300 {
            let mut fl = Flow::output(rand_v6(&mut rng));
            if rng.below(2) == 0 {
                fl = fl.src(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100));
            }
            if rng.below(2) == 0 {
                fl = fl.oif(2 + rng.below(4) as u32);
            }
            let got = f
                .lookup(&fl)
                .map(|r| {
                    (
                        mask_addr(r.route.dst, r.route.dst_len),
                        r.route.dst_len,
                        r.route.priority,
                        r.route.oif,
                    )
                })
                .map_err(|e| e.errno);
            assert_eq!(got, scan6(&model, &fl), "round {} flow {:?}", round, fl);
            *seen.entry(got.map(|_| 0).unwrap_or_else(|e| e.0)).or_insert(0usize) += 1;
        }
    }
    assert!(seen.values().all(|&n| n >= 100) && seen.len() == 5, "{:?}", seen);
}
