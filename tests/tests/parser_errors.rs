//! Malformed scenarios are reported as `path:line:col: error: …` with the line and a caret.

use harness::sim::run_source;

fn error_of(src: &str) -> String {
    match run_source("bad.scn", src, 1, true) {
        Err(e) => e.rendered,
        Ok(_) => panic!("expected a parse error for:\n{src}"),
    }
}

macro_rules! case {
    ($name:ident, $src:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), error_of($src));
        }
    };
}

case!(misspelt_flag, "spawn t1\nt1: openat(AT_FDCWD, \"/x\", O_RDONLY|O_CRAET, 0644) = 3\n");
case!(unknown_syscall, "spawn t1\nt1: getpidd() = 1\n");
case!(unknown_errno, "spawn t1\nt1: close(9) = -1 EBADFD_NOPE (Bad file descriptor)\n");
case!(wrong_errno_message, "spawn t1\nt1: close(9) = -1 EBADF (No such file)\n");
case!(too_few_arguments, "spawn t1\nt1: read(0, \"x\") = 1\n");
case!(too_many_arguments, "spawn t1\nt1: close(1, 2) = 0\n");
case!(unterminated_string, "spawn t1\nt1: openat(AT_FDCWD, \"/x, O_RDONLY) = 3\n");
case!(unknown_command, "spawnn t1\n");
case!(unknown_struct_field, "spawn t1\nt1: nanosleep({tv_secs=1, tv_nsec=0}, NULL) = 0\n");
case!(bad_enum_value, "spawn t1\nt1: lseek(3, 0, SEEK_MIDDLE) = 0\n");
case!(missing_result, "spawn t1\nt1: getpid()\n");
case!(bad_escape, "file /x \"a\\qb\"\n");
case!(sockaddr_unknown_field, "spawn t1\nt1: bind(3, {sa_family=AF_INET, sin_prt=htons(53)}, 16) = 0\n");
case!(sockaddr_field_of_another_family, "spawn t1\nt1: bind(3, {sa_family=AF_INET, sin6_port=htons(53)}, 16) = 0\n");
case!(sockaddr_bad_address, "spawn t1\nt1: bind(3, {sa_family=AF_INET, sin_addr=inet_addr(\"127.0.0.256\")}, 16) = 0\n");
case!(msghdr_unknown_field, "spawn t1\nt1: sendmsg(3, {msg_nam=NULL}, 0) = 0\n");
