//! No file descriptor leaks: after 10,000 connect/close cycles (and refused
//! connects, failed binds, aborted tasks holding sockets) the process has
//! exactly the fds it started with.
//!
//! The only test in this binary, so no other test opens fds meanwhile.

mod util;

use std::io::ErrorKind;
use std::rc::Rc;

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};
use util::{open_fds, watchdog};

const CYCLES: usize = 10_000;
const CLIENT_TASKS: usize = 20;

#[test]
fn ten_thousand_connect_close_cycles_leave_the_fd_count_where_it_started() {
    watchdog(|| {
        let before = open_fds();
        // Tracing off whatever EDGELOOP_TRACE says: this test counts fds (a trace file is one).
        let rt = edgeloop::Builder::new()
            .trace(edgeloop::trace::TraceSink::Off)
            .build()
            .unwrap();
        rt.block_on(async {
            let (listener, addr) = util::local_listener().await;
            let listener = Rc::new(listener);
            let server = edgeloop::spawn({
                let listener = listener.clone();
                async move {
                    loop {
                        let (mut conn, _) = listener.accept().await.expect("accept");
                        edgeloop::spawn(async move {
                            let mut byte = [0];
                            // Echo one byte, then wait for the client to go
                            // (EOF, or a reset for the lingerless ones).
                            if conn.read_exact(&mut byte).await.is_ok() {
                                let _ = conn.write_all(&byte).await;
                                let _ = conn.read(&mut byte).await;
                            }
                        });
                    }
                }
            });
            let clients: Vec<_> = (0..CLIENT_TASKS)
                .map(|t| {
                    edgeloop::spawn(async move {
                        for i in 0..CYCLES / CLIENT_TASKS {
                            let mut s = TcpStream::connect(addr).await.expect("connect");
                            let byte = [(t + i) as u8];
                            s.write_all(&byte).await.expect("write");
                            let mut echo = [0];
                            s.read_exact(&mut echo).await.expect("read");
                            assert_eq!(echo, byte);
                            if i % 10 == 0 {
                                util::set_linger_zero(&s); // close with RST
                            }
                        }
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }

            // Failure paths must close their sockets too.
            let (closed, refused) = util::std_listener();
            drop(closed);
            for _ in 0..200 {
                let err = TcpStream::connect(refused).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
                let err = TcpListener::bind(addr).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::AddrInUse);
            }
            let holders: Vec<_> = (0..100)
                .map(|_| {
                    edgeloop::spawn(async move {
                        let mut s = TcpStream::connect(addr).await.expect("connect");
                        let mut buf = [0];
                        let _ = s.read(&mut buf).await;
                    })
                })
                .collect();
            while rt.metrics().registrations < 1 + 2 * holders.len() {
                edgeloop::yield_now().await;
            }
            for h in &holders {
                h.abort();
            }
            for h in holders {
                assert!(h.await.unwrap_err().is_cancelled());
            }

            // Once every server-side connection task has seen its client
            // go, only the listener is left.
            while rt.metrics().live_tasks > 1 {
                edgeloop::yield_now().await;
            }
            assert_eq!(rt.metrics().registrations, 1, "only the listener");
            let epoll_and_eventfd = 2;
            assert_eq!(
                open_fds(),
                before + epoll_and_eventfd + 1,
                "fds open inside the runtime besides its own and the listener's"
            );
            server.abort();
        });
        drop(rt);
        assert_eq!(open_fds(), before, "fds open after the runtime is gone");
    });
}
