//! A line-by-line echo client: type a line, see it come back.
//!
//! ```text
//! cargo run --release --example echo_server &
//! cargo run --release --example echo_client              # 127.0.0.1:8080
//! cargo run --release --example echo_client 127.0.0.1:9000
//! ```
//!
//! The terminal is read with an ordinary blocking call: while it waits for
//! you this client has nothing else to do. The socket side is async.

use std::io::{self, BufRead, Write};
use std::net::Shutdown;

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::TcpStream;

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    edgeloop::block_on(async move {
        let mut stream = TcpStream::connect(addr.as_str()).await?;
        stream.set_nodelay(true)?;
        eprintln!("connected to {}", stream.peer_addr()?);
        let stdin = io::stdin();
        let mut stdout = io::stdout();
        let mut line = String::new();
        let mut echo = Vec::new();
        while stdin.lock().read_line(&mut line)? > 0 {
            stream.write_all(line.as_bytes()).await?;
            echo.resize(line.len(), 0);
            stream.read_exact(&mut echo).await?;
            stdout.write_all(&echo)?;
            stdout.flush()?;
            line.clear();
        }
        // Tell the server we are done, and wait for it to close its side.
        stream.shutdown(Shutdown::Write)?;
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await?;
        stdout.write_all(&rest)?;
        Ok(())
    })
}
