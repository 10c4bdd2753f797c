//! Making hostile strings safe: interface names may hold `$`, `;`, escape bytes and non-ASCII.
//!
//! Human output goes through [`for_terminal`], so no control byte reaches a terminal; every emitted
//! shell word (env lines, `kubectl` commands, the human `Recommended:` line, fixes in check messages)
//! goes through [`shell_quote`], so a name is one word whatever it contains and the same text in
//! every output. [`shell_quote`]'s output contains no control byte, and [`for_terminal`] leaves
//! backslashes alone, so a quoted word shown for the terminal is still exactly what to paste.

/// Escapes control characters and Unicode format/bidi characters for terminal display: `\x1b` becomes
/// the four characters `\x1b`, U+202E becomes `\u{202e}`. Printable text (`é`, a backslash) is kept
/// as it is, so commands and regexes shown are exactly pasteable, and escaping twice changes nothing.
/// (A name holding the text `\x1b` therefore looks like one holding the byte; the JSON formats keep
/// the exact bytes.)
pub fn for_terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_invisible_or_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// [`for_terminal`] for text of several lines (error messages with a source snippet): newlines kept.
pub fn for_terminal_lines(s: &str) -> String {
    s.split('\n')
        .map(for_terminal)
        .collect::<Vec<_>>()
        .join("\n")
}

/// How much of one value a table cell shows: comfy-table's wrapping costs time that grows faster than
/// the cell (a 1 MB sysctl value took 39 s to lay out). Machine formats (JSON) keep every value whole.
pub const MAX_CELL_CHARS: usize = 1000;

/// [`for_terminal`] of at most [`MAX_CELL_CHARS`] characters of `s`, saying how much was left out.
pub fn for_terminal_cell(s: &str) -> String {
    match s.char_indices().nth(MAX_CELL_CHARS) {
        None => for_terminal(s),
        Some((cut, _)) => {
            let left_out = s[cut..].chars().count();
            format!(
                "{}… ({left_out} more characters; --format json has the whole value)",
                for_terminal(&s[..cut])
            )
        }
    }
}

fn is_invisible_or_control(c: char) -> bool {
    let u = c as u32;
    (0x80..=0x9f).contains(&u)
        || (0x200b..=0x200f).contains(&u)
        || (0x202a..=0x202e).contains(&u)
        || (0x2060..=0x2069).contains(&u)
        || u == 0xfeff
        || u == 0x00ad
}

/// Whether a string needs escaping for the terminal at all.
pub fn is_plain(s: &str) -> bool {
    !s.chars().any(needs_escape)
}

fn needs_escape(c: char) -> bool {
    (c as u32) < 0x20 || c as u32 == 0x7f || is_invisible_or_control(c)
}

/// Quotes a string as one shell word. Plain words are left alone; anything else is single-quoted,
/// or, when it holds a control or invisible character, written in `$'…'` (ANSI-C) quoting with
/// `\xHH`/`\uHHHH` escapes (bash, zsh, ksh, busybox ash), so that no such byte is printed raw.
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c));
    if safe {
        return s.to_string();
    }
    if !s.chars().any(needs_escape) {
        return format!("'{}'", s.replace('\'', "'\\''"));
    }
    let mut out = String::from("$'");
    ansi_c_body(s, &mut out);
    out.push('\'');
    out
}

/// [`shell_quote`] for bytes that need not be UTF-8 (an interface name is bytes): a UTF-8 name is
/// quoted exactly as [`shell_quote`] does; any other is written in `$'…'` quoting with `\xHH` for each
/// byte that is not UTF-8, so the pasted word is the kernel's name byte for byte.
pub fn shell_quote_bytes(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return shell_quote(s);
    }
    let mut out = String::from("$'");
    for chunk in bytes.utf8_chunks() {
        ansi_c_body(chunk.valid(), &mut out);
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('\'');
    out
}

/// The inside of a `$'…'` word: backslash and quote escaped, control and invisible characters as
/// `\xHH`/`\uHHHH`.
fn ansi_c_body(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x80 && needs_escape(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
}

/// Reads back one word written by [`shell_quote`] (plain, `'…'` with `'\''`, or `$'…'`).
pub fn shell_unquote(word: &str) -> String {
    if let Some(body) = word.strip_prefix("$'").and_then(|b| b.strip_suffix('\'')) {
        let mut out = String::new();
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some(kind @ ('x' | 'u')) => {
                    let width = if kind == 'x' { 2 } else { 4 };
                    let hex: String = (0..width).filter_map(|_| chars.next()).collect();
                    if let Some(decoded) =
                        u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                    {
                        out.push(decoded);
                    }
                }
                Some(other) => out.push(other),
                None => {}
            }
        }
        return out;
    }
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => quoted = !quoted,
            '\\' if !quoted => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_byte_never_reaches_terminal() {
        assert_eq!(for_terminal("e\x1bq"), "e\\x1bq");
        assert_eq!(for_terminal("x$;y"), "x$;y");
        assert_eq!(for_terminal("néé"), "néé");
        assert_eq!(for_terminal("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(for_terminal("a\\b"), "a\\b", "backslashes stay pasteable");
        assert_eq!(
            for_terminal(&for_terminal("e\x1b\\q")),
            for_terminal("e\x1b\\q")
        );
    }

    #[test]
    fn long_cells_are_cut_with_a_note() {
        assert_eq!(for_terminal_cell("a\x1b"), "a\\x1b");
        let long = "é".repeat(MAX_CELL_CHARS + 5);
        let cell = for_terminal_cell(&long);
        assert!(cell.starts_with(&"é".repeat(MAX_CELL_CHARS)));
        assert!(cell.ends_with("… (5 more characters; --format json has the whole value)"));
    }

    #[test]
    fn shell_quote_makes_one_word() {
        assert_eq!(shell_quote("eth0"), "eth0");
        assert_eq!(shell_quote("x$;y"), "'x$;y'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    /// The human `Recommended:` line, env lines and `kubectl` commands all print this one word, so
    /// a VLAN-style name pasted from any of them sets the same value.
    #[test]
    fn one_quoted_word_for_every_output() {
        let word = shell_quote("interface=^br\\.100$");
        assert_eq!(word, "'interface=^br\\.100$'");
        assert_eq!(for_terminal(&word), word, "shown as it is pasted");
        for hostile in [
            "interface=^br\\.100$",
            "e\x1b]0;pwn\x07",
            "a\x7fb\u{9b}c",
            "x'y\\z\u{202e}",
            "$(id);`x`",
        ] {
            let word = shell_quote(hostile);
            assert!(is_plain(&word), "{word:?} holds a control character");
            assert_eq!(shell_unquote(&word), hostile, "{word}");
        }
        assert_eq!(shell_quote("e\x1bq"), "$'e\\x1bq'");
        assert_eq!(shell_quote("a\u{9b}'b"), "$'a\\u009b\\'b'");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_quoted_byte_for_byte() {
        assert_eq!(shell_quote_bytes(b"eth0"), "eth0");
        assert_eq!(shell_quote_bytes(b"x$;y"), "'x$;y'");
        assert_eq!(shell_quote_bytes(b"n\xff"), "$'n\\xff'");
        assert_eq!(
            shell_quote_bytes(
                "é'\\\x1b\u{202e}"
                    .as_bytes()
                    .iter()
                    .chain(b"\xc3")
                    .copied()
                    .collect::<Vec<_>>()
                    .as_slice()
            ),
            "$'é\\'\\\\\\x1b\\u202e\\xc3'"
        );
        assert!(is_plain(&shell_quote_bytes(b"\x1b\x9b\xff")));
    }
}
