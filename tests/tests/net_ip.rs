//! `ip` (iproute2 v4.3.0's grammar, texts and exit statuses, `harness::ip`) against k43's
//! rtnetlink handlers (`kernel::net::rtnetlink`, Linux 4.3's checks and errnos): links,
//! addresses, routes, `ip route get`, rules and neighbours, in both families, with the
//! exact text of every answer and error.

use hal_sim::{SimConfig, SimHal};
use harness::ip::ip;
use kernel::{Kernel, KernelConfig};

/// A machine with `nics` NICs (MACs 52:54:00:00:00:01, …), everything down.
fn boot(nics: u32) -> Kernel<SimHal> {
    let hal = SimHal::new(SimConfig { seed: 1, ram_bytes: 16 << 20, cpus: 1 });
    for n in 0..nics {
        hal.nics.add([0x52, 0x54, 0, 0, 0, n as u8 + 1]);
    }
    Kernel::new(hal, KernelConfig::default())
}

/// `ip LINE` (split at whitespace): its output and exit status.
fn run(k: &mut Kernel<SimHal>, line: &str) -> (String, i32) {
    let args: Vec<&str> = line.split_whitespace().collect();
    let o = ip(k, &args);
    (o.text, o.status)
}

/// `ip LINE` must succeed silently.
fn ok(k: &mut Kernel<SimHal>, line: &str) {
    assert_eq!(run(k, line), (String::new(), 0), "ip {line}");
}

/// `ip LINE`'s output, which must come with status 0.
fn out(k: &mut Kernel<SimHal>, line: &str) -> String {
    let (t, s) = run(k, line);
    assert_eq!(s, 0, "ip {line}: {t}");
    t
}

/// `ip LINE` must fail with exactly `text` and `status`.
fn fails(k: &mut Kernel<SimHal>, line: &str, text: &str, status: i32) {
    assert_eq!(run(k, line), (String::from(text), status), "ip {line}");
}

/// `lo` and eth0 up, 10.0.0.2/24 and 2001:db8::2/64 on eth0, DAD done.
fn host() -> Kernel<SimHal> {
    let mut k = boot(2);
    ok(&mut k, "link set lo up");
    ok(&mut k, "link set dev eth0 up");
    ok(&mut k, "addr add 10.0.0.2/24 dev eth0");
    ok(&mut k, "addr add 2001:db8::2/64 dev eth0");
    harness::sim::run_timers_for(&mut k, 3_000_000_000);
    k
}

#[test]
fn link_show_set_up_down_and_mtu() {
    let mut k = boot(1);
    assert_eq!(
        out(&mut k, "link"),
        "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default \n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n\
         2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
    );
    ok(&mut k, "link set lo up");
    ok(&mut k, "link set eth0 up");
    assert_eq!(
        out(&mut k, "link show"),
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default \n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n\
         2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000\n    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
    );
    // eth_change_mtu: 68..=1500; lo takes anything.
    fails(&mut k, "link set eth0 mtu 9000", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "link set eth0 mtu 67", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "link set eth0 mtu -1", "RTNETLINK answers: Invalid argument\n", 2);
    ok(&mut k, "link set eth0 mtu 1400");
    ok(&mut k, "link set lo mtu 70000");
    // The MTU goes first: a refused one leaves the device down.
    ok(&mut k, "link set eth0 down");
    fails(&mut k, "link set eth0 mtu 20 up", "RTNETLINK answers: Invalid argument\n", 2);
    assert_eq!(
        out(&mut k, "link show dev eth0"),
        "2: eth0: <BROADCAST,MULTICAST> mtu 1400 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000\n    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
    );
    fails(&mut k, "link set eth9 up", "Cannot find device \"eth9\"\n", 1);
    fails(&mut k, "link set if9 up", "RTNETLINK answers: No such device\n", 2);
    fails(&mut k, "link show eth9", "Device \"eth9\" does not exist.\n", 1);
    fails(&mut k, "link set up", "Not enough information: \"dev\" argument is required.\n", 255);
    fails(&mut k, "link set eth0 mtu 1400 mtu 1300", "Error: duplicate \"mtu\": \"1300\" is the second value.\n", 255);
    fails(&mut k, "link set eth0 mtu x", "Error: argument \"x\" is wrong: Invalid \"mtu\" value\n\n", 255);
    fails(&mut k, "link set eth0 lo", "Error: either \"dev\" is duplicate, or \"lo\" is a garbage.\n", 255);
    fails(&mut k, "link set eth0 mtu", "Command line is not complete. Try option \"help\"\n", 255);
    fails(&mut k, "link frob", "Command \"frob\" is unknown, try \"ip link help\".\n", 255);
    fails(&mut k, "link set eth0 promisc on", "k43: ip: \"promisc\" is not supported\n", 1);
}

