//! `futures-io`'s traits for the sockets and their halves (the
//! `futures-io` feature).
//!
//! Each impl forwards every method to the type's edgeloop impl and holds
//! exactly where that impl holds, as `edgeloop::io`'s own types do: the
//! bodies come from the runtime's (hidden) `__forward_to_edgeloop!`, which
//! also makes those of `AsyncFd`, `BufReader`, `BufWriter` and the rest.
//! The impls live here because Rust wants a trait impl in the crate of the
//! trait or of the type.

use crate::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, UnixOwnedReadHalf, UnixOwnedWriteHalf,
    UnixReadHalf, UnixStream, UnixWriteHalf, WriteHalf,
};

// `UdpSocket` and `UnixDatagram` send datagrams, not a byte stream: they
// implement neither set of traits.
// The runtime's list of forwarding bodies, so both crates share one.
edgeloop_runtime::__forward_to_edgeloop! {
    impl[] AsyncRead, AsyncWrite for TcpStream;
    impl['a] AsyncRead, AsyncWrite for &'a TcpStream;
    impl['a] AsyncRead for ReadHalf<'a>;
    impl['a] AsyncWrite for WriteHalf<'a>;
    impl[] AsyncRead for OwnedReadHalf;
    impl[] AsyncWrite for OwnedWriteHalf;
    impl[] AsyncRead, AsyncWrite for UnixStream;
    impl['a] AsyncRead, AsyncWrite for &'a UnixStream;
    impl['a] AsyncRead for UnixReadHalf<'a>;
    impl['a] AsyncWrite for UnixWriteHalf<'a>;
    impl[] AsyncRead for UnixOwnedReadHalf;
    impl[] AsyncWrite for UnixOwnedWriteHalf;
}
