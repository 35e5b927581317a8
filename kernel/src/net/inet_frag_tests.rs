//! Tests of the shared fragment-queue machinery against 4.3's `inet_fragment.c`.

use super::*;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key(u32);

impl FragKey for Key {
    fn hash(&self, _rnd: u32) -> u32 {
        self.0
    }
}

fn table() -> InetFrags<Key, ()> {
    InetFrags::new(NetnsFrags::ipv4(), 184, 0)
}

#[test]
fn jhash_matches_linux() {
    // Vectors from the jhash.h macros compiled with gcc.
    assert_eq!(jhash_3words(0, 0, 0, 0), 0x1b68_e557);
    assert_eq!(jhash_3words(1, 2, 3, 4), 0x8103_143f);
    assert_eq!(jhash_3words(0xdead_beef, 0x1234_5678, 0xffff_ffff, 0x9e37_79b9), 0x1aad_4639);
}

#[test]
fn ecn_table_is_linuxs() {
    // Index bits: 1 Not-ECT, 2 ECT(1), 4 ECT(0), 8 CE.
    let want = [0, 0, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 3, 0xff, 3, 0xff, 3, 0xff];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(ip_frag_ecn(i as u8), *w, "index {i}");
    }
}

#[test]
fn percpu_counter_lags_by_the_batch() {
    let mut m = FragMem::default();
    m.add(129_999);
    assert_eq!((m.read(), m.sum()), (0, 129_999));
    m.add(1);
    assert_eq!((m.read(), m.sum()), (130_000, 130_000));
    m.add(-129_999);
    assert_eq!((m.read(), m.sum()), (130_000, 1));
    m.add(-1);
    assert_eq!((m.read(), m.sum()), (0, 0));
    assert_eq!(frag_truesize(1500), 1600 + 576);
}

#[test]
fn timer_armed_once_and_expiry_in_order() {
    let mut t = table();
    t.find(&Key(1), 0, 0, || ()).unwrap();
    t.find(&Key(2), 5, 0, || ()).unwrap();
    // A later find does not extend the timer.
    t.find(&Key(1), 10 * NSEC_PER_SEC, 0, || ()).unwrap();
    assert_eq!(t.next_expiry(), Some(IP_FRAG_TIME_NS));
    assert!(t.expire(IP_FRAG_TIME_NS - 1).is_empty());
    let due: Vec<_> = t.expire(IP_FRAG_TIME_NS + 5).into_iter().map(|(k, _)| k).collect();
    assert_eq!(due, [Key(1), Key(2)]);
    assert_eq!(t.nf.mem.sum(), 2 * 184, "unlinked queues stay charged until destroyed");
    t.rearm(&Key(9), 0);
    assert_eq!(t.next_expiry(), None);
}

#[test]
fn chain_depth_limit_and_rebuild() {
    let mut t = table();
    // Key(n * 1024) all land in bucket 0 with this identity hash.
    for n in 0..=INETFRAGS_MAXDEPTH as u32 {
        t.find(&Key(n * 1024), 0, 0, || ()).unwrap();
    }
    assert_eq!(t.find(&Key(999 * 1024), 0, 0, || ()).unwrap_err(), FindError::NoBufs);
    assert!(t.rebuild && t.work_pending);
    // Memory is far below low_thresh: the worker evicts nothing but rebuilds (the
    // identity hash puts everything back in bucket 0).
    assert!(t.run_worker(1).is_empty());
    assert!(!t.rebuild && t.queue_count() == INETFRAGS_MAXDEPTH + 1);
    assert_eq!(t.find(&Key(999 * 1024), 2, 0, || ()).unwrap_err(), FindError::NoBufs);
    assert!(!t.rebuild, "no second rebuild within 5 s");
    // Existing queues are still found.
    assert!(t.find(&Key(5 * 1024), 2, 0, || ()).is_ok());
}

#[test]
fn worker_walks_128_buckets_from_where_it_stopped() {
    let mut t = table();
    t.nf.low_thresh = 0; // `inet_frags_exit_net`'s setting: evict everything
    for b in 0..300u32 {
        t.find(&Key(b), 0, 0, || ()).unwrap();
    }
    // Memory reads 0, not above low_thresh: nothing scheduled the work yet.
    assert!(t.run_worker(0).is_empty());
    t.work_pending = true;
    let first: Vec<u32> = t.run_worker(0).into_iter().map(|(k, _)| k.0).collect();
    assert_eq!(first, (0..128).collect::<Vec<_>>());
    assert!(t.run_worker(0).is_empty(), "nothing scheduled it");
    t.find(&Key(1000), 0, 0, || ()).unwrap();
    t.work_pending = true;
    let second: Vec<u32> = t.run_worker(0).into_iter().map(|(k, _)| k.0).collect();
    assert_eq!(second, (128..256).collect::<Vec<_>>());
    assert_eq!(t.queue_count(), 300 - 256 + 1);
}

#[test]
fn high_thresh_refuses_new_queues() {
    let mut t = table();
    t.mem_add(FRAG_HIGH_THRESH + 1);
    assert_eq!(t.find(&Key(1), 0, 0, || ()).unwrap_err(), FindError::NoMem);
    assert!(t.work_pending);
}