#[test]
fn link_down_takes_its_routes_and_ipv6_addresses() {
    let mut k = host();
    ok(&mut k, "route add 10.9.0.0/16 via 10.0.0.1 table 10");
    ok(&mut k, "route add unreachable 10.8.0.0/16");
    ok(&mut k, "link set eth0 down");
    // fib_disable_ip: every route through eth0, in every table; reject routes stay.
    assert_eq!(out(&mut k, "route show table all"), "unreachable 10.8.0.0/16 \n\
        broadcast 127.0.0.0 dev lo  table local  proto kernel  scope link  src 127.0.0.1 \n\
        local 127.0.0.0/8 dev lo  table local  proto kernel  scope host  src 127.0.0.1 \n\
        local 127.0.0.1 dev lo  table local  proto kernel  scope host  src 127.0.0.1 \n\
        broadcast 127.255.255.255 dev lo  table local  proto kernel  scope link  src 127.0.0.1 \n\
        unreachable default dev lo  table unspec  proto kernel  metric 4294967295  error -101 pref medium\n\
        local ::1 dev lo  table local  proto none  metric 0  pref medium\n\
        unreachable default dev lo  table unspec  proto kernel  metric 4294967295  error -101 pref medium\n");
    // IPv4 keeps its addresses; 4.3 (before keep_addr_on_down) drops every IPv6 one.
    assert_eq!(
        out(&mut k, "addr show dev eth0"),
        "2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc pfifo_fast state DOWN group default qlen 1000\n    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n    inet 10.0.0.2/24 scope global eth0\n       valid_lft forever preferred_lft forever\n"
    );
    // Up again: the address routes come back, the static one does not.
    ok(&mut k, "link set eth0 up");
    assert_eq!(out(&mut k, "route"), "10.0.0.0/24 dev eth0  proto kernel  scope link  src 10.0.0.2 \nunreachable 10.8.0.0/16 \n");
    assert_eq!(out(&mut k, "route show table 10"), "");
}

#[test]
fn addresses_of_both_families() {
    let mut k = host();
    ok(&mut k, "addr add 10.0.0.3/24 dev eth0");
    ok(&mut k, "addr add 10.1.0.2/16 brd + dev eth0");
    ok(&mut k, "-6 addr add 2001:db8:1::2/64 dev eth0 nodad");
    harness::sim::run_timers_for(&mut k, 1_000_000);
    assert_eq!(
        out(&mut k, "addr show dev eth0"),
        "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000\n\
         \x20   link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n\
         \x20   inet 10.0.0.2/24 scope global eth0\n       valid_lft forever preferred_lft forever\n\
         \x20   inet 10.1.0.2/16 brd 10.1.255.255 scope global eth0\n       valid_lft forever preferred_lft forever\n\
         \x20   inet 10.0.0.3/24 scope global secondary eth0\n       valid_lft forever preferred_lft forever\n\
         \x20   inet6 2001:db8:1::2/64 scope global nodad \n       valid_lft forever preferred_lft forever\n\
         \x20   inet6 2001:db8::2/64 scope global \n       valid_lft forever preferred_lft forever\n\
         \x20   inet6 fe80::5054:ff:fe00:1/64 scope link \n       valid_lft forever preferred_lft forever\n"
    );
    // -4/-6 drop the link/ line and the links without such addresses.
    assert_eq!(
        out(&mut k, "-4 addr show scope host"),
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default \n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n"
    );
    assert_eq!(
        out(&mut k, "-6 addr show dev eth0 scope link"),
        "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000\n    inet6 fe80::5054:ff:fe00:1/64 scope link \n       valid_lft forever preferred_lft forever\n"
    );
    assert_eq!(out(&mut k, "-4 addr show to 10.1.0.0/16"), out(&mut k, "-4 addr show to 10.1.0.0/16 dev eth0"));
    // inet_rtm_newaddr / inet6_rtm_newaddr: EEXIST under NLM_F_EXCL, fine under replace.
    fails(&mut k, "addr add 10.0.0.2/24 dev eth0", "RTNETLINK answers: File exists\n", 2);
    fails(&mut k, "addr add 2001:db8::2/64 dev eth0", "RTNETLINK answers: File exists\n", 2);
    ok(&mut k, "addr replace 10.0.0.2/24 dev eth0");
    ok(&mut k, "addr replace 2001:db8::2/64 dev eth0");
    fails(&mut k, "addr del 10.0.0.9/24 dev eth0", "RTNETLINK answers: Cannot assign requested address\n", 2);
    fails(&mut k, "addr del 2001:db8::2/60 dev eth0", "RTNETLINK answers: Cannot assign requested address\n", 2);
    fails(&mut k, "addr add 10.0.0.9/24 dev if9", "RTNETLINK answers: No such device\n", 2);
    fails(&mut k, "addr add 2001:db8::9/64 dev if9", "RTNETLINK answers: No such device\n", 2);
    fails(&mut k, "addr add 10.0.0.9/24 dev eth7", "Cannot find device \"eth7\"\n", 1);
    fails(&mut k, "addr add 10.0.0.9/24", "Not enough information: \"dev\" argument is required.\n", 1);
    fails(&mut k, "addr add 10.0.0.0/33 dev eth0", "Error: ??? prefix is expected rather than \"10.0.0.0/33\".\n", 1);
    fails(&mut k, "-6 addr add 10.0.0.9/24 dev eth0", "Error: inet6 prefix is expected rather than \"10.0.0.9/24\".\n", 1);
    fails(&mut k, "-6 addr add 2001:db8::9/64 brd + dev eth0", "Broadcast can be set only for IPv4 addresses\n", 1);
    // Deleting a primary takes its secondaries (promote_secondaries 0) and their routes.
    ok(&mut k, "addr del 10.0.0.2/24 dev eth0");
    assert_eq!(out(&mut k, "-4 addr show dev eth0").lines().filter(|l| l.contains("inet ")).count(), 1);
    assert_eq!(out(&mut k, "route"), "10.1.0.0/16 dev eth0  proto kernel  scope link  src 10.1.0.2 \n");
    // The last IPv6 address of a prefix takes its prefix route.
    ok(&mut k, "-6 addr del 2001:db8:1::2/64 dev eth0");
    assert_eq!(
        out(&mut k, "-6 route"),
        "2001:db8::/64 dev eth0  proto kernel  metric 256  pref medium\nfe80::/64 dev eth0  proto kernel  metric 256  pref medium\n"
    );
    // The IPv4 wildcard deletion of 4.3's iproute2.
    assert_eq!(
        run(&mut k, "addr del 10.1.0.2 dev eth0"),
        (
            String::from(
                "Warning: Executing wildcard deletion to stay compatible with old scripts.\n         Explicitly specify the prefix length (10.1.0.2/32) to avoid this warning.\n         This special behaviour is likely to disappear in further releases,\n         fix your scripts!\n"
            ),
            0
        )
    );
    ok(&mut k, "addr flush dev eth0");
    assert_eq!(out(&mut k, "addr show dev eth0"), "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000\n    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n");
    // Only the multicast route addrconf_add_dev put in table local is left on eth0.
    let eth0: Vec<String> = out(&mut k, "route show table all").lines().filter(|l| l.contains("eth0")).map(String::from).collect();
    assert_eq!(eth0, ["ff00::/8 dev eth0  table local  metric 256  pref medium"]);
}

