//! `TcpStream`'s halves: one task reads while another writes (made by
//! `halves::stream_halves!`, as `UnixStream`'s are).

use std::io;
use std::net::SocketAddr;

use super::TcpStream;

crate::halves::stream_halves! {
    stream: TcpStream,
    addr: SocketAddr,
    what: "TCP",
    read: ReadHalf,
    write: WriteHalf,
    owned_read: OwnedReadHalf,
    owned_write: OwnedWriteHalf,
    reunite_error: ReuniteError,
}

impl OwnedReadHalf {
    /// Reads without taking the data out (`MSG_PEEK`).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.peek(buf).await
    }
}
