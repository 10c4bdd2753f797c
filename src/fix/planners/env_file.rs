//! Editing one variable of a kubelet environment file (`/etc/default/kubelet`,
//! `/etc/sysconfig/kubelet`, kubeadm's `kubeadm-flags.env`) the way systemd's `EnvironmentFile=` and
//! the shell read it: logical lines (a backslash-newline continues, a quoted value may span lines),
//! single and double quotes, an optional `export `, comments, and the last assignment winning. Only
//! the winning assignment is rewritten; every other byte of the file is kept.

use crate::facts::systemd::split_command_line;

/// One logical line: its byte range in the file (newline excluded).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    start: usize,
    end: usize,
}

/// The file's logical lines.
fn logical_lines(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let (mut single, mut double) = (false, false);
    let mut comment = false;
    let mut at_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if at_start && !b.is_ascii_whitespace() {
            comment = b == b'#' || b == b';';
            at_start = false;
        }
        match b {
            b'\\' if !single && !comment => {
                i += 2;
                continue;
            }
            b'\'' if !double && !comment => single = !single,
            b'"' if !single && !comment => double = !double,
            b'\n' if (!single && !double) || comment => {
                out.push(Span { start, end: i });
                start = i + 1;
                (single, double, comment, at_start) = (false, false, false, true);
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        out.push(Span {
            start,
            end: bytes.len(),
        });
    }
    out
}

/// The value text after `VAR=` when `line` assigns `var` (with or without `export `).
fn assigned_value<'a>(line: &'a str, var: &str) -> Option<&'a str> {
    let t = line.trim_start();
    let t = t
        .strip_prefix("export")
        .filter(|rest| rest.starts_with([' ', '\t']))
        .map(str::trim_start)
        .unwrap_or(t);
    t.strip_prefix(var)?.strip_prefix('=')
}

/// A value as systemd and the shell read it: quotes removed, backslash escapes and line
/// continuations resolved; unquoted whitespace inside is kept (systemd keeps it), trailing dropped.
fn unquote(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    let (mut single, mut double) = (false, false);
    while let Some(c) = chars.next() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '\\' if !single => match chars.next() {
                Some('\n') | None => {}
                Some(n) if double && !matches!(n, '"' | '\\' | '$' | '`') => {
                    out.push('\\');
                    out.push(n);
                }
                Some(n) => out.push(n),
            },
            c => out.push(c),
        }
    }
    out.trim_end().to_string()
}

/// A word as it must appear inside a double-quoted value to be read back as one word.
fn quote_word(word: &str) -> String {
    let plain = !word.is_empty()
        && !word
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '$' | '`'));
    if plain {
        return word.to_string();
    }
    // Single quotes inside the double-quoted value keep spaces; `'` itself and the characters the
    // double quotes give meaning to are escaped.
    let mut out = String::from("'");
    for c in word.chars() {
        match c {
            '\'' => out.push_str("'\\''"),
            '"' | '\\' | '$' | '`' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The words of `var`'s effective (last) value in `text`; empty when unset.
pub fn current_words(text: &str, var: &str) -> Result<Vec<String>, String> {
    let last = logical_lines(text)
        .into_iter()
        .rev()
        .find_map(|s| assigned_value(&text[s.start..s.end], var));
    match last {
        Some(raw) => split_command_line(&unquote(raw)),
        None => Ok(Vec::new()),
    }
}

/// `text` with `var` set to `words`: the last assignment's value replaced in place (its
/// `export `, indentation and the lines around it kept), or a new line appended.
pub fn set_words(text: Option<&str>, var: &str, words: &[String]) -> String {
    let text = text.unwrap_or("");
    let value = format!(
        "\"{}\"",
        words
            .iter()
            .map(|w| quote_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let last = logical_lines(text)
        .into_iter()
        .rev()
        .find(|s| assigned_value(&text[s.start..s.end], var).is_some());
    match last {
        Some(span) => {
            let line = &text[span.start..span.end];
            let raw = assigned_value(line, var).unwrap_or("");
            let keep = line.len() - raw.len();
            format!(
                "{}{}{}{}",
                &text[..span.start],
                &line[..keep],
                value,
                &text[span.end..]
            )
        }
        None => {
            let mut out = text.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("{var}={value}\n"));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAR: &str = "KUBELET_EXTRA_ARGS";

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_last_assignment_wins_across_continuations_and_quotes() {
        let text = "# kubelet flags\nKUBELET_EXTRA_ARGS=--v=2\nexport KUBELET_EXTRA_ARGS=\"--max-pods=200 \\\n  --cgroup-driver=systemd --label='a b'\"\nOTHER=1\n";
        assert_eq!(
            current_words(text, VAR).unwrap(),
            words(&["--max-pods=200", "--cgroup-driver=systemd", "--label=a b"])
        );
        let after = set_words(
            Some(text),
            VAR,
            &words(&["--max-pods=200", "--label=a b", "--node-ip=10.0.0.1"]),
        );
        assert_eq!(
            after,
            "# kubelet flags\nKUBELET_EXTRA_ARGS=--v=2\nexport KUBELET_EXTRA_ARGS=\"--max-pods=200 '--label=a b' --node-ip=10.0.0.1\"\nOTHER=1\n"
        );
        assert_eq!(
            current_words(&after, VAR).unwrap(),
            words(&["--max-pods=200", "--label=a b", "--node-ip=10.0.0.1"])
        );
    }

    #[test]
    fn comments_other_variables_and_a_missing_assignment() {
        let text = "#KUBELET_EXTRA_ARGS=--old\nKUBELET_EXTRA_ARGSX=1";
        assert!(current_words(text, VAR).unwrap().is_empty());
        assert_eq!(
            set_words(Some(text), VAR, &words(&["--node-ip=1.2.3.4"])),
            "#KUBELET_EXTRA_ARGS=--old\nKUBELET_EXTRA_ARGSX=1\nKUBELET_EXTRA_ARGS=\"--node-ip=1.2.3.4\"\n"
        );
        assert_eq!(
            current_words("KUBELET_EXTRA_ARGS='--a=\"x\"' \n", VAR).unwrap(),
            words(&["--a=x"])
        );
    }
}
