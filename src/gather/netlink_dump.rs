//! One netlink dump over a raw socket, for the families the rtnetlink crate does not speak
//! (`NETLINK_SOCK_DIAG` for listening ports, `NETLINK_NETFILTER` for nftables chains): send one
//! request, read the reply datagrams under a receive timeout and a byte cap, and hand each message's
//! type and payload to the caller until `NLMSG_DONE`. Callers build the request and parse payloads.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;

/// A `struct nlmsghdr` for a dump request of `kind` with a payload of `payload_len` bytes.
pub fn request_header(kind: u16, payload_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload_len);
    out.extend_from_slice(&((HEADER_LEN + payload_len) as u32).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    out.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel assigns it
    out
}

/// Sends `request` on a fresh `protocol` socket and passes every reply message to `each` as
/// `(type, payload)`; at most `max_reply` bytes are read.
pub fn dump(
    protocol: libc::c_int,
    request: &[u8],
    max_reply: usize,
    mut each: impl FnMut(u16, &[u8]),
) -> io::Result<()> {
    // SAFETY: socket(2) with constant arguments; the result is checked and owned at once.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            protocol,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh, valid descriptor nobody else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // How long one `recv` may wait: a kernel that does not answer cannot hang gathering.
    let timeout = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    // SAFETY: the option value points to a live timeval of the size passed.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
    // SAFETY: the buffer is valid for its length; the kernel is the destination (nl_pid 0).
    let sent = unsafe {
        let mut kernel: libc::sockaddr_nl = std::mem::zeroed();
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        libc::sendto(
            socket.as_raw_fd(),
            request.as_ptr().cast(),
            request.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0usize;
    loop {
        // SAFETY: the buffer is valid and writable for its length.
        let received = unsafe {
            libc::recv(
                socket.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                0,
            )
        };
        if received < 0 {
            return Err(io::Error::last_os_error());
        }
        total += received as usize;
        if received == 0 || total > max_reply {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the reply ended early or was too large",
            ));
        }
        if walk_messages(&buffer[..received as usize], &mut each)? {
            return Ok(());
        }
    }
}

/// Walks one datagram of netlink messages, passing each to `each`; `Ok(true)` at `NLMSG_DONE`.
/// An `NLMSG_ERROR` with an error code is that error; one with code 0 (an acknowledgement) is
/// skipped.
pub fn walk_messages(mut data: &[u8], each: &mut impl FnMut(u16, &[u8])) -> io::Result<bool> {
    while data.len() >= HEADER_LEN {
        let length = u32::from_ne_bytes(data[0..4].try_into().expect("4 bytes")) as usize;
        let kind = u16::from_ne_bytes(data[4..6].try_into().expect("2 bytes"));
        if length < HEADER_LEN || length > data.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed netlink message",
            ));
        }
        let payload = &data[HEADER_LEN..length];
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let errno = payload
                    .get(0..4)
                    .map(|b| i32::from_ne_bytes(b.try_into().expect("4 bytes")))
                    .unwrap_or(0);
                if errno != 0 {
                    return Err(io::Error::from_raw_os_error(-errno));
                }
            }
            _ => each(kind, payload),
        }
        data = data.get((length + 3) & !3..).unwrap_or_default();
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = request_header(kind, payload.len());
        out.extend_from_slice(payload);
        out.resize((out.len() + 3) & !3, 0);
        out
    }

    #[test]
    fn messages_are_walked_to_done_and_acknowledgements_skipped() {
        let mut data = message(20, &[1, 2, 3]);
        data.extend(message(NLMSG_ERROR, &0i32.to_ne_bytes()));
        data.extend(message(21, &[4]));
        data.extend(message(NLMSG_DONE, &[]));
        data.extend(message(22, &[5]));
        let mut seen = Vec::new();
        assert!(walk_messages(&data, &mut |k, p: &[u8]| seen.push((k, p.to_vec()))).unwrap());
        assert_eq!(seen, vec![(20, vec![1, 2, 3]), (21, vec![4])]);
    }

    #[test]
    fn an_error_message_and_a_bad_length_are_errors() {
        let error = message(NLMSG_ERROR, &(-libc::ENOENT).to_ne_bytes());
        let e = walk_messages(&error, &mut |_, _: &[u8]| {}).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        let mut short = message(20, &[0; 8]);
        short[0..4].copy_from_slice(&8u32.to_ne_bytes());
        assert!(walk_messages(&short, &mut |_, _: &[u8]| {}).is_err());
        // A datagram cut short of the end is not done yet.
        assert!(!walk_messages(&message(20, &[]), &mut |_, _: &[u8]| {}).unwrap());
    }
}
