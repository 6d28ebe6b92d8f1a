//! An echo server on a Unix socket: every byte a client sends comes back,
//! until it closes.
//!
//! ```text
//! cargo run --release --example unix_echo                      # /tmp/edgeloop-echo.sock
//! cargo run --release --example unix_echo /run/user/1000/echo.sock
//! cargo run --release --example unix_echo $'\0edgeloop-echo'   # an abstract name
//! nc -U /tmp/edgeloop-echo.sock
//! ```
//!
//! A listener leaves its socket file behind when it goes, so a restarted
//! server finds the old one in its way (`AddrInUse`). [`bind`] removes it
//! first, but only if it is a socket that nobody listens on any more.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{UnixListener, UnixStream};

/// Where the server listens when no path is given.
const DEFAULT_PATH: &str = "/tmp/edgeloop-echo.sock";

fn main() -> io::Result<()> {
    let path = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from(DEFAULT_PATH), PathBuf::from);
    edgeloop::block_on(async move {
        let listener = bind(&path).await?;
        println!("edgeloop Unix echo server listening on {}", path.display());
        serve(listener).await
    })
}

/// Binds `path`, first removing a stale socket file: one that is a socket
/// but refuses connections (its server is gone). A live server's socket, or
/// a file that is not a socket, is left alone and binding fails.
pub async fn bind(path: &Path) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => match UnixStream::connect(path).await {
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => std::fs::remove_file(path)?,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("a server is already listening on {}", path.display()),
                ))
            }
            Err(e) => return Err(e),
        },
        // Not a socket: binding reports `AddrInUse` and nothing is removed.
        Ok(_) => {}
        // No file (or an abstract name, which has none).
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    UnixListener::bind(path)
}

/// Accepts forever, one task per connection.
pub async fn serve(listener: UnixListener) -> io::Result<()> {
    // Out of fds, `accept` reports `EMFILE` once and then waits for an fd
    // to be closed, so the plain loop does not spin.
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                edgeloop::spawn(async move {
                    if let Err(err) = echo(stream).await {
                        eprintln!("connection: {err}");
                    }
                });
            }
            Err(err) => eprintln!("accept: {err}"),
        }
    }
}

/// Echoes until the client's EOF, then shuts our write side down.
async fn echo(mut stream: UnixStream) -> io::Result<()> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.close().await;
        }
        stream.write_all(&buf[..n]).await?;
    }
}
