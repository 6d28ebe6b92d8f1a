//! A TCP proxy: every connection to LISTEN is joined to a new connection to
//! UPSTREAM, bytes copied both ways, half-close passed through.
//!
//! ```text
//! cargo run --release --example echo_server 127.0.0.1:9000 &
//! cargo run --release --example proxy 127.0.0.1:8082 127.0.0.1:9000
//! nc 127.0.0.1 8082                       # typed lines go through to the echo server
//! ```
//!
//! One task per client; `copy_bidirectional` does the rest: when one side
//! sends FIN, the other side's write half is shut down, and the copy ends
//! once both directions have.

use std::net::SocketAddr;

use edgeloop::io::copy_bidirectional;
use edgeloop::net::{TcpListener, TcpStream};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!("usage: proxy LISTEN_ADDR UPSTREAM_ADDR");
        std::process::exit(2);
    };
    let upstream: SocketAddr = upstream.parse().map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("UPSTREAM_ADDR: {e}"),
        )
    })?;
    edgeloop::block_on(async move {
        let listener = TcpListener::bind(listen.as_str()).await?;
        println!(
            "edgeloop proxy listening on {} for {upstream}",
            listener.local_addr()?
        );
        loop {
            match listener.accept().await {
                Ok((mut client, peer)) => {
                    edgeloop::task::Builder::new()
                        .name(&format!("proxy {peer}"))
                        .spawn(async move {
                            let mut server = match TcpStream::connect(upstream).await {
                                Ok(server) => server,
                                Err(err) => return eprintln!("{peer}: upstream: {err}"),
                            };
                            if let Err(err) = copy_bidirectional(&mut client, &mut server).await {
                                eprintln!("{peer}: {err}");
                            }
                        })?;
                }
                Err(err) => eprintln!("accept: {err}"),
            }
        }
    })
}
