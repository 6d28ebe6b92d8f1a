//! The examples, run as programs: `echo_server` echoes every byte to several
//! `std` clients at once, and `echo_client` echoes its stdin lines through it.
//!
//! `cargo test` builds the examples next to the test binaries
//! (`target/<profile>/examples/`); this test finds them from its own path.

mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::thread;

use util::{example_path, watchdog, ChildServer};

/// Sends `len` pattern bytes while reading the echo on another thread, then
/// half-closes and checks every byte and the server's EOF.
fn echo_through(addr: SocketAddr, seed: u64, len: usize) {
    let stream = TcpStream::connect(addr).expect("connect to echo_server");
    let mut reader = stream.try_clone().unwrap();
    let receiving = thread::spawn(move || {
        let mut got = Vec::new();
        reader.read_to_end(&mut got).expect("read echo");
        got
    });
    let mut writer = stream;
    writer.write_all(&util::pattern(seed, len)).expect("write");
    writer.shutdown(Shutdown::Write).unwrap();
    let got = receiving.join().unwrap();
    assert_eq!(got.len(), len, "client {seed}: echo length (then EOF)");
    util::assert_pattern(seed, 0, &got, &format!("echo_server, client {seed}"));
}

#[test]
fn echo_server_and_echo_client_examples_echo() {
    watchdog(|| {
        let mut command = Command::new(example_path("echo_server"));
        command.arg(util::LOCALHOST_0).stdin(Stdio::null());
        let mut server = ChildServer::start(command);
        let addr = server.addr;

        let clients: Vec<_> = (0..8u64)
            .map(|seed| thread::spawn(move || echo_through(addr, seed, 1 + seed as usize * 50_000)))
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        // Larger than the socket buffers, so the server has to hold back
        // what the client is not yet reading.
        echo_through(addr, 100, 8 << 20);

        let lines = "hello\nedgeloop echo client\n\n12345 with trailing spaces   \nlast line\n";
        let mut client = Command::new(example_path("echo_client"))
            .arg(addr.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start echo_client");
        client
            .stdin
            .take()
            .unwrap()
            .write_all(lines.as_bytes())
            .expect("write the client's stdin");
        let out = client.wait_with_output().expect("echo_client output");
        assert!(
            out.status.success(),
            "echo_client failed: {:?}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), lines);

        server.assert_running();
    });
}

/// `proxy` in front of `echo_server`: bytes go through both ways, every one
/// checked, and the client's half-close reaches the server (whose EOF comes
/// back through the proxy).
#[test]
fn the_proxy_example_carries_an_echo_both_ways_with_half_close() {
    watchdog(|| {
        let mut command = Command::new(example_path("echo_server"));
        command.arg(util::LOCALHOST_0).stdin(Stdio::null());
        let mut echo = ChildServer::start(command);
        let mut command = Command::new(example_path("proxy"));
        command
            .arg(util::LOCALHOST_0)
            .arg(echo.addr.to_string())
            .stdin(Stdio::null());
        let mut proxy = ChildServer::start(command);
        for seed in 0..3 {
            echo_through(proxy.addr, 100 + seed, 64 * 1024);
        }
        proxy.assert_running();
        echo.assert_running();
    });
}

/// `queue_echo` echoes for several clients at once: some in lock step, a
/// line at a time (so nothing waits for EOF), some streaming pattern bytes
/// larger than the socket buffers (so the queues fill and backpressure
/// holds the reader back); every byte checked, then EOF.
#[test]
fn the_queue_echo_example_echoes_lines_for_several_clients_at_once() {
    watchdog(|| {
        use std::io::{BufRead, BufReader};
        let mut command = Command::new(example_path("queue_echo"));
        command.arg(util::LOCALHOST_0).stdin(Stdio::null());
        let mut server = ChildServer::start(command);
        let addr = server.addr;

        let line_clients: Vec<_> = (0..4u64)
            .map(|client| {
                thread::spawn(move || {
                    let stream = TcpStream::connect(addr).expect("connect to queue_echo");
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    let mut echo = String::new();
                    for i in 0..100 {
                        let line = format!("client {client} line {i}: {}\n", "x".repeat(i));
                        writer.write_all(line.as_bytes()).expect("write a line");
                        echo.clear();
                        reader.read_line(&mut echo).expect("read the echo");
                        assert_eq!(echo, line, "client {client}, line {i}");
                    }
                    writer.shutdown(Shutdown::Write).unwrap();
                    echo.clear();
                    assert_eq!(
                        reader.read_line(&mut echo).unwrap(),
                        0,
                        "EOF after the echo"
                    );
                })
            })
            .collect();
        let byte_clients: Vec<_> = (0..4u64)
            .map(|seed| {
                thread::spawn(move || echo_through(addr, 200 + seed, 1 + seed as usize * 700_000))
            })
            .collect();
        for c in line_clients.into_iter().chain(byte_clients) {
            c.join().unwrap();
        }
        server.assert_running();
    });
}

/// A client of the `chat` example, reading lines with a bounded wait.
struct ChatClient {
    reader: std::io::BufReader<TcpStream>,
    writer: TcpStream,
    addr: SocketAddr,
}

/// How long a chat client waits for a line before the test fails.
const CHAT_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

impl ChatClient {
    /// Connects and reads the welcome, which the server sends once the
    /// client is in the room: from then on it gets every message.
    fn join(server: SocketAddr) -> ChatClient {
        let stream = TcpStream::connect(server).expect("connect to chat");
        stream.set_read_timeout(Some(CHAT_READ_TIMEOUT)).unwrap();
        let addr = stream.local_addr().unwrap();
        let mut client = ChatClient {
            reader: std::io::BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
            addr,
        };
        let welcome = client.line().expect("a welcome");
        assert!(
            welcome.starts_with(&format!("* welcome, {addr}")),
            "{welcome:?}"
        );
        client
    }

    fn say(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\n").as_bytes())
            .expect("send a chat line");
    }

    /// The next line without its `\n`, or `None` at EOF.
    fn line(&mut self) -> Option<String> {
        use std::io::BufRead;
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read a chat line");
        if n == 0 {
            return None;
        }
        assert_eq!(line.pop(), Some('\n'), "a whole line: {line:?}");
        Some(line)
    }

    /// Panics unless the next line is `want`.
    fn expect_line(&mut self, want: &str) {
        assert_eq!(self.line().as_deref(), Some(want), "client {}", self.addr);
    }
}

/// Three clients: a line from one reaches the two others, prefixed with
/// its sender's address, and not the sender itself; a client that leaves
/// is announced.
#[test]
fn the_chat_example_sends_each_line_to_every_other_client() {
    watchdog(|| {
        let mut command = Command::new(example_path("chat"));
        command.arg(util::LOCALHOST_0).stdin(Stdio::null());
        let mut server = ChildServer::start(command);
        let (mut a, mut b, mut c) = (
            ChatClient::join(server.addr),
            ChatClient::join(server.addr),
            ChatClient::join(server.addr),
        );

        a.say("hello from a");
        b.expect_line(&format!("{}: hello from a", a.addr));
        c.expect_line(&format!("{}: hello from a", a.addr));
        c.say("hi from c");
        // The room orders its messages: had `a` been sent its own line, it
        // would come before `c`'s, which `c` sent after receiving it.
        a.expect_line(&format!("{}: hi from c", c.addr));
        b.expect_line(&format!("{}: hi from c", c.addr));
        b.say("bye from b");
        c.expect_line(&format!("{}: bye from b", b.addr));
        a.expect_line(&format!("{}: bye from b", b.addr));

        let a_addr = a.addr;
        drop(a);
        b.expect_line(&format!("* {a_addr} left"));
        c.expect_line(&format!("* {a_addr} left"));
        server.assert_running();
    });
}

/// About how many bytes the kernel buffers between the chat server and a
/// client that does not read: the most a send buffer grows to, plus a
/// receive buffer that is not read (so not grown), plus a margin.
fn kernel_buffer_bytes() -> usize {
    let field = |path: &str, n: usize| -> Option<usize> {
        std::fs::read_to_string(path)
            .ok()?
            .split_whitespace()
            .nth(n)?
            .parse()
            .ok()
    };
    let send_max = field("/proc/sys/net/ipv4/tcp_wmem", 2).unwrap_or(4 << 20);
    let receive_default = field("/proc/sys/net/ipv4/tcp_rmem", 1).unwrap_or(128 << 10);
    send_max + receive_default + (1 << 20)
}

/// One line of the flood in the lag test: numbered, about 1 KiB.
fn flood_line(i: usize) -> String {
    format!("{i:06} {}", "abcdefghij".repeat(100))
}

/// A client that stops reading while another floods is told it fell
/// behind and disconnected, after the whole lines it was sent; the others
/// keep every message.
#[test]
fn the_chat_example_disconnects_a_client_that_falls_behind() {
    watchdog(|| {
        const BATCH: usize = 32;
        let mut command = Command::new(example_path("chat"));
        command.arg(util::LOCALHOST_0).stdin(Stdio::null());
        let mut server = ChildServer::start(command);
        let mut flooder = ChatClient::join(server.addr);
        let mut reader = ChatClient::join(server.addr);
        // Its buffers are left as they are: the server's send buffer, which
        // the kernel grows to megabytes, holds most of what it is sent, and
        // a small receive buffer would only make reading all of that back
        // slow (a few KiB per delayed ACK).
        let mut silent = ChatClient::join(server.addr);
        let most_lines = 2 * kernel_buffer_bytes() / flood_line(0).len();

        let fell_behind = format!("* {} fell behind and was disconnected", silent.addr);
        let mut sent = 0;
        let mut announced = false;
        while !announced {
            assert!(
                sent < most_lines,
                "{sent} lines and the silent client is still in"
            );
            let batch: String = (sent..sent + BATCH).map(|i| flood_line(i) + "\n").collect();
            flooder.writer.write_all(batch.as_bytes()).expect("flood");
            // The reader keeps up, a batch at a time: every line, in order.
            let mut got = 0;
            while got < BATCH {
                let line = reader.line().expect("the reader is not disconnected");
                if line == fell_behind {
                    announced = true;
                    continue;
                }
                assert_eq!(
                    line,
                    format!("{}: {}", flooder.addr, flood_line(sent + got))
                );
                got += 1;
            }
            sent += BATCH;
        }

        // The room goes on without it.
        flooder.say("still here");
        reader.expect_line(&format!("{}: still here", flooder.addr));

        // The silent client reads at last: whole lines from the start of
        // the flood, then the notice, then EOF.
        let mut delivered = 0;
        let notice = loop {
            let line = silent.line().expect("the notice before EOF");
            if !line.starts_with(&flooder.addr.to_string()) {
                break line;
            }
            assert_eq!(line, format!("{}: {}", flooder.addr, flood_line(delivered)));
            delivered += 1;
        };
        let behind: usize = notice
            .strip_prefix("you fell behind by ")
            .and_then(|rest| rest.strip_suffix(" messages; disconnecting"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not the lag notice: {notice:?}"));
        assert!(
            behind >= 1 && delivered + behind <= sent,
            "{delivered} + {behind} of {sent}"
        );
        assert_eq!(silent.line(), None, "disconnected after the notice");
        server.assert_running();
    });
}

/// `udp_echo`: datagrams from two clients come back to each, every byte.
#[test]
fn the_udp_echo_example_echoes_datagrams() {
    watchdog(|| {
        let mut command = Command::new(example_path("udp_echo"));
        command.arg(util::LOCALHOST_0).stdin(Stdio::null());
        let mut server = ChildServer::start(command);
        let clients: Vec<std::net::UdpSocket> = (0..2)
            .map(|_| std::net::UdpSocket::bind(util::LOCALHOST_0).unwrap())
            .collect();
        for (i, client) in clients.iter().enumerate() {
            client
                .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            for len in [1usize, 512, 1400] {
                let sent = util::pattern(i as u64 * 10 + len as u64, len);
                client.send_to(&sent, server.addr).unwrap();
                let mut buf = vec![0; 2048];
                let (n, from) = client.recv_from(&mut buf).expect("the echo comes back");
                assert_eq!(from, server.addr);
                assert_eq!(&buf[..n], &sent[..], "client {i}, {len} bytes");
            }
        }
        server.assert_running();
    });
}
