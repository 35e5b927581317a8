//! The deterministic `no_std` executor for built-in user programs.
//!
//! A program is an `async fn` over [`Sys`]. Each syscall or user-memory access it makes
//! is a request left in its mailbox; the world hands the request to the kernel and
//! polls the program again once the answer is there. No wakers are needed: the world
//! knows which mailboxes are answered, and the seed picks which ready program runs next.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use kernel::syscalls::Sysno;
use kernel::Pid;

/// A program's body once started.
pub type ProgramFuture = Pin<Box<dyn Future<Output = i32>>>;
/// What a forking program runs in its child.
pub type ChildBody = Box<dyn FnOnce(Sys) -> ProgramFuture>;

/// What a program asks of the world.
pub enum Request {
    /// Enter syscall `sysno` with raw arguments.
    Syscall {
        /// The syscall.
        sysno: Sysno,
        /// Its arguments in table order.
        args: [u64; 6],
    },
    /// A user-mode load of `len` bytes at `addr`.
    Load {
        /// Address.
        addr: u64,
        /// Bytes.
        len: usize,
    },
    /// A user-mode store of `data` at `addr`.
    Store {
        /// Address.
        addr: u64,
        /// Bytes.
        data: Vec<u8>,
    },
}

/// The world's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// A syscall's return value.
    Ret(i64),
    /// Bytes loaded.
    Data(Vec<u8>),
    /// A store succeeded.
    Stored,
    /// The access faulted (what would be SIGSEGV).
    Fault,
}

/// One program's channel to the world.
#[derive(Default)]
pub struct Mailbox {
    /// The request waiting to be served.
    pub request: Option<Request>,
    /// The answer waiting to be picked up.
    pub response: Option<Response>,
    /// The world took the request and has not answered yet.
    pub in_flight: bool,
    /// The child body of a `fork` in flight.
    pub child: Option<ChildBody>,
}

/// A program's handle on its task: the `Syscalls` interface.
#[derive(Clone)]
pub struct Sys {
    /// The task's pid.
    pub pid: Pid,
    mb: Rc<RefCell<Mailbox>>,
    /// Scratch memory the helpers marshal arguments into.
    pub arena: u64,
}

struct Ask {
    mb: Rc<RefCell<Mailbox>>,
    req: Option<Request>,
}

impl Future for Ask {
    type Output = Response;
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Response> {
        if let Some(req) = self.req.take() {
            self.mb.borrow_mut().request = Some(req);
            return Poll::Pending;
        }
        match self.mb.borrow_mut().response.take() {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }
}

impl Sys {
    /// A handle for `pid` with its mailbox and scratch arena.
    pub fn new(pid: Pid, mb: Rc<RefCell<Mailbox>>, arena: u64) -> Sys {
        Sys { pid, mb, arena }
    }

    async fn ask(&self, req: Request) -> Response {
        Ask { mb: self.mb.clone(), req: Some(req) }.await
    }

    /// Makes a raw syscall.
    pub async fn syscall(&self, sysno: Sysno, args: [u64; 6]) -> i64 {
        match self.ask(Request::Syscall { sysno, args }).await {
            Response::Ret(r) => r,
            _ => -(kernel::Errno::EFAULT.0 as i64),
        }
    }

    /// Stores `data` at `addr` in the task's memory.
    pub async fn store(&self, addr: u64, data: &[u8]) -> bool {
        self.ask(Request::Store { addr, data: data.to_vec() }).await == Response::Stored
    }

    /// Loads `len` bytes at `addr`.
    pub async fn load(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        match self.ask(Request::Load { addr, len }).await {
            Response::Data(d) => Some(d),
            _ => None,
        }
    }

    /// `fork()`: the child runs `child` (a program cannot copy its own Rust state, so
    /// the child's code is given here, as after a `fork` that branches on its result).
    pub async fn fork(&self, child: impl FnOnce(Sys) -> ProgramFuture + 'static) -> i64 {
        self.mb.borrow_mut().child = Some(Box::new(child));
        let r = self.syscall(Sysno::Clone, [kernel::uapi::signal::SIGCHLD as u64, 0, 0, 0, 0, 0]).await;
        self.mb.borrow_mut().child = None;
        r
    }
}

/// A running program.
pub struct ProgTask {
    /// Its body.
    pub fut: ProgramFuture,
    /// Its mailbox.
    pub mb: Rc<RefCell<Mailbox>>,
    /// Set once the body returned: its exit code.
    pub done: Option<i32>,
}

impl ProgTask {
    /// Starts `body` for `pid`.
    pub fn start(pid: Pid, arena: u64, body: impl FnOnce(Sys) -> ProgramFuture) -> ProgTask {
        let mb = Rc::new(RefCell::new(Mailbox::default()));
        let fut = body(Sys::new(pid, mb.clone(), arena));
        ProgTask { fut, mb, done: None }
    }

    /// Whether the program can make progress: never polled, answered, or holding a
    /// load or store to retry after its fault completed.
    pub fn ready(&self) -> bool {
        let mb = self.mb.borrow();
        self.done.is_none() && !mb.in_flight
    }

    /// Runs the program until its next request or its end.
    pub fn poll(&mut self) {
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(code) = self.fut.as_mut().poll(&mut cx) {
            self.done = Some(code);
        }
    }
}

/// All programs of one host, by pid.
pub type Programs = BTreeMap<Pid, ProgTask>;
