//! TCP urgent data shows in the readiness as `Ready::PRIORITY` (new API:
//! the constant and `Ready::is_priority`). Does not compile until they
//! exist.

mod util;

use std::os::fd::AsRawFd;
use std::time::Duration;

use edgeloop::io::{AsyncFd, Ready};
use edgeloop::time::sleep;
use util::watchdog;

/// Sends one byte of TCP urgent data (`MSG_OOB`).
fn send_urgent(stream: &std::net::TcpStream, byte: u8) {
    // SAFETY: sends one byte from `byte`, which outlives the call.
    let sent = unsafe {
        libc::send(
            stream.as_raw_fd(),
            (&byte as *const u8).cast(),
            1,
            libc::MSG_OOB,
        )
    };
    assert_eq!(
        sent,
        1,
        "send(MSG_OOB): {}",
        std::io::Error::last_os_error()
    );
}

/// epoll reports urgent data as `EPOLLPRI`; the readiness must keep it
/// apart from plain readability (it is what tells a short read at the
/// urgent mark from a drained socket). Fails today to compile.
#[test]
fn urgent_data_is_visible_as_priority_readiness() {
    watchdog(|| {
        assert!(Ready::PRIORITY.is_priority());
        assert!(!Ready::READABLE.is_priority());
        edgeloop::block_on(async {
            let (listener, addr) = util::std_listener();
            let peer = std::net::TcpStream::connect(addr).unwrap();
            let (server, _) = listener.accept().unwrap();
            server.set_nonblocking(true).unwrap();
            let fd = AsyncFd::new(server).unwrap();
            assert!(!fd.readiness().is_priority(), "nothing urgent yet");
            send_urgent(&peer, b'!');
            // Bounded: the event is there on the next driver turn or so.
            let mut seen = false;
            for _ in 0..1000 {
                if fd.readiness().is_priority() {
                    seen = true;
                    break;
                }
                sleep(Duration::from_millis(1)).await;
            }
            assert!(
                seen,
                "the urgent byte never showed as priority: {:?}",
                fd.readiness()
            );
        });
    });
}
