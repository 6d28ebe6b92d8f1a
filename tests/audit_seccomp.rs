//! Under a seccomp profile that predates `epoll_pwait2` (Linux 5.11), the
//! syscall fails with `EPERM` rather than `ENOSYS`; the runtime must fall
//! back to `epoll_wait` then too. The filter is process-wide state (and the
//! fallback is learned once per process), so the test runs in a child.

mod util;

use std::time::Duration;

use edgeloop::time::sleep;
use util::watchdog;

/// This test's name, for re-running it in a child.
const THIS_TEST: &str = "the_runtime_falls_back_to_epoll_wait_when_seccomp_denies_epoll_pwait2";

/// `AUDIT_ARCH_X86_64`: `EM_X86_64` (62), 64-bit, little-endian.
const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
/// `epoll_pwait2`'s number on x86_64.
const SYS_EPOLL_PWAIT2: u32 = 441;

fn bpf_stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn bpf_jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// Installs, on this thread, a seccomp filter that fails `epoll_pwait2`
/// with `EPERM` (as Docker's and systemd's older default profiles do) and
/// allows everything else, including every syscall of another arch.
fn deny_epoll_pwait2() {
    use libc::{BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    let arch = std::mem::offset_of!(libc::seccomp_data, arch) as u32;
    let nr = std::mem::offset_of!(libc::seccomp_data, nr) as u32;
    let mut filter = [
        bpf_stmt(BPF_LD | BPF_W | BPF_ABS, arch),
        bpf_jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3), // else allow
        bpf_stmt(BPF_LD | BPF_W | BPF_ABS, nr),
        bpf_jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_EPOLL_PWAIT2, 0, 1), // else allow
        bpf_stmt(
            BPF_RET | BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
        bpf_stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_ALLOW),
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    let (one, zero): (libc::c_ulong, libc::c_ulong) = (1, 0);
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integers only.
    let res = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, one, zero, zero, zero) };
    assert_eq!(
        res,
        0,
        "PR_SET_NO_NEW_PRIVS: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `program` points at `filter`, both alive across the call; the
    // kernel copies the program.
    let res = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &program as *const libc::sock_fprog,
        )
    };
    assert_eq!(
        res,
        0,
        "PR_SET_SECCOMP: {}",
        std::io::Error::last_os_error()
    );
    // The filter is in force: an invalid call now fails with EPERM, not EBADF.
    // SAFETY: epoll_pwait2 on fd -1 with no buffers fails before touching memory.
    let res = unsafe {
        libc::syscall(
            libc::SYS_epoll_pwait2,
            -1,
            std::ptr::null_mut::<libc::epoll_event>(),
            1,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<libc::sigset_t>(),
            0usize,
        )
    };
    let err = std::io::Error::last_os_error();
    assert!(
        res == -1 && err.raw_os_error() == Some(libc::EPERM),
        "the filter is not in force: epoll_pwait2 gave {res} ({err})"
    );
}

/// In the child, with the filter installed on the runtime's thread: a timed
/// park and a spawned task. Fails today: the child's runtime panics with
/// "edgeloop: epoll_wait failed: Operation not permitted", since only
/// `ENOSYS` makes it fall back to `epoll_wait`.
#[cfg(target_arch = "x86_64")]
#[test]
fn the_runtime_falls_back_to_epoll_wait_when_seccomp_denies_epoll_pwait2() {
    if util::is_child_for(THIS_TEST) {
        deny_epoll_pwait2();
        let out = edgeloop::block_on(async {
            let task = edgeloop::spawn(async {
                sleep(Duration::from_millis(5)).await;
                7
            });
            sleep(Duration::from_millis(5)).await;
            task.await.unwrap()
        });
        assert_eq!(out, 7);
        return;
    }
    watchdog(|| util::run_test_in_child(THIS_TEST, Duration::from_secs(30)));
}
