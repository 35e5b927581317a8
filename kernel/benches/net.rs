//! Per-packet cost of the IPv6 receive-and-answer path, through k43 (a simulated host)
//! and through **smoltcp** doing the same work in the same run:
//!
//! - **UDP echo** (the figure): one IPv6 UDP datagram frame in through
//!   `netif_receive` (→ `ipv6_rcv` → input route → `udpv6_rcv` → socket lookup → receive
//!   queue), an application on the host reads it from its bound socket with `recvfrom`
//!   and sends it back to the sender with `sendto` (both real syscalls: `submit` +
//!   `step`, the path every process's syscalls take), and the reply frame comes out of
//!   the NIC (output route → source selection → neighbour → NIC queue). smoltcp does the
//!   same with its `udp::Socket`: `iface.poll`, `recv_slice`, `send_slice`, `iface.poll`.
//!   A second k43 figure makes the same two calls through the syscall handlers alone
//!   (`dispatch`), to separate the socket layer and stack from syscall entry and exit.
//! - **ICMPv6 echo**: an Echo Request frame in, the Reply out (the kernel answers; no
//!   application).
//! - **IPv6 forwarding**: k43 forwarding one packet through a two-NIC router host
//!   (smoltcp does not route between interfaces, so this one has no pair).
//!
//! Results: benches/README.md and the top-level README.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hal_sim::{SimConfig, SimHal};
use kernel::net::wire::{icmpv6, ip_proto, ipv6, ndisc, udp, EthernetAddress, Ipv6Addr};
use kernel::security::cred::Cred;
use kernel::syscalls::{Arch, Sysno};
use kernel::{KEvent, Kernel, KernelConfig};
use std::hint::black_box;
use std::time::Duration;

const OUR_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
/// The echo server's port and the peer's.
const ECHO_PORT: u16 = 7;
const PEER_PORT: u16 = 40000;
/// UDP payload bytes per datagram.
const UDP_DATA: usize = 64;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn frame(smac: EthernetAddress, dmac: EthernetAddress, src: Ipv6Addr, dst: Ipv6Addr, nh: u8, hop: u8, payload: &[u8]) -> Vec<u8> {
    harness::frames::eth_ipv6(smac, dmac, src, dst, nh, hop, 0, payload)
}

use harness::frames::icmpv6 as icmp;

/// The peer's NS (teaches both stacks its MAC), a 56-byte-payload Echo Request (ping's
/// default size) and a UDP datagram of [`UDP_DATA`] bytes to the echo port.
fn frames() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (peer, us, sn) = (a("2001:db8::2"), a("2001:db8::1"), a("ff02::1:ff00:1"));
    let ns = icmp(peer, sn, &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target: us, lladdr: Some(PEER_MAC) }));
    let ns = frame(PEER_MAC, EthernetAddress::from_ipv6_multicast(&sn), peer, sn, ip_proto::ICMPV6, 255, &ns);
    let data = [0x5au8; 56];
    let req = icmp(peer, us, &icmpv6::Repr::EchoRequest { code: 0, ident: 0x4b43, seq: 1, data: &data });
    let req = frame(PEER_MAC, EthernetAddress(OUR_MAC), peer, us, ip_proto::ICMPV6, 64, &req);
    let mut u = vec![0u8; 8 + UDP_DATA];
    for (i, b) in u[8..].iter_mut().enumerate() {
        *b = i as u8;
    }
    udp::Repr { src_port: PEER_PORT, dst_port: ECHO_PORT, payload_len: UDP_DATA }.emit(&mut udp::Packet::new_unchecked(&mut u[..]), &udp::IpAddrs::V6 { src: peer, dst: us });
    (ns, req, frame(PEER_MAC, EthernetAddress(OUR_MAC), peer, us, ip_proto::UDP, 64, &u))
}

