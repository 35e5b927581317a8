//! `ip`, as iproute2 v4.3.0 (the release that went with Linux 4.3) parses its arguments,
//! talks to the kernel and prints: `ip [OPTIONS] link|address|route|rule|neigh …` run as
//! root against a [`Kernel`]'s rtnetlink handlers (`kernel::net::rtnetlink`).
//!
//! Output is what the terminal would show — stdout and stderr in the order written — and
//! the exit status `ip` would return: 0; 1 for errors iproute2 reports itself and returns
//! or `exit(1)`s on (`Cannot find device`, a malformed prefix); 2 when the kernel refused
//! (`RTNETLINK answers: …`); 255 for `exit(-1)` (usage, `invarg`, incomplete commands).
//!
//! Keywords iproute2 knows but k43 does not model (multipath, metrics, peers, lifetimes,
//! `-s`…) are refused with `k43: ip: "WORD" is not supported`, status 1, rather than
//! silently ignored. Host names are never resolved (`-r` is one of those keywords).

use alloc::format;
use alloc::string::String;
use kernel::hal::Hal;
use kernel::net::rtnetlink::{AF_INET, AF_INET6, AF_MPLS, AF_PACKET, AF_UNSPEC};
use kernel::uapi::Errno;
use kernel::Kernel;

pub mod addr;
pub mod link;
pub mod neigh;
pub mod route;
pub mod rule;
pub mod usage;
pub mod util;

use util::matches;

/// What running `ip` produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpOutput {
    /// stdout and stderr, interleaved as written.
    pub text: String,
    /// The exit status.
    pub status: i32,
}

/// `exit(status)` (or a `return` that becomes the status) from anywhere in a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit(pub i32);

/// A command's result: `Ok` exits 0.
pub type Res = Result<(), Exit>;

/// `exit(-1)`'s status.
pub const EXIT_USAGE: i32 = 255;

/// One `ip` invocation: the kernel it talks to, what it has written, and
/// `preferred_family`.
pub struct Ip<'k, H: Hal> {
    /// The kernel (as root).
    pub k: &'k mut Kernel<H>,
    /// Output so far.
    pub out: String,
    /// `preferred_family` (`-4`, `-6`, `-0`, `-f`).
    pub family: u8,
}

/// The words after the command, with iproute2's `NEXT_ARG` discipline.
pub struct Args<'a> {
    v: &'a [&'a str],
    i: usize,
}

impl<'a> Args<'a> {
    /// The words `v`, positioned at the first.
    pub fn new(v: &'a [&'a str]) -> Self {
        Args { v, i: 0 }
    }
    /// The current word (`*argv`), if any is left.
    pub fn peek(&self) -> Option<&'a str> {
        self.v.get(self.i).copied()
    }
    /// Moves past the current word (`argc--; argv++`).
    pub fn advance(&mut self) {
        self.i += 1;
    }
    /// Words left (`argc`).
    pub fn left(&self) -> usize {
        self.v.len().saturating_sub(self.i)
    }
    /// The words left.
    pub fn rest(&self) -> &'a [&'a str] {
        self.v.get(self.i..).unwrap_or(&[])
    }
}

impl<'k, H: Hal> Ip<'k, H> {
    /// Appends text.
    pub fn say(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// Writes `text` and ends with `status`.
    pub fn fail(&mut self, text: &str, status: i32) -> Exit {
        self.out.push_str(text);
        Exit(status)
    }

    /// `NEXT_ARG()`: the next word, or `incomplete_command()`.
    pub fn next_arg<'a>(&mut self, a: &mut Args<'a>) -> Result<&'a str, Exit> {
        a.advance();
        match a.peek() {
            Some(w) => Ok(w),
            None => Err(self.fail("Command line is not complete. Try option \"help\"\n", EXIT_USAGE)),
        }
    }

    /// `invarg(msg, arg)`.
    pub fn invarg(&mut self, msg: &str, arg: &str) -> Exit {
        let t = format!("Error: argument \"{arg}\" is wrong: {msg}\n");
        self.fail(&t, EXIT_USAGE)
    }

    /// `duparg(key, arg)`.
    pub fn duparg(&mut self, key: &str, arg: &str) -> Exit {
        let t = format!("Error: duplicate \"{key}\": \"{arg}\" is the second value.\n");
        self.fail(&t, EXIT_USAGE)
    }

    /// `duparg2(key, arg)`.
    pub fn duparg2(&mut self, key: &str, arg: &str) -> Exit {
        let t = format!("Error: either \"{key}\" is duplicate, or \"{arg}\" is a garbage.\n");
        self.fail(&t, EXIT_USAGE)
    }

    /// A usage text and `exit(-1)`.
    pub fn usage(&mut self, text: &str) -> Exit {
        self.fail(text, EXIT_USAGE)
    }

    /// A keyword iproute2 accepts that k43 does not model.
    pub fn unsupported(&mut self, word: &str) -> Exit {
        let t = format!("k43: ip: \"{word}\" is not supported\n");
        self.fail(&t, 1)
    }

    /// `get_prefix(arg, family)`, exiting as iproute2 does on a bad one.
    pub fn get_prefix(&mut self, arg: &str, family: u8) -> Result<util::InetPrefix, Exit> {
        if family == AF_PACKET {
            let t = format!("Error: \"{arg}\" may be inet prefix, but it is not allowed in this context.\n");
            return Err(self.fail(&t, 1));
        }
        match util::get_prefix_1(arg, family) {
            Some(p) => Ok(p),
            None => {
                let t = format!("Error: {} prefix is expected rather than \"{arg}\".\n", util::family_name(family));
                Err(self.fail(&t, 1))
            }
        }
    }

    /// `get_addr(arg, family)`.
    pub fn get_addr(&mut self, arg: &str, family: u8) -> Result<util::InetPrefix, Exit> {
        match util::get_addr_1(arg, family) {
            Some(p) => Ok(p),
            None => {
                let t = format!("Error: {} address is expected rather than \"{arg}\".\n", util::family_name(family));
                Err(self.fail(&t, 1))
            }
        }
    }

    /// `ll_name_to_index`: the device's index, else the `ifN` spelling's N, else 0.
    pub fn ll_name_to_index(&self, name: &str) -> u32 {
        self.k.net().dev_by_name(name).unwrap_or_else(|| util::if_index_name(name))
    }

    /// `ll_name_to_index`, or `Cannot find device "…"` (status 1).
    pub fn dev_index(&mut self, name: &str) -> Result<u32, Exit> {
        match self.ll_name_to_index(name) {
            0 => {
                let t = format!("Cannot find device \"{name}\"\n");
                Err(self.fail(&t, 1))
            }
            i => Ok(i),
        }
    }

    /// `rtnl_talk`'s error: `RTNETLINK answers: …` and status 2.
    pub fn talk(&mut self, r: Result<(), Errno>) -> Res {
        match r {
            Ok(()) => Ok(()),
            Err(e) => {
                let t = kernel::net::fib::print::rtnetlink_answers(e);
                Err(self.fail(&t, 2))
            }
        }
    }

    /// `ll_index_to_name`: the device's name, else `if%d`.
    pub fn dev_name(&self, ifindex: u32) -> String {
        self.k.net().dev_name(ifindex)
    }
}