#[test]
fn ipv4_routes_and_their_errnos() {
    let mut k = host();
    ok(&mut k, "route add default via 10.0.0.1");
    ok(&mut k, "route add 192.168.0.0/16 via 10.0.0.254 proto static metric 100");
    ok(&mut k, "route add 172.16.0.0/12 dev eth0 table 100");
    ok(&mut k, "route add prohibit 10.99.0.0/16");
    assert_eq!(
        out(&mut k, "route show"),
        "default via 10.0.0.1 dev eth0 \n\
         10.0.0.0/24 dev eth0  proto kernel  scope link  src 10.0.0.2 \n\
         prohibit 10.99.0.0/16 \n\
         192.168.0.0/16 via 10.0.0.254 dev eth0  proto static  metric 100 \n"
    );
    assert_eq!(out(&mut k, "route show table 100"), "172.16.0.0/12 dev eth0  scope link \n");
    assert_eq!(out(&mut k, "route show 192.168.0.0/16"), "192.168.0.0/16 via 10.0.0.254 dev eth0  proto static  metric 100 \n");
    assert_eq!(out(&mut k, "route show proto kernel"), "10.0.0.0/24 dev eth0  proto kernel  scope link  src 10.0.0.2 \n");
    // fib_check_nh: the gateway must be on link (a link-scope route), in the device's.
    fails(&mut k, "route add 10.5.0.0/16 via 10.9.9.9", "RTNETLINK answers: Network is unreachable\n", 2);
    fails(&mut k, "route add 10.5.0.0/16 via 192.168.1.1", "RTNETLINK answers: Network is unreachable\n", 2);
    fails(&mut k, "route add 10.5.0.0/16 via 10.0.0.1 dev eth1", "RTNETLINK answers: Network is unreachable\n", 2);
    fails(&mut k, "route add 10.5.0.0/16 dev eth1", "RTNETLINK answers: Network is down\n", 2);
    fails(&mut k, "route add 10.5.0.0/16 dev if9", "RTNETLINK answers: No such device\n", 2);
    fails(&mut k, "route add 10.5.0.0/16 dev eth9", "Cannot find device \"eth9\"\n", 1);
    fails(&mut k, "route add default via 10.0.0.1", "RTNETLINK answers: File exists\n", 2);
    fails(&mut k, "route add 10.5.0.1/16 dev eth0", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "route add 10.5.0.0/16 dev eth0 src 10.0.0.77", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "route add prohibit 10.6.0.0/16 dev eth0", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "route del 10.5.0.0/16", "RTNETLINK answers: No such process\n", 2);
    fails(&mut k, "route del 10.5.0.0/16 table 77", "RTNETLINK answers: No such process\n", 2);
    fails(&mut k, "route change 10.5.0.0/16 dev eth0", "RTNETLINK answers: No such file or directory\n", 2);
    // replace / append / test.
    ok(&mut k, "route replace default via 10.0.0.9");
    ok(&mut k, "route append default via 10.0.0.8");
    fails(&mut k, "route append default via 10.0.0.8", "RTNETLINK answers: File exists\n", 2);
    fails(&mut k, "route test default via 10.0.0.8", "RTNETLINK answers: File exists\n", 2);
    assert_eq!(out(&mut k, "-4 route show default"), "default via 10.0.0.9 dev eth0 \ndefault via 10.0.0.8 dev eth0 \n");
    // v4.3.0's get_prefix leaves `default` without a family when none was asked for, and a
    // prefix without a family filters nothing.
    assert_eq!(out(&mut k, "route show default").lines().count(), 5);
    ok(&mut k, "route del default via 10.0.0.8");
    ok(&mut k, "route del 172.16.0.0/12 table 100");
    assert_eq!(out(&mut k, "route show table 100"), "");
    // An onlink gateway needs no route to it.
    ok(&mut k, "route add 10.70.0.0/16 via 10.200.0.1 dev eth0 onlink");
    assert_eq!(out(&mut k, "route show 10.70.0.0/16"), "10.70.0.0/16 via 10.200.0.1 dev eth0 onlink \n");
    ok(&mut k, "route flush table main");
    assert_eq!(out(&mut k, "route"), "");
}