/// Checks that `f` is the echo of `dgram`: Ethernet to the peer, IPv6 from us to the
/// peer, UDP from the echo port back to the peer's with the same payload and a valid
/// checksum.
fn assert_udp_echo(who: &str, f: &[u8], dgram: &[u8]) {
    assert_eq!(&f[0..6], &PEER_MAC.0, "{who}: to the peer's MAC");
    assert_eq!(&f[6..12], &OUR_MAC, "{who}: from ours");
    let ip = ipv6::Packet::new_unchecked(&f[14..]);
    assert_eq!((ip.src_addr(), ip.dst_addr(), ip.next_header()), (a("2001:db8::1"), a("2001:db8::2"), ip_proto::UDP), "{who}: addresses");
    let u = udp::Packet::new_unchecked(ip.payload());
    assert_eq!((u.src_port(), u.dst_port()), (ECHO_PORT, PEER_PORT), "{who}: ports");
    assert!(u.verify_checksum_v6(&ip.src_addr(), &ip.dst_addr()), "{who}: checksum");
    assert_eq!(u.payload(), &dgram[14 + 40 + 8..], "{who}: payload");
}

fn k43_host(nics: u32) -> Kernel<SimHal> {
    let hal = SimHal::new(SimConfig { seed: 1, ram_bytes: 16 << 20, cpus: 1 });
    for i in 0..nics {
        hal.nics.add([0x52, 0x54, 0x00, 0x12, 0x34, 0x56 + i as u8]);
    }
    let mut k = Kernel::new(hal, KernelConfig::default());
    for i in 1..=nics + 1 {
        k.dev_open(i).unwrap();
    }
    k.inet6_addr_add(2, a("2001:db8::1"), 64, 0).unwrap();
    // DAD done.
    for _ in 0..100 {
        match k.next_timer() {
            Some(t) if t < 5_000_000_000 => {
                k.hal.advance_to(t);
                k.run_timers();
            }
            _ => break,
        }
    }
    k
}

/// A UDP echo server on a k43 host: a process with a scratch page (data at +0, the
/// peer's `sockaddr_in6` at +2048, its length at +2304) and an `AF_INET6` datagram
/// socket bound to `[::]:ECHO_PORT`.
struct EchoApp {
    pid: i32,
    fd: u64,
    page: u64,
    recvfrom: u64,
    sendto: u64,
}

/// One syscall of `pid` as a process makes it: enter, run, return.
fn syscall(k: &mut Kernel<SimHal>, pid: i32, nr: u64, args: [u64; 6]) -> i64 {
    k.submit(pid, nr, args).expect("enters");
    k.step();
    let mut ret = None;
    for e in k.take_events() {
        if let KEvent::SyscallReturn { ret: r, .. } = e {
            ret = Some(r);
        }
    }
    ret.expect("returned")
}

impl EchoApp {
    fn start(k: &mut Kernel<SimHal>) -> EchoApp {
        let nr = |s: Sysno| s.desc().nr(Arch::X86_64).expect("x86_64 number") as u64;
        let pid = k.create_process(Cred::new(0, 0), "echo", 0).expect("spawn");
        let page = syscall(k, pid, nr(Sysno::Mmap), [0, 4096, 3, 0x22, u64::MAX, 0]) as u64;
        let fd = syscall(k, pid, nr(Sysno::Socket), [10, 2, 0, 0, 0, 0]);
        assert!(fd >= 0, "socket: {fd}");
        let mut sin6 = [0u8; 28];
        sin6[0..2].copy_from_slice(&10u16.to_ne_bytes());
        sin6[2..4].copy_from_slice(&ECHO_PORT.to_be_bytes());
        k.user_mode_access(pid, page + 2048, &mut sin6, true).unwrap();
        assert_eq!(syscall(k, pid, nr(Sysno::Bind), [fd as u64, page + 2048, 28, 0, 0, 0]), 0, "bind");
        // The address length recvfrom reads (and rewrites with 28 each time).
        k.user_mode_access(pid, page + 2304, &mut 28u32.to_ne_bytes(), true).unwrap();
        EchoApp { pid, fd: fd as u64, page, recvfrom: nr(Sysno::Recvfrom), sendto: nr(Sysno::Sendto) }
    }

    /// `n = recvfrom(fd, buf, 2048, 0, &peer, &len); sendto(fd, buf, n, 0, &peer, len)`.
    fn echo(&self, k: &mut Kernel<SimHal>) -> i64 {
        let (buf, addr, alen) = (self.page, self.page + 2048, self.page + 2304);
        let n = syscall(k, self.pid, self.recvfrom, [self.fd, buf, 2048, 0, addr, alen]);
        syscall(k, self.pid, self.sendto, [self.fd, buf, n as u64, 0, addr, 28])
    }

