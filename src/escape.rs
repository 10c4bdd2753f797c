//! Making hostile strings safe: interface names may hold `$`, `;`, escape bytes and non-ASCII.
//!
//! Human output goes through [`for_terminal`], so no control byte reaches a terminal; emitted shell
//! commands go through [`shell_quote`], so a name is one word whatever it contains.

/// Escapes control characters, Unicode format/bidi characters and backslashes for terminal display.
/// Printable non-ASCII (`é`) is kept; `\x1b` becomes `\x1b`, U+202E becomes `\u{202e}`.
pub fn for_terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_invisible_or_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
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
    !s.chars()
        .any(|c| c == '\\' || (c as u32) < 0x20 || c as u32 == 0x7f || is_invisible_or_control(c))
}

/// Quotes a string as one POSIX shell word. Plain words are left alone.
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
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
        assert_eq!(for_terminal("a\\b"), "a\\\\b");
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
}