#[test]
fn ipv6_routes_and_their_errnos() {
    let mut k = host();
    // The family comes from the first address: no -6 needed.
    ok(&mut k, "route add 2001:db8:1::/64 via 2001:db8::1");
    ok(&mut k, "route add 2001:db8:2::/64 via fe80::1 dev eth0 metric 10");
    ok(&mut k, "route add unreachable 2001:db8:3::/64");
    // A route through lo becomes a reject route.
    ok(&mut k, "route add 2001:db8:4::/64 dev lo");
    assert_eq!(
        out(&mut k, "-6 route"),
        "2001:db8::/64 dev eth0  proto kernel  metric 256  pref medium\n\
         2001:db8:1::/64 via 2001:db8::1 dev eth0  metric 1024  pref medium\n\
         2001:db8:2::/64 via fe80::1 dev eth0  metric 10  pref medium\n\
         unreachable 2001:db8:3::/64 dev lo  metric 1024  error -113 pref medium\n\
         unreachable 2001:db8:4::/64 dev lo  metric 1024  error -101 pref medium\n\
         fe80::/64 dev eth0  proto kernel  metric 256  pref medium\n"
    );
    // ip6_route_info_create's gateway checks.
    fails(&mut k, "route add 2001:db8:5::/64 via 2001:db9::1", "RTNETLINK answers: No route to host\n", 2);
    fails(&mut k, "route add 2001:db8:5::/64 via 2001:db8:1::9", "RTNETLINK answers: No route to host\n", 2);
    fails(&mut k, "route add 2001:db8:5::/64 via 2001:db8::1 dev eth1", "RTNETLINK answers: No route to host\n", 2);
    fails(&mut k, "route add 2001:db8:5::/64 via fe80::1", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "route add 2001:db8:5::/64 via 2001:db8::2", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "route add 2001:db8:5::/64 via ff02::1 dev eth0", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "route add 2001:db8:5::/64 dev eth0 src 2001:db8::77", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "route add 2001:db8:5::/64 dev if9", "RTNETLINK answers: No such device\n", 2);
    fails(&mut k, "route add 2001:db8:1::/64 via 2001:db8::1", "RTNETLINK answers: File exists\n", 2);
    fails(&mut k, "route del 2001:db8:6::/64", "RTNETLINK answers: No such process\n", 2);
    fails(&mut k, "route del 2001:db8:1::/64 table 77", "RTNETLINK answers: No such process\n", 2);
    // The root's null entry answers a default-route deletion that matches nothing else.
    fails(&mut k, "-6 route del default", "RTNETLINK answers: No such file or directory\n", 2);
    fails(&mut k, "-6 route del default dev eth0", "RTNETLINK answers: No such process\n", 2);
    fails(&mut k, "-6 route change 2001:db8:7::/64 dev eth0", "RTNETLINK answers: No such file or directory\n", 2);
    ok(&mut k, "-6 route replace 2001:db8:1::/64 via 2001:db8::3");
    ok(&mut k, "-6 route del 2001:db8:2::/64 dev eth0");
    ok(&mut k, "-6 route add 2001:db8:8::/64 dev eth0 table 200 pref high");
    assert_eq!(out(&mut k, "-6 route show table 200"), "2001:db8:8::/64 dev eth0  metric 1024  pref high\n");
    assert_eq!(out(&mut k, "-6 route show 2001:db8:1::/64"), "2001:db8:1::/64 via 2001:db8::3 dev eth0  metric 1024  pref medium\n");
    fails(&mut k, "-6 route add 2001:db8:9::/64 from 2001:db8::/64 dev eth0", "RTNETLINK answers: Invalid argument\n", 2);
    // The table is made before the gateway is checked (not before the device is): a
    // refused route leaves table 300, whose null entry the dump then shows.
    let nulls = |k: &mut Kernel<SimHal>| out(k, "-6 route show table all").matches("table unspec").count();
    assert_eq!(nulls(&mut k), 3);
    fails(&mut k, "-6 route add 2001:db8:9::/64 dev if9 table 301", "RTNETLINK answers: No such device\n", 2);
    assert_eq!(nulls(&mut k), 3);
    fails(&mut k, "-6 route add 2001:db8:9::/64 via 2001:db9::1 table 300", "RTNETLINK answers: No route to host\n", 2);
    assert_eq!(nulls(&mut k), 4);
}

