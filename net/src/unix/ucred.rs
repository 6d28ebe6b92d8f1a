//! `UCred`: who is at the other end of a Unix socket.

/// The credentials of a Unix socket's peer (`SO_PEERCRED`), from
/// [`UnixStream::peer_cred`](super::UnixStream::peer_cred).
///
/// The kernel records them when the peer called `connect` (or
/// `socketpair`), not when it last wrote: a process that got the socket
/// later, by inheritance or fd passing, is not what they name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UCred {
    /// The peer's process id, as seen from this process's PID namespace
    /// (0 if the peer is in one that this process cannot see into).
    pub pid: i32,
    /// The peer's effective user id.
    pub uid: u32,
    /// The peer's effective group id.
    pub gid: u32,
}

impl UCred {
    pub(crate) fn from_raw(cred: libc::ucred) -> UCred {
        UCred {
            pid: cred.pid,
            uid: cred.uid,
            gid: cred.gid,
        }
    }
}
