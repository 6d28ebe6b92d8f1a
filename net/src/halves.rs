//! The halves of a stream socket, written once for `TcpStream` and
//! `UnixStream`: [`stream_halves!`] makes a borrowed read and write half,
//! an owned pair that can move into separate tasks, and the error
//! `reunite` gives for halves of two streams.
//!
//! Reads and writes wait in separate directions of one registration, so a
//! reader and a writer never take each other's wakes; the halves only give
//! that a shape the borrow checker and `spawn` accept. What differs between
//! the two streams — the address type, and extras such as `peek` or
//! `peer_cred` — stays with each stream's own `split.rs`.

/// Defines the four halves and the reunite error for `$stream`, whose
/// `&$stream` implements `AsyncRead` and `AsyncWrite` and which has
/// `peer_addr`, `local_addr` (returning `$addr`) and `shutdown`. `$what`
/// names the stream in the error's message.
macro_rules! stream_halves {
    (
        stream: $stream:ident,
        addr: $addr:ty,
        what: $what:literal,
        read: $read:ident,
        write: $write:ident,
        owned_read: $owned_read:ident,
        owned_write: $owned_write:ident,
        reunite_error: $error:ident $(,)?
    ) => {
        #[doc = concat!("The reading half of [`", stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct $read<'a>(&'a $stream);

        #[doc = concat!("The writing half of [`", stringify!($stream), "::split`]. `poll_close` \
            (and so `AsyncWriteExt::close`) shuts the stream's write side down.")]
        #[derive(Debug)]
        pub struct $write<'a>(&'a $stream);

        #[doc = concat!("The reading half of [`", stringify!($stream), "::into_split`]: owned, \
            so it can move into a task of its own.")]
        #[derive(Debug)]
        pub struct $owned_read {
            stream: std::rc::Rc<$stream>,
        }

        #[doc = concat!("The writing half of [`", stringify!($stream), "::into_split`]. Dropping \
            it shuts the stream's write side down (the peer reads EOF once it has read the \
            rest), as closing it does; [`forget`](Self::forget) drops it without that.")]
        #[derive(Debug)]
        pub struct $owned_write {
            stream: std::rc::Rc<$stream>,
            /// Whether dropping it shuts the write side down.
            shutdown_on_drop: bool,
        }

        #[doc = concat!("[`", stringify!($owned_read), "::reunite`] was given halves of two \
            different streams; both come back.")]
        #[derive(Debug)]
        pub struct $error(pub $owned_read, pub $owned_write);

        impl std::fmt::Display for $error {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(
                    "tried to reunite halves of two different ",
                    $what,
                    " streams"
                ))
            }
        }

        impl std::error::Error for $error {}

        pub(crate) fn split(stream: &mut $stream) -> ($read<'_>, $write<'_>) {
            ($read(stream), $write(stream))
        }

        pub(crate) fn into_split(stream: $stream) -> ($owned_read, $owned_write) {
            let stream = std::rc::Rc::new(stream);
            (
                $owned_read {
                    stream: stream.clone(),
                },
                $owned_write {
                    stream,
                    shutdown_on_drop: true,
                },
            )
        }

        impl $owned_read {
            /// Puts the halves back together, if they are of one stream.
            pub fn reunite(self, write: $owned_write) -> Result<$stream, $error> {
                if !std::rc::Rc::ptr_eq(&self.stream, &write.stream) {
                    return Err($error(self, write));
                }
                let mut write = write;
                write.shutdown_on_drop = false;
                let stream = write.stream.clone();
                drop(write);
                drop(self);
                Ok(std::rc::Rc::into_inner(stream).expect("both halves were just dropped"))
            }

            /// The peer's address.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.stream.peer_addr()
            }

            /// The local address.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.stream.local_addr()
            }
        }

        impl $owned_write {
            /// Puts the halves back together, if they are of one stream.
            pub fn reunite(self, read: $owned_read) -> Result<$stream, $error> {
                read.reunite(self)
            }

            /// Drops the half without shutting the write side down.
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }

            /// The peer's address.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.stream.peer_addr()
            }

            /// The local address.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.stream.local_addr()
            }
        }

        impl Drop for $owned_write {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    // An error means the connection is already gone; nothing to tell.
                    let _ = self.stream.shutdown(std::net::Shutdown::Write);
                }
            }
        }

        impl $read<'_> {
            fn stream(&self) -> &$stream {
                self.0
            }
        }

        impl $write<'_> {
            fn stream(&self) -> &$stream {
                self.0
            }
        }

        impl $owned_read {
            fn stream(&self) -> &$stream {
                &self.stream
            }
        }

        impl $owned_write {
            fn stream(&self) -> &$stream {
                &self.stream
            }
        }

        $crate::halves::read_through!($read<'_>);
        $crate::halves::read_through!($owned_read);
        $crate::halves::write_through!($write<'_>);
        $crate::halves::write_through!($owned_write);
    };
}

/// Reading through a shared reference to the half's stream.
macro_rules! read_through {
    ($half:ty) => {
        impl edgeloop_runtime::io::AsyncRead for $half {
            #[inline]
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                edgeloop_runtime::io::AsyncRead::poll_read(
                    std::pin::Pin::new(&mut self.get_mut().stream()),
                    cx,
                    buf,
                )
            }
        }
    };
}

/// Writing through a shared reference to the half's stream.
macro_rules! write_through {
    ($half:ty) => {
        impl edgeloop_runtime::io::AsyncWrite for $half {
            #[inline]
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                edgeloop_runtime::io::AsyncWrite::poll_write(
                    std::pin::Pin::new(&mut self.get_mut().stream()),
                    cx,
                    buf,
                )
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                edgeloop_runtime::io::AsyncWrite::poll_write_vectored(
                    std::pin::Pin::new(&mut self.get_mut().stream()),
                    cx,
                    bufs,
                )
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                edgeloop_runtime::io::AsyncWrite::poll_flush(
                    std::pin::Pin::new(&mut self.get_mut().stream()),
                    cx,
                )
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                edgeloop_runtime::io::AsyncWrite::poll_close(
                    std::pin::Pin::new(&mut self.get_mut().stream()),
                    cx,
                )
            }
        }
    };
}

pub(crate) use {read_through, stream_halves, write_through};