    /// The same two calls through the syscall handlers alone (`dispatch`, as the
    /// scheduler calls it), without the entry and exit around them (runqueue, seccomp,
    /// ptrace stops, the return event): how much of the echo is the socket layer and
    /// the stack.
    fn echo_handlers(&self, k: &mut Kernel<SimHal>) -> i64 {
        use kernel::syscalls::dispatch::dispatch;
        let (buf, addr, alen) = (self.page, self.page + 2048, self.page + 2304);
        let n = dispatch(k, self.pid, Sysno::Recvfrom, [self.fd, buf, 2048, 0, addr, alen]).expect("recvfrom");
        dispatch(k, self.pid, Sysno::Sendto, [self.fd, buf, n as u64, 0, addr, 28]).expect("sendto")
    }
}

mod smol {
    use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
    use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
    use smoltcp::socket::udp;
    use smoltcp::time::Instant;
    use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

    /// A device fed one frame at a time, collecting what the stack sends.
    pub struct Dev {
        pub rx: Option<Vec<u8>>,
        pub tx: Vec<Vec<u8>>,
    }
    pub struct Rx(Vec<u8>);
    pub struct Tx<'a>(&'a mut Vec<Vec<u8>>);

    impl RxToken for Rx {
        fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
            f(&self.0)
        }
    }
    impl TxToken for Tx<'_> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            let mut b = vec![0; len];
            let r = f(&mut b);
            self.0.push(b);
            r
        }
    }
    impl Device for Dev {
        type RxToken<'a> = Rx;
        type TxToken<'a> = Tx<'a>;
        fn receive(&mut self, _t: Instant) -> Option<(Rx, Tx<'_>)> {
            let f = self.rx.take()?;
            Some((Rx(f), Tx(&mut self.tx)))
        }
        fn transmit(&mut self, _t: Instant) -> Option<Tx<'_>> {
            Some(Tx(&mut self.tx))
        }
        fn capabilities(&self) -> DeviceCapabilities {
            let mut c = DeviceCapabilities::default();
            c.medium = Medium::Ethernet;
            c.max_transmission_unit = 1514;
            c
        }
    }

    pub struct Host {
        pub iface: Interface,
        pub dev: Dev,
        pub sockets: SocketSet<'static>,
        pub udp: SocketHandle,
        pub buf: Vec<u8>,
    }

    /// 2001:db8::1/64 on one Ethernet interface, and a UDP socket bound to the echo port.
    pub fn host() -> Host {
        let mut dev = Dev { rx: None, tx: Vec::new() };
        let cfg = Config::new(HardwareAddress::Ethernet(EthernetAddress(super::OUR_MAC)));
        let mut iface = Interface::new(cfg, &mut dev, Instant::ZERO);
        iface.update_ip_addrs(|ips| {
            ips.push(IpCidr::new(IpAddress::v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 64)).unwrap();
        });
        let mut sockets = SocketSet::new(vec![]);
        let pb = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 16], vec![0; 16 * 2048]);
        let mut s = udp::Socket::new(pb(), pb());
        s.bind(super::ECHO_PORT).unwrap();
        let udp = sockets.add(s);
        Host { iface, dev, sockets, udp, buf: vec![0; 2048] }
    }

    impl Host {
        /// One frame in (the stack answers what it answers by itself); the frames out.
        pub fn feed(&mut self, frame: &[u8]) -> usize {
            self.dev.rx = Some(frame.to_vec());
            self.iface.poll(Instant::ZERO, &mut self.dev, &mut self.sockets);
            let n = self.dev.tx.len();
            self.dev.tx.clear();
            n
        }

        /// One frame in, the application's `recv_slice` + `send_slice` back to the
        /// sender, the reply out.
        pub fn udp_echo(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
            self.dev.rx = Some(frame.to_vec());
            self.iface.poll(Instant::ZERO, &mut self.dev, &mut self.sockets);
            let s = self.sockets.get_mut::<udp::Socket>(self.udp);
            let (n, meta) = s.recv_slice(&mut self.buf).ok()?;
            s.send_slice(&self.buf[..n], meta.endpoint).ok()?;
            self.iface.poll(Instant::ZERO, &mut self.dev, &mut self.sockets);
            self.dev.tx.pop()
        }
    }
}