#[test]
fn route_get_both_families() {
    let mut k = host();
    ok(&mut k, "route add default via 10.0.0.1");
    ok(&mut k, "route add 2001:db8:1::/64 via 2001:db8::1");
    assert_eq!(out(&mut k, "route get 8.8.8.8"), "8.8.8.8 via 10.0.0.1 dev eth0  src 10.0.0.2 \n    cache \n");
    assert_eq!(out(&mut k, "route get 10.0.0.7"), "10.0.0.7 dev eth0  src 10.0.0.2 \n    cache \n");
    assert_eq!(out(&mut k, "route get 10.0.0.2"), "local 10.0.0.2 dev lo  src 10.0.0.2 \n    cache <local> \n");
    assert_eq!(out(&mut k, "route get 10.0.0.255"), "broadcast 10.0.0.255 dev eth0  src 10.0.0.2 \n    cache <local,brd> \n");
    assert_eq!(out(&mut k, "route get 8.8.8.8 from 10.0.0.2"), "8.8.8.8 from 10.0.0.2 via 10.0.0.1 dev eth0 \n    cache \n");
    // An input route: delivered here, or refused on a host (forwarding off).
    assert_eq!(out(&mut k, "route get 10.0.0.2 from 10.0.0.7 iif eth0"), "local 10.0.0.2 from 10.0.0.7 dev lo \n    cache <local>  iif eth0\n");
    fails(&mut k, "route get 8.8.8.8 from 10.0.0.7 iif eth0", "RTNETLINK answers: No route to host\n", 2);
    fails(&mut k, "route get 8.8.8.8 iif if9", "RTNETLINK answers: No such device\n", 2);
    fails(&mut k, "route get 8.8.8.8 oif eth9", "Cannot find device \"eth9\"\n", 1);
    fails(&mut k, "route get default", "need at least a destination address\n", 1);
    ok(&mut k, "route del default");
    fails(&mut k, "route get 8.8.8.8", "RTNETLINK answers: Network is unreachable\n", 2);
    ok(&mut k, "route add unreachable 10.66.0.0/16");
    fails(&mut k, "route get 10.66.0.1", "RTNETLINK answers: No route to host\n", 2);
    // IPv6 answers with whatever the lookup found, reject routes and the null entry too.
    assert_eq!(
        out(&mut k, "route get 2001:db8:1::5"),
        "2001:db8:1::5 from :: via 2001:db8::1 dev eth0  src 2001:db8::2  metric 1024  pref medium\n"
    );
    assert_eq!(
        out(&mut k, "route get 2001:db8::9"),
        "2001:db8::9 from :: dev eth0  proto kernel  src 2001:db8::2  metric 256  pref medium\n"
    );
    assert_eq!(
        out(&mut k, "route get 2001:db9::1"),
        "unreachable 2001:db9::1 from :: dev lo  table unspec  proto kernel  src 2001:db8::2  metric 4294967295  error -101 pref medium\n"
    );
    assert_eq!(
        out(&mut k, "route get 2001:db8::9 from 2001:db8::77 iif eth0"),
        "2001:db8::9 from 2001:db8::77 dev eth0  proto kernel  metric 256  iif eth0 pref medium\n"
    );
    fails(&mut k, "-6 route get 8.8.8.8", "Error: inet6 prefix is expected rather than \"8.8.8.8\".\n", 1);
}