/// Runs `ip ARGS…` as root on `k`.
pub fn ip<H: Hal>(k: &mut Kernel<H>, args: &[&str]) -> IpOutput {
    let mut ip = Ip { k, out: String::new(), family: AF_UNSPEC };
    let status = match main(&mut ip, args) {
        Ok(()) => 0,
        Err(Exit(s)) => s,
    };
    IpOutput { text: ip.out, status }
}

/// `main` of `ip/ip.c`: the options, then the object.
fn main<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    let mut a = Args::new(args);
    while let Some(opt) = a.peek() {
        if opt == "--" {
            a.advance();
            break;
        }
        if !opt.starts_with('-') {
            break;
        }
        let o = if opt.starts_with("--") { &opt[1..] } else { opt };
        if matches(o, "-loops") {
            return Err(ip.unsupported(opt));
        } else if matches(o, "-family") {
            a.advance();
            let Some(f) = a.peek() else { return Err(ip.usage(usage::IP)) };
            if f == "help" {
                return Err(ip.usage(usage::IP));
            }
            ip.family = util::read_family(f);
            if ip.family == AF_UNSPEC {
                return Err(ip.invarg("invalid protocol family", f));
            }
        } else if o == "-4" {
            ip.family = AF_INET;
        } else if o == "-6" {
            ip.family = AF_INET6;
        } else if o == "-0" {
            ip.family = AF_PACKET;
        } else if o == "-M" {
            ip.family = AF_MPLS;
        } else if matches!(o, "-I" | "-D" | "-B") {
            return Err(ip.unsupported(opt));
        } else if matches(o, "-help") && !matches(o, "-human") {
            return Err(ip.usage(usage::IP));
        } else if ["-human", "-human-readable", "-iec", "-stats", "-statistics", "-details", "-resolve", "-oneline", "-timestamp", "-tshort", "-force", "-batch", "-brief", "-rcvbuf", "-color", "-netns", "-all"]
            .iter()
            .any(|p| matches(o, p))
        {
            return Err(ip.unsupported(opt));
        } else if matches(o, "-Version") {
            ip.say("ip utility, iproute2-ss151103\n");
            return Ok(());
        } else {
            let t = format!("Option \"{opt}\" is unknown, try \"ip -help\".\n");
            return Err(ip.fail(&t, EXIT_USAGE));
        }
        a.advance();
    }
    let Some(obj) = a.peek() else { return Err(ip.usage(usage::IP)) };
    a.advance();
    let rest = a.rest();
    const OBJECTS: [&str; 26] = [
        "address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable", "ntbl", "link", "l2tp", "fou", "tunnel", "tunl",
        "tuntap", "tap", "token", "tcpmetrics", "tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "help",
    ];
    match OBJECTS.iter().find(|c| matches(obj, c)) {
        Some(&"address") => addr::do_ipaddr(ip, rest),
        Some(&"route") => route::do_iproute(ip, rest),
        Some(&"rule") => rule::do_iprule(ip, rest),
        Some(&"neighbor") | Some(&"neighbour") => neigh::do_ipneigh(ip, rest),
        Some(&"link") => link::do_iplink(ip, rest),
        Some(&"help") => Err(ip.usage(usage::IP)),
        Some(_) => Err(ip.unsupported(obj)),
        None => {
            let t = format!("Object \"{obj}\" is unknown, try \"ip help\".\n");
            Err(ip.fail(&t, 1))
        }
    }
}
