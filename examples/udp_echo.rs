//! A UDP echo server: every datagram goes back to whoever sent it.
//!
//! ```text
//! cargo run --release --example udp_echo               # 127.0.0.1:8081
//! nc -u 127.0.0.1 8081                                 # type lines; each comes back
//! ```
//!
//! One task, one socket, no buffer per peer: the classic tutorial's UDP
//! echo, with `recv_from` waiting on the driver instead of `select`.

use edgeloop::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8081".to_string());
    edgeloop::block_on(async move {
        let socket = UdpSocket::bind(addr.as_str()).await?;
        println!("edgeloop UDP echo listening on {}", socket.local_addr()?);
        // The largest UDP payload over IPv4: no datagram is cut short.
        let mut buf = vec![0; 65_507];
        loop {
            let (n, peer) = socket.recv_from(&mut buf).await?;
            if let Err(err) = socket.send_to(&buf[..n], peer).await {
                // One peer's trouble (say, an ICMP error for an earlier
                // reply) must not end the server.
                eprintln!("send to {peer}: {err}");
            }
        }
    })
}