#[test]
fn rules_steer_lookups_in_both_families() {
    let mut k = host();
    ok(&mut k, "route add 10.50.0.0/16 via 10.0.0.1 table 10");
    ok(&mut k, "route add 10.50.0.0/16 via 10.0.0.9");
    ok(&mut k, "rule add from 10.0.0.2 lookup 10 pref 100");
    ok(&mut k, "rule add fwmark 0x20/0xf0 table 10");
    ok(&mut k, "rule add not to 10.0.0.0/8 prohibit pref 200");
    assert_eq!(
        out(&mut k, "rule show"),
        "0:\tfrom all lookup local \n\
         99:\tfrom all fwmark 0x20/0xf0 lookup 10 \n\
         100:\tfrom 10.0.0.2 lookup 10 \n\
         200:\tnot from all to 10.0.0.0/8 prohibit\n\
         32766:\tfrom all lookup main \n\
         32767:\tfrom all lookup default \n"
    );
    assert_eq!(out(&mut k, "route get 10.50.1.1"), "10.50.1.1 via 10.0.0.9 dev eth0  src 10.0.0.2 \n    cache \n");
    fails(&mut k, "route get 8.8.8.8", "RTNETLINK answers: Permission denied\n", 2);
    assert_eq!(out(&mut k, "route get 10.50.1.1 from 10.0.0.2"), "10.50.1.1 from 10.0.0.2 via 10.0.0.1 dev eth0 \n    cache \n");
    assert_eq!(out(&mut k, "route get 10.50.1.1 mark 0x25"), "10.50.1.1 via 10.0.0.1 dev eth0  src 10.0.0.2  mark 0x25\n    cache \n");
    ok(&mut k, "rule del pref 100");
    ok(&mut k, "rule del fwmark 0x20/0xf0");
    fails(&mut k, "rule del pref 100", "RTNETLINK answers: No such file or directory\n", 2);
    // fib_nl_newrule's EINVALs: a backward goto, an IPv6 prefix in an IPv4 rule.
    fails(&mut k, "rule add pref 300 goto 200", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "rule add from 2001:db8::/32 table 10", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "rule add tos 0x03 table 10", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "rule add pref x table 10", "Error: argument \"x\" is wrong: preference value is invalid\n\n", 255);
    fails(&mut k, "rule show all", "\"ip rule show\" does not take any arguments.\n", 1);
    // IPv6 has no default-table rule, and a lookup rule needs a table.
    ok(&mut k, "-6 route add 2001:db8:50::/64 via 2001:db8::1 table 20");
    ok(&mut k, "-6 rule add from 2001:db8::2 table 20");
    assert_eq!(out(&mut k, "-6 rule"), "0:\tfrom all lookup local \n32765:\tfrom 2001:db8::2 lookup 20 \n32766:\tfrom all lookup main \n");
    assert_eq!(
        out(&mut k, "route get 2001:db8:50::1 from 2001:db8::2"),
        "2001:db8:50::1 from 2001:db8::2 via 2001:db8::1 dev eth0  table 20  src 2001:db8::2  metric 1024  pref medium\n"
    );
    fails(&mut k, "-6 rule add from 2001:db8::3 table 0", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "-6 rule add from 10.0.0.0/8 table 20", "Error: inet6 prefix is expected rather than \"10.0.0.0/8\".\n", 1);
    ok(&mut k, "-6 rule del from 2001:db8::2");
    ok(&mut k, "rule flush");
    assert_eq!(out(&mut k, "rule"), "0:\tfrom all lookup local \n");
}

