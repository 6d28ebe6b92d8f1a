//! Unix domain sockets: [`UnixListener`] and [`UnixStream`] (byte streams),
//! [`UnixDatagram`] (datagrams), with [`UCred`] for the peer's credentials.
//!
//! A `path` names a socket file, or, if its first byte is NUL, a Linux
//! abstract name: see [`UnixListener`]'s "Addresses" section.

mod datagram;
mod listener;
mod split;
mod stream;
mod ucred;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use split::{
    UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixReadHalf, UnixReuniteError, UnixWriteHalf,
};
pub use stream::UnixStream;
pub use ucred::UCred;

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::SocketAddr;
use std::path::Path;

/// std's address for `path`: an abstract name if its first byte is NUL,
/// otherwise a file system path.
fn socket_addr(path: &Path) -> io::Result<SocketAddr> {
    match path.as_os_str().as_bytes().split_first() {
        Some((0, name)) => SocketAddr::from_abstract_name(name),
        _ => SocketAddr::from_pathname(path),
    }
}

/// Panics unless called from inside an edgeloop runtime, naming `what`, the
/// function the user called: before a `bind` leaves a socket file behind.
#[track_caller]
fn expect_runtime(what: &str) {
    if edgeloop_runtime::task::try_id().is_none() {
        panic!(
            "`{what}` must be called from inside an edgeloop runtime (from the future \
             given to `edgeloop::block_on` / `Runtime::block_on`, or from a task it spawned)"
        );
    }
}
