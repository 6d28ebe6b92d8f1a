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
