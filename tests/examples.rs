//! The examples, run as programs: `echo_server` echoes every byte to several
//! `std` clients at once, and `echo_client` echoes its stdin lines through it.
//!
//! `cargo test` builds the examples next to the test binaries
//! (`target/<profile>/examples/`); this test finds them from its own path.

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread;

use util::watchdog;

/// `target/<profile>/examples/<name>`, from `target/<profile>/deps/<this test>`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "example binary {} not found: `cargo test` builds the examples \
         (with `--test examples` alone, run `cargo build --examples` first)",
        path.display()
    );
    path
}

/// A child process that is killed when the test ends, even by a panic.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `echo_server` on a free port; returns it and the address it prints.
fn start_server() -> (KillOnDrop, SocketAddr, BufReader<ChildStdout>) {
    let mut child = Command::new(example("echo_server"))
        .arg(util::LOCALHOST_0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start echo_server");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let server = KillOnDrop(child);
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("read the server's first line");
    let addr = line
        .split_whitespace()
        .find_map(|word| word.parse::<SocketAddr>().ok())
        .unwrap_or_else(|| panic!("no address in the server's first line: {line:?}"));
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{line:?}");
    (server, addr, stdout)
}

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
        let (mut server, addr, _stdout) = start_server();

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
        let mut client = Command::new(example("echo_client"))
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

        assert!(
            server.0.try_wait().unwrap().is_none(),
            "echo_server exited while it should still be serving"
        );
        server.0.kill().expect("kill echo_server");
    });
}