fn bench(c: &mut Criterion) {
    let (ns, req, dgram) = frames();
    let mut g = c.benchmark_group("net");
    g.throughput(Throughput::Elements(1));

    // UDP echo.
    let mut k = k43_host(1);
    let app = EchoApp::start(&mut k);
    k.netif_receive(0, &ns);
    k.hal.nics.take_transmitted(0);
    k.netif_receive(0, &dgram);
    assert_eq!(app.echo(&mut k), UDP_DATA as i64, "k43's echo server sends the datagram back");
    let out = k.hal.nics.take_transmitted(0);
    assert_eq!(out.len(), 1, "k43 sends one reply");
    assert_udp_echo("k43", &out[0], &dgram);
    g.bench_function("k43 udp echo", |b| {
        b.iter(|| {
            k.netif_receive(0, black_box(&dgram));
            black_box(app.echo(&mut k));
            black_box(k.hal.nics.take_transmitted(0))
        })
    });

    k.netif_receive(0, &dgram);
    assert_eq!(app.echo_handlers(&mut k), UDP_DATA as i64);
    assert_udp_echo("k43 (handlers)", &k.hal.nics.take_transmitted(0)[0], &dgram);
    g.bench_function("k43 udp echo, handlers only", |b| {
        b.iter(|| {
            k.netif_receive(0, black_box(&dgram));
            black_box(app.echo_handlers(&mut k));
            black_box(k.hal.nics.take_transmitted(0))
        })
    });

    let mut s = smol::host();
    s.feed(&ns);
    let out = s.udp_echo(&dgram).expect("smoltcp's echo server sends the datagram back");
    assert_udp_echo("smoltcp", &out, &dgram);
    assert!(s.dev.tx.is_empty(), "smoltcp sends one reply");
    g.bench_function("smoltcp udp echo", |b| b.iter(|| black_box(s.udp_echo(black_box(&dgram)))));

    // ICMPv6 echo.
    let mut k = k43_host(1);
    k.netif_receive(0, &ns);
    k.hal.nics.take_transmitted(0);
    k.netif_receive(0, &req);
    assert_eq!(k.hal.nics.take_transmitted(0).len(), 1, "k43 answers the echo");
    g.bench_function("k43 icmpv6 echo", |b| {
        b.iter(|| {
            k.netif_receive(0, black_box(&req));
            black_box(k.hal.nics.take_transmitted(0))
        })
    });

    let mut s = smol::host();
    s.feed(&ns);
    assert_eq!(s.feed(&req), 1, "smoltcp answers the echo");
    g.bench_function("smoltcp icmpv6 echo", |b| b.iter(|| black_box(s.feed(black_box(&req)))));

    // A router with two NICs forwarding 2001:db8::2 → 2001:db8:2::9 (both neighbours
    // known): receive, route, decrement, transmit.
    let mut r = k43_host(2);
    r.inet6_addr_add(3, a("2001:db8:2::1"), 64, 0).unwrap();
    let idx = r.vfs.sysctl.find("net/ipv6/conf/all/forwarding").unwrap();
    r.vfs.sysctl.write(idx, b"1").unwrap();
    for _ in 0..100 {
        match r.next_timer() {
            Some(t) if t < 10_000_000_000 => {
                r.hal.advance_to(t);
                r.run_timers();
            }
            _ => break,
        }
    }
    r.netif_receive(0, &ns);
    let far = a("2001:db8:2::9");
    let far_mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
    let sn2 = a("ff02::1:ff00:1");
    let ns2 = icmp(far, sn2, &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target: a("2001:db8:2::1"), lladdr: Some(far_mac) }));
    r.netif_receive(1, &frame(far_mac, EthernetAddress::from_ipv6_multicast(&sn2), far, sn2, ip_proto::ICMPV6, 255, &ns2));
    r.hal.nics.take_transmitted(0);
    r.hal.nics.take_transmitted(1);
    let fwd = frame(PEER_MAC, EthernetAddress(OUR_MAC), a("2001:db8::2"), far, ip_proto::UDP, 64, &[0u8; 64]);
    r.netif_receive(0, &fwd);
    assert_eq!(r.hal.nics.take_transmitted(1).len(), 1, "the router forwards");
    g.bench_function("k43 ipv6 forward", |b| {
        b.iter(|| {
            r.netif_receive(0, black_box(&fwd));
            black_box(r.hal.nics.take_transmitted(1))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(300)).without_plots();
    targets = bench
}
criterion_main!(benches);