#[test]
fn neighbours_of_both_families() {
    let mut k = host();
    ok(&mut k, "neigh add 10.0.0.9 lladdr 52:54:00:aa:bb:cc dev eth0");
    ok(&mut k, "neigh add 2001:db8::9 lladdr 52:54:00:aa:bb:cd dev eth0 nud reachable");
    ok(&mut k, "neigh add proxy 10.0.0.77 dev eth0");
    assert_eq!(out(&mut k, "neigh"), "10.0.0.9 dev eth0 lladdr 52:54:00:aa:bb:cc PERMANENT\n2001:db8::9 dev eth0 lladdr 52:54:00:aa:bb:cd REACHABLE\n");
    assert_eq!(out(&mut k, "-6 neigh show dev eth0"), "2001:db8::9 lladdr 52:54:00:aa:bb:cd REACHABLE\n");
    assert_eq!(out(&mut k, "neigh show proxy"), "10.0.0.77 dev eth0  proxy\n");
    assert_eq!(out(&mut k, "neigh show to 10.0.0.0/24"), "10.0.0.9 dev eth0 lladdr 52:54:00:aa:bb:cc PERMANENT\n");
    fails(&mut k, "neigh add 10.0.0.9 lladdr 52:54:00:aa:bb:cc dev eth0", "RTNETLINK answers: File exists\n", 2);
    fails(&mut k, "neigh change 10.0.0.10 lladdr 52:54:00:aa:bb:cc dev eth0", "RTNETLINK answers: No such file or directory\n", 2);
    fails(&mut k, "neigh add 10.0.0.10 dev eth0", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "neigh add 10.0.0.10 lladdr 52:54 dev eth0", "RTNETLINK answers: Invalid argument\n", 2);
    fails(&mut k, "neigh add 10.0.0.10 lladdr 52:54:00:aa:bb:cc dev if9", "RTNETLINK answers: No such device\n", 2);
    fails(&mut k, "neigh add 10.0.0.10 lladdr zz:00 dev eth0", "\"zz\" is invalid lladdr.\n", 1);
    fails(&mut k, "neigh add 10.0.0.10 dev eth7", "Cannot find device \"eth7\"\n", 1);
    fails(&mut k, "neigh add 10.0.0.10", "Device and destination are required arguments.\n", 255);
    fails(&mut k, "neigh add 10.0.0.10 dev eth0 nud bogus", "Error: argument \"bogus\" is wrong: nud state is bad\n", 255);
    ok(&mut k, "neigh replace 10.0.0.9 lladdr 52:54:00:aa:bb:dd dev eth0 nud stale");
    assert_eq!(out(&mut k, "-4 neigh"), "10.0.0.9 dev eth0 lladdr 52:54:00:aa:bb:dd STALE\n");
    // 4.3's neigh_delete sets FAILED; the entry shows until the GC frees it.
    ok(&mut k, "neigh del 2001:db8::9 dev eth0");
    fails(&mut k, "neigh del 2001:db8::10 dev eth0", "RTNETLINK answers: No such file or directory\n", 2);
    assert_eq!(out(&mut k, "-6 neigh"), "2001:db8::9 dev eth0  FAILED\n");
    fails(&mut k, "neigh flush", "Flush requires arguments.\n", 1);
    ok(&mut k, "neigh flush dev eth0");
    // The failed `add` of 10.0.0.10 without an address left a NUD_NONE entry, which the
    // flush, unlike the default show, takes.
    assert_eq!(out(&mut k, "neigh show nud failed"), "10.0.0.9 dev eth0  FAILED\n10.0.0.10 dev eth0  FAILED\n2001:db8::9 dev eth0  FAILED\n");
    ok(&mut k, "neigh del proxy 10.0.0.77 dev eth0");
    fails(&mut k, "neigh del proxy 10.0.0.77 dev eth0", "RTNETLINK answers: No such file or directory\n", 2);
}

#[test]
fn argument_errors_are_iproute2s() {
    let mut k = boot(0);
    fails(&mut k, "route add foo dev lo", "Error: ??? prefix is expected rather than \"foo\".\n", 1);
    fails(&mut k, "-4 route add 2001:db8::/64 dev lo", "Error: inet prefix is expected rather than \"2001:db8::/64\".\n", 1);
    fails(&mut k, "route add 10.0.0.0/8 via 2001:db8::1", "Error: inet address is expected rather than \"2001:db8::1\".\n", 1);
    fails(&mut k, "route add 10.0.0.0/8 metric x dev lo", "Error: argument \"x\" is wrong: \"metric\" value is invalid\n\n", 255);
    fails(&mut k, "route add 10.0.0.0/8 table all dev lo", "Error: argument \"all\" is wrong: \"table\" value is invalid\n\n", 255);
    fails(&mut k, "route add 10.0.0.0/8 10.1.0.0/16", "Error: either \"to\" is duplicate, or \"10.1.0.0/16\" is a garbage.\n", 255);
    fails(&mut k, "route add 10.0.0.0/8 via", "Command line is not complete. Try option \"help\"\n", 255);
    fails(&mut k, "route show table bogus", "Error: argument \"bogus\" is wrong: table id value is invalid\n\n", 255);
    fails(&mut k, "route frob", "Command \"frob\" is unknown, try \"ip route help\".\n", 255);
    fails(&mut k, "route flush", "\"ip route flush\" requires arguments.\n", 1);
    fails(&mut k, "frob", "Object \"frob\" is unknown, try \"ip help\".\n", 1);
    fails(&mut k, "-x route", "Option \"-x\" is unknown, try \"ip -help\".\n", 255);
    fails(&mut k, "-f bogus route", "Error: argument \"bogus\" is wrong: invalid protocol family\n", 255);
    fails(&mut k, "route add 10.0.0.0/8 mtu 1400 dev lo", "k43: ip: \"mtu\" is not supported\n", 1);
    let (t, s) = run(&mut k, "route add");
    assert_eq!(s, 255);
    assert!(t.starts_with("Usage: ip route { list | flush } SELECTOR\n") && t.ends_with("FEATURES := ecn\n"), "{t}");
    let (t, s) = run(&mut k, "");
    assert_eq!(s, 255);
    assert!(t.starts_with("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n"), "{t}");
    assert_eq!(run(&mut k, "-V"), (String::from("ip utility, iproute2-ss151103\n"), 0));
    // Prefix matching of keywords, as iproute2's matches().
    ok(&mut k, "l s lo up");
    assert_eq!(out(&mut k, "r"), "");
    assert!(out(&mut k, "a sh dev lo").contains("inet 127.0.0.1/8 scope host lo"));
}

