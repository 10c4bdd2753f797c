//! The kernel's own answer to "which local address would I use to reach DEST?", as calico-node's
//! `can-reach=` method asks it: a UDP socket connected to DEST:80 (no packet is sent) and its local
//! address. DNS names are resolved with the system resolver under a time bound.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::mpsc;
use std::time::Duration;

/// How long a DNS name may take to resolve before it counts as failed.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

/// The source address the kernel picks for a UDP connect to `dest` port 80.
pub fn source_address_for(dest: IpAddr) -> io::Result<IpAddr> {
    let bind: SocketAddr = match dest {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind)?;
    socket.connect(SocketAddr::new(dest, 80))?;
    Ok(socket.local_addr()?.ip())
}

/// Resolves a DNS name with the system resolver, waiting at most `timeout`. The lookup runs on its own
/// thread; one that does not answer in time is abandoned (it ends when the resolver gives up).
pub fn resolve(name: &str, timeout: Duration) -> Result<Vec<IpAddr>, String> {
    let (tx, rx) = mpsc::channel();
    let host = format!("{name}:80");
    std::thread::Builder::new()
        .name("nodecheck-resolve".into())
        .spawn(move || {
            let answer = host
                .to_socket_addrs()
                .map(|addrs| addrs.map(|a| a.ip()).collect::<Vec<_>>())
                .map_err(|e| e.to_string());
            let _ = tx.send(answer);
        })
        .map_err(|e| format!("cannot start the resolver thread: {e}"))?;
    match rx.recv_timeout(timeout) {
        Ok(answer) => answer,
        Err(_) => Err(format!(
            "no answer from the resolver within {} s",
            timeout.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_reaches_itself() {
        let src = source_address_for("127.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(src, "127.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn localhost_resolves_quickly() {
        let addrs = resolve("localhost", RESOLVE_TIMEOUT).unwrap();
        assert!(addrs.iter().any(|a| a.is_loopback()), "{addrs:?}");
    }
}
