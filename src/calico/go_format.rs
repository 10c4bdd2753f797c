//! Go standard-library behaviour that calico-node's output and inputs depend on: `fmt`'s `%v` of a
//! `[]string` and `%q` of a string (the predicted log lines must read exactly as the operator will see
//! them in `kubectl logs`), `regexp.QuoteMeta` for the interface lists we recommend, and
//! `net.ParseCIDR` for `cidr=` methods.

use std::net::IpAddr;

use ipnet::IpNet;

/// `%v` of a Go `[]string`: brackets, entries joined by one space, nothing quoted (`[eth{1 2}]`, `[]`
/// for one empty entry).
pub fn slice(entries: &[String]) -> String {
    format!("[{}]", entries.join(" "))
}

/// `%q` (`strconv.Quote`) of a string: double quotes, Go escapes for quotes, backslashes and
/// non-printable characters.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() || is_go_unprintable(c) => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_go_unprintable(c: char) -> bool {
    let u = c as u32;
    (0x200b..=0x200f).contains(&u)
        || (0x202a..=0x202e).contains(&u)
        || (0x2060..=0x2064).contains(&u)
        || u == 0xfeff
        || u == 0x00ad
}

/// Go's text for the errno values a UDP connect can return (`syscall.Errno.Error()`).
pub fn errno_text(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::ENETUNREACH => "network is unreachable",
        libc::EHOSTUNREACH => "no route to host",
        libc::EINVAL => "invalid argument",
        libc::EACCES => "permission denied",
        libc::EPERM => "operation not permitted",
        libc::EADDRNOTAVAIL => "cannot assign requested address",
        libc::EAFNOSUPPORT => "address family not supported by protocol",
        _ => return None,
    })
}

/// Go's `regexp.QuoteMeta`, except that U+FFFD is written `\x{fffd}`: that is how calico-node's
/// regexp sees each byte of an interface name that is not UTF-8 ([`Interface::go_name`]), and the
/// escape keeps the method plain ASCII to read and paste.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == char::REPLACEMENT_CHARACTER {
            out.push_str("\\x{fffd}");
            continue;
        }
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Go's `net.ParseCIDR`, returning the masked network (`10.20.41.5/24` gives `10.20.41.0/24`).
pub fn parse_cidr(text: &str) -> Option<IpNet> {
    let (ip, prefix) = text.split_once('/')?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 3 {
        return None;
    }
    let ip: IpAddr = ip.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    IpNet::new(ip, prefix).ok().map(|n| n.trunc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_prints_like_go() {
        let s = |v: &[&str]| slice(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["eth3"]), "[eth3]");
        assert_eq!(s(&["eth{1", "2}"]), "[eth{1 2}]");
        assert_eq!(s(&[""]), "[]");
        assert_eq!(s(&["eth0", ""]), "[eth0 ]");
        assert_eq!(s(&[" eth0"]), "[ eth0]");
    }

    #[test]
    fn quote_escapes_like_strconv() {
        assert_eq!(quote("10.20.41.0/33"), "\"10.20.41.0/33\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a\"b\\c\n\x1b"), "\"a\\\"b\\\\c\\n\\x1b\"");
        assert_eq!(quote("né"), "\"né\"");
        assert_eq!(quote("a\u{202e}"), "\"a\\u202e\"");
    }
}
