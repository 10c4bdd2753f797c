//! Interface names are bytes: the kernel takes any but NUL, `/`, `:` and white space, and UTF-8 is not
//! required. This is how a name that is not UTF-8 is kept in a snapshot without loss, shown to a
//! person, and seen by calico-node (a Go program) when it matches interface regexes.
//!
//! A snapshot keeps `name` as a string for every interface: the name itself when it is UTF-8 (almost
//! always), else its [`display`] form, with `\xNN` for each byte that is not part of valid UTF-8.
//! Only then does the interface also carry `name_bytes`, the kernel's bytes in lower-case hex
//! (`"6eff"` for `n\xff`), so ordinary names serialise exactly as before and old snapshots load.
//! `name` stays the key other facts use (`master`, route `device`); `name_bytes` is what commands
//! and the Calico model use.

use std::borrow::Cow;

/// Longest name the kernel accepts for an interface (IFNAMSIZ minus its NUL); alternative names
/// may be longer (ALTIFNAMSIZ, 128).
pub const MAX_NAME_BYTES: usize = 127;

/// Valid UTF-8 kept as it is; each byte of an invalid sequence written as `\xNN`.
pub fn display(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The name as a Go program holding it in a `string` sees it rune by rune (what `regexp` matches
/// on): valid UTF-8 as it is, and every byte that is not part of valid UTF-8 read as one U+FFFD
/// (`utf8.DecodeRuneInString` answers `RuneError` with width 1). Rust's lossy conversion differs: it
/// puts one U+FFFD for a whole truncated sequence (`\xe2\x82` is one, Go sees two).
pub fn go_view(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(valid) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(valid);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n(
            char::REPLACEMENT_CHARACTER,
            chunk.invalid().len(),
        ));
    }
    Cow::Owned(out)
}

/// Serde form of `name_bytes`: lower-case hex, two digits a byte.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Box<[u8]>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&b.iter().map(|b| format!("{b:02x}")).collect::<String>()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Box<[u8]>>, D::Error> {
        let Some(text) = Option::<Cow<'de, str>>::deserialize(d)? else {
            return Ok(None);
        };
        decode(&text).map(Some).map_err(serde::de::Error::custom)
    }

    use std::borrow::Cow;

    /// `6eff` → `[0x6e, 0xff]`.
    pub fn decode(text: &str) -> Result<Box<[u8]>, String> {
        let bad = || {
            format!(
                "name_bytes must be the name's bytes as hex digits, two a byte (e.g. \"6eff\"), 1 to {} bytes, not {:?}",
                super::MAX_NAME_BYTES,
                crate::escape::for_terminal(text.get(..40).unwrap_or(text)),
            )
        };
        if text.is_empty()
            || !text.len().is_multiple_of(2)
            || text.len() > 2 * super::MAX_NAME_BYTES
        {
            return Err(bad());
        }
        (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(bad)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_escapes_only_the_invalid_bytes() {
        assert_eq!(display(b"eth0"), "eth0");
        assert_eq!(display("néé".as_bytes()), "néé");
        assert_eq!(display(b"n\xff"), "n\\xff");
        assert_eq!(display(b"a\xe2\x82b\xc3"), "a\\xe2\\x82b\\xc3");
    }

    #[test]
    fn go_view_puts_one_replacement_per_invalid_byte() {
        assert!(matches!(go_view(b"eth0"), Cow::Borrowed("eth0")));
        assert_eq!(go_view(b"n\xff"), "n\u{fffd}");
        // A truncated three-byte sequence: Go reads two RuneErrors, Rust's lossy form one.
        assert_eq!(go_view(b"a\xe2\x82b"), "a\u{fffd}\u{fffd}b");
        assert_eq!(String::from_utf8_lossy(b"a\xe2\x82b"), "a\u{fffd}b");
        // An encoded surrogate and an overlong '/' are invalid to both.
        assert_eq!(go_view(b"\xed\xa0\x80"), "\u{fffd}".repeat(3));
        assert_eq!(go_view(b"\xc0\xaf"), "\u{fffd}".repeat(2));
        assert_eq!(go_view("é\u{fffd}".as_bytes()), "é\u{fffd}");
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(&*hex_bytes::decode("6eff").unwrap(), b"n\xff");
        assert_eq!(&*hex_bytes::decode("6EFF").unwrap(), b"n\xff");
        for bad in ["", "6", "6g", "é1", &"00".repeat(MAX_NAME_BYTES + 1)] {
            assert!(hex_bytes::decode(bad).is_err(), "{bad:?}");
        }
    }
}
