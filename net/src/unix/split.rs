//! `UnixStream`'s halves: one task reads while another writes (made by
//! `halves::stream_halves!`, as `TcpStream`'s are).

use std::io;
use std::os::unix::net::SocketAddr;

use super::{UCred, UnixStream};

crate::halves::stream_halves! {
    stream: UnixStream,
    addr: SocketAddr,
    what: "Unix",
    read: UnixReadHalf,
    write: UnixWriteHalf,
    owned_read: UnixOwnedReadHalf,
    owned_write: UnixOwnedWriteHalf,
    reunite_error: UnixReuniteError,
}

impl UnixOwnedReadHalf {
    /// The peer's credentials (`SO_PEERCRED`).
    pub fn peer_cred(&self) -> io::Result<UCred> {
        self.stream.peer_cred()
    }
}