#[test]
fn scenario_statements_parse() {
    use harness::scn::{parse, Expect, StmtKind, TextOp};
    let s = parse("host r1 nics=2\nip -6 route add 2001:db8::/64 dev $d\nexpect ip route get 10.0.0.1 == \"x\\n\"\nexpect ip exited 0\n").expect("parses");
    assert!(matches!(s.stmts[0].kind, StmtKind::Host { nics: 2, .. }));
    assert!(matches!(&s.stmts[1].kind, StmtKind::Ip { args } if args.len() == 6));
    assert!(matches!(&s.stmts[2].kind, StmtKind::Expect(Expect::Ip { args, op: TextOp::Equals, .. }) if args.len() == 3));
    // A task labelled "ip" still works with exited/killed.
    assert!(matches!(&s.stmts[3].kind, StmtKind::Expect(Expect::Exited { label, code: 0 }) if label == "ip"));
    assert_eq!(parse("ip\n").unwrap_err().msg, "expected the arguments of ip");
    assert_eq!(parse("expect ip route == \"a\" extra\n").unwrap_err().msg, "unexpected 'extra'");
    assert_eq!(parse("expect ip route show\n").unwrap_err().msg, "expected 'contains', 'lacks' or '=='");
    let e = parse("host h nics=99\n").unwrap_err();
    assert_eq!((e.col, e.msg.as_str()), (13, "nics is a number of NICs (0..=8)"));
}

#[test]
fn scenarios_run_ip_and_fail_on_its_errors() {
    let good = "host r1 nics=1\nip link set eth0 up\nip addr add 10.0.0.2/24 dev eth0\nip route show\nexpect ip route add 10.9.0.0/16 via 10.8.0.1 == \"RTNETLINK answers: Network is unreachable\\n\"\n";
    let out = harness::sim::run_source("t.scn", good, 1, true).expect("parses");
    assert_eq!(out.failure, None);
    assert!(out.trace.lines.iter().any(|l| l == "| 10.0.0.0/24 dev eth0  proto kernel  scope link  src 10.0.0.2 "), "{:?}", out.trace.lines);
    let bad = "host r1\nip route add 10.9.0.0/16 via 10.8.0.1\n";
    let out = harness::sim::run_source("t.scn", bad, 1, true).expect("parses");
    assert_eq!(out.failure.as_deref(), Some("line 2: ip route add 10.9.0.0/16 via 10.8.0.1: exit status 2"));
    assert!(out.trace.lines.iter().any(|l| l == "| RTNETLINK answers: Network is unreachable"));
    // The MACs the simulator gives a host's NICs.
    let nics = "host a\nhost b nics=2\nexpect ip link show eth1 contains \"link/ether 52:54:00:00:01:02 \"\n";
    assert_eq!(harness::sim::run_source("t.scn", nics, 1, true).expect("parses").failure, None);
}

/// Words `ip` knows, addresses of both families, numbers at the edges and junk.
const VOCAB: &[&str] = &[
    "route", "add", "del", "get", "show", "flush", "replace", "append", "change", "test", "rule", "neigh", "link", "addr", "set", "up", "down",
    "mtu", "dev", "eth0", "eth1", "lo", "if9", "via", "table", "default", "all", "local", "main", "10.0.0.1", "10.0.0.0/24", "10.0.0.2/33",
    "2001:db8::1", "2001:db8::/64", "fe80::1/64", "::", "1500", "0", "-1", "4294967296", "0x10/0xf0", "-6", "-4", "-0", "-f", "from", "to",
    "iif", "oif", "mark", "lladdr", "52:54:00:00:00:09", "nud", "proxy", "pref", "metric", "unreachable", "blackhole", "prohibit", "throw",
    "help", "", "x/", "0x", "/", "1.2.3.4.5", "type", "goto", "not", "fwmark", "scope", "host", "brd", "+", "-", "label", "nodad",
    "noprefixroute", "onlink", "proto", "kernel", "tos", "EF", "src", "lookup", "nop", "stale", "permanent", "unused", "--", "é",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// Whatever the words, `ip` answers with one of iproute2's statuses and leaves the
    /// kernel consistent; it never panics.
    #[test]
    fn any_words_get_an_answer(lines in proptest::collection::vec(proptest::collection::vec(0..VOCAB.len(), 0..9), 1..12)) {
        let mut k = host();
        for words in lines {
            let args: Vec<&str> = words.iter().map(|&i| VOCAB[i]).collect();
            let o = ip(&mut k, &args);
            proptest::prop_assert!(matches!(o.status, 0 | 1 | 2 | 255), "ip {:?}: {} {}", args, o.status, o.text);
            proptest::prop_assert!(k.check_invariants().is_ok());
        }
    }
}
