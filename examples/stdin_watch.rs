//! Watch the terminal with a one-second timeout: every line typed is
//! echoed back, and each second in which nothing arrives prints a tick.
//! End of file (`^D` at a terminal) ends it.
//!
//! ```text
//! cargo run --example stdin_watch                  # type, or wait
//! printf 'one\ntwo\n' | cargo run --example stdin_watch
//! cargo run --example stdin_watch < Cargo.toml     # a regular file works too
//! ```
//!
//! `edgeloop::io::stdin()` reads fd 0 on a helper thread, so the same code
//! serves a terminal, a pipe, a file and `/dev/null`, and never makes the
//! shell's terminal nonblocking. `next_line` is cancel-safe: when the
//! timeout drops it mid-line, the part read so far is kept for the next
//! call.

use std::io;
use std::time::Duration;

use edgeloop::io::{stdin, stdout, AsyncBufReadExt, AsyncWriteExt, BufReader};
use edgeloop::time::timeout;

/// How long a quiet spell lasts before it earns a tick.
const TICK: Duration = Duration::from_secs(1);

fn main() -> io::Result<()> {
    edgeloop::block_on(async {
        let mut lines = BufReader::new(stdin()).lines();
        let mut out = stdout();
        let mut ticks = 0u64;
        loop {
            let message = match timeout(TICK, lines.next_line()).await {
                Ok(Ok(Some(line))) => format!("line: {line}\n"),
                Ok(Ok(None)) => break,
                Ok(Err(e)) => return Err(e),
                Err(_elapsed) => {
                    ticks += 1;
                    format!("tick {ticks}\n")
                }
            };
            out.write_all(message.as_bytes()).await?;
            out.flush().await?;
        }
        out.write_all(b"eof\n").await?;
        out.flush().await
    })
}
