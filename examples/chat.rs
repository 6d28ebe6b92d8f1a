//! A line-based chat room: every line a client sends goes to every other
//! client, prefixed with the sender's address.
//!
//! ```text
//! cargo run --release --example chat                     # 127.0.0.1:8084
//! nc 127.0.0.1 8084                                      # in two or more terminals
//! ```
//!
//! One task per connection, one [`broadcast`] channel for the room. Each
//! task waits, in one `select!`, for the first of three things: a message
//! from the room, room in its socket for what it owes the client, or a line
//! from the client. All three are cancel-safe (`recv`, a single `write`,
//! `next_line`), so the losers of each round lose nothing.
//!
//! # A client that stops reading
//!
//! The room never waits for anyone: sending into a broadcast channel is
//! immediate, and a connection whose socket is full keeps what it owes in
//! an outbox of its own. A client may be [`HISTORY`] messages behind,
//! counting both what the channel still holds for it
//! ([`RecvError::Lagged`] past that) and its outbox. Past that it is told
//! "you fell behind by N messages; disconnecting" (after the one message
//! it was being sent, once it reads again) and disconnected, and the room
//! is told it left. So the slowest client costs the others nothing.
//!
//! A sender yields after each line it passes on, so the other connections
//! take each message before the next one: a client that keeps up is never
//! more than a message or two behind. [`HISTORY`] is small so the tests are
//! quick; a room where more than [`HISTORY`] clients talk at the same
//! instant wants a larger one, or a healthy client could be pushed out.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use edgeloop::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use edgeloop::net::{TcpListener, TcpStream};
use edgeloop::sync::broadcast::{self, error::RecvError};

/// How many messages a client may be behind before it is disconnected: the
/// broadcast channel's capacity, and the most a connection's outbox holds.
const HISTORY: usize = 16;

/// How long a client that fell behind gets to read its notice before the
/// connection is closed anyway.
const NOTICE_TIMEOUT: Duration = Duration::from_secs(10);

/// One line for the room. Cheap to clone: the channel clones it once per
/// receiver.
#[derive(Clone, Debug)]
struct Message {
    /// Who it is from; that connection skips it.
    from: SocketAddr,
    /// The whole line as sent to clients, `\n` included.
    text: Rc<str>,
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8084".to_string());
    edgeloop::block_on(async move {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("edgeloop chat listening on {}", listener.local_addr()?);
        let (room, _) = broadcast::channel::<Message>(HISTORY);
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    // Subscribed before the task starts, so nothing sent
                    // after the welcome is missed.
                    let inbox = room.subscribe();
                    let room = room.clone();
                    edgeloop::task::Builder::new()
                        .name(&format!("chat {peer}"))
                        .spawn(async move {
                            if let Err(err) = serve(stream, peer, room, inbox).await {
                                report(peer, &err);
                            }
                        })?;
                }
                Err(err) => eprintln!("accept: {err}"),
            }
        }
    })
}

/// What woke a connection's task.
enum Event {
    /// A message from the room (or the news that this client lagged).
    Room(Result<Message, RecvError>),
    /// Some of the outbox's front message was written.
    Wrote(io::Result<usize>),
    /// A line from the client, or its EOF.
    Line(io::Result<Option<String>>),
}

/// What a connection owes its client: whole messages, the front one
/// perhaps partly written.
#[derive(Default)]
struct Outbox {
    messages: VecDeque<Rc<str>>,
    /// How much of the front message is written.
    written: usize,
}

impl Outbox {
    /// The unwritten part of the front message (empty if there is none).
    fn unwritten(&self) -> &[u8] {
        self.messages
            .front()
            .map_or(&[][..], |m| &m.as_bytes()[self.written..])
    }

    fn advance(&mut self, n: usize) {
        self.written += n;
        if self
            .messages
            .front()
            .is_some_and(|m| self.written == m.len())
        {
            self.messages.pop_front();
            self.written = 0;
        }
    }

    /// Drops every message but the unfinished part of the front one;
    /// returns how many were dropped.
    fn keep_only_front(&mut self) -> usize {
        let dropped = self.messages.len().saturating_sub(1);
        self.messages.truncate(1);
        dropped
    }
}

/// Serves one client until it leaves or falls behind.
async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    room: broadcast::Sender<Message>,
    mut inbox: broadcast::Receiver<Message>,
) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut outbox = Outbox::default();
    outbox
        .messages
        .push_back(format!("* welcome, {peer}: your lines go to everyone else here\n").into());
    let behind = loop {
        // Biased: take what the room sent before reading more from the
        // client, and write before reading, so nothing here runs ahead.
        let event = edgeloop::select! {
            biased;
            got = inbox.recv() => Event::Room(got),
            n = write.write(outbox.unwritten()), if !outbox.messages.is_empty() => Event::Wrote(n),
            line = lines.next_line() => Event::Line(line),
        };
        match event {
            Event::Room(Ok(message)) if message.from == peer => {}
            Event::Room(Ok(message)) if outbox.messages.len() < HISTORY => {
                outbox.messages.push_back(message.text);
            }
            Event::Room(Ok(_)) => break outbox.keep_only_front() + 1,
            Event::Room(Err(RecvError::Lagged(missed))) => {
                break outbox.keep_only_front() + missed as usize;
            }
            Event::Room(Err(RecvError::Closed)) => return Ok(()),
            Event::Wrote(n) => outbox.advance(n?),
            Event::Line(line) => match line? {
                Some(line) => {
                    announce(&room, peer, format!("{peer}: {line}\n"));
                    // Let the others take it before the next line.
                    edgeloop::yield_now().await;
                }
                None => {
                    announce(&room, peer, format!("* {peer} left\n"));
                    return Ok(());
                }
            },
        }
    };
    announce(
        &room,
        peer,
        format!("* {peer} fell behind and was disconnected\n"),
    );
    drop(inbox);
    let notice = format!("you fell behind by {behind} messages; disconnecting\n");
    let last_words = async {
        write.write_all(outbox.unwritten()).await?;
        write.write_all(notice.as_bytes()).await?;
        write.close().await
    };
    // A client that never reads again is closed on anyway.
    match edgeloop::time::timeout(NOTICE_TIMEOUT, last_words).await {
        Ok(written) => written,
        Err(_) => Ok(()),
    }
}

/// Sends `text` from `peer` to the room. The caller's own receiver is
/// alive, so there is always one and this cannot fail.
fn announce(room: &broadcast::Sender<Message>, peer: SocketAddr, text: String) {
    let message = Message {
        from: peer,
        text: text.into(),
    };
    let _ = room.send(message);
}

/// A peer that vanishes is routine for a server; anything else is worth a line.
fn report(peer: SocketAddr, err: &io::Error) {
    use io::ErrorKind::*;
    if !matches!(err.kind(), ConnectionReset | BrokenPipe | ConnectionAborted) {
        eprintln!("{peer}: {err}");
    }
}
