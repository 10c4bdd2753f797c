//! A unit's environment as systemd reads it (systemd.exec(5)): the assignments of one
//! `Environment=` value, and `EnvironmentFile=` files with systemd's quoting rules. Pure: nothing is
//! read here and nothing is expanded.

use crate::facts::systemd::split_command_line;

/// A valid environment variable name as systemd accepts it in assignments.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The assignments of one `Environment=` value (`A=1 "B=two words"`). A word that is not a valid
/// `NAME=value` is reported and skipped, as systemd does.
pub fn parse_environment_setting(value: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut assignments = Vec::new();
    let mut problems = Vec::new();
    match split_command_line(value) {
        Err(e) => problems.push(format!("Environment= ignored: {e}")),
        Ok(words) => {
            for word in words {
                match word.split_once('=') {
                    Some((name, val)) if is_env_name(name) => {
                        assignments.push((name.to_string(), val.to_string()))
                    }
                    _ => problems.push(format!(
                        "Environment= word {word:?} is not a NAME=value assignment; systemd ignores it"
                    )),
                }
            }
        }
    }
    (assignments, problems)
}

/// One assignment read from an environment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAssignment {
    pub name: String,
    pub value: String,
    /// 1-based line where the assignment starts.
    pub line: usize,
}

/// Parses an `EnvironmentFile=` file as systemd does: `NAME=value` lines; `#`/`;` comment lines;
/// whitespace around the name and unquoted trailing whitespace dropped; a value may start with
/// `'…'` (literal) or `"…"` (backslash escapes only `"`, `\`, `` ` ``, `$` and newlines), and
/// outside quotes a backslash takes the next character literally (a backslash-newline continues the
/// line). Nothing is expanded. Lines systemd ignores (no `=`, `export NAME=…`, invalid names) are
/// returned as problems with their line numbers.
pub fn parse_environment_file(text: &str) -> (Vec<FileAssignment>, Vec<String>) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        PreKey,
        Key,
        Comment,
        PreValue,
        Value,
        SingleQuoted,
        DoubleQuoted,
    }
    let mut state = State::PreKey;
    let mut assignments = Vec::new();
    let mut problems = Vec::new();
    let mut key = String::new();
    let mut value = String::new();
    // Length of `value` without trailing unquoted whitespace.
    let mut value_keep = 0usize;
    let mut line = 1usize;
    let mut start_line = 1usize;
    let mut chars = text.chars().peekable();

    while let Some(c) = chars.next() {
        match state {
            State::PreKey => match c {
                '#' | ';' => state = State::Comment,
                '\n' => line += 1,
                c if c.is_whitespace() => {}
                c => {
                    start_line = line;
                    key.push(c);
                    state = State::Key;
                }
            },
            State::Comment => {
                if c == '\n' {
                    line += 1;
                    state = State::PreKey;
                }
            }
            State::Key => match c {
                '=' => state = State::PreValue,
                '\n' => {
                    problems.push(format!(
                        "line {start_line}: no `=` (the text is not recorded); systemd ignores the line"
                    ));
                    key.clear();
                    line += 1;
                    state = State::PreKey;
                }
                c => key.push(c),
            },
            State::PreValue => match c {
                '\n' => {
                    line += 1;
                    push_assignment(
                        &mut key,
                        &mut value,
                        0,
                        start_line,
                        &mut assignments,
                        &mut problems,
                    );
                    state = State::PreKey;
                }
                '\'' => state = State::SingleQuoted,
                '"' => state = State::DoubleQuoted,
                '\\' => {
                    match chars.next() {
                        Some('\n') => line += 1,
                        Some(n) => value.push(n),
                        None => {}
                    }
                    value_keep = value.len();
                    state = State::Value;
                }
                c if c.is_whitespace() => {}
                c => {
                    value.push(c);
                    value_keep = value.len();
                    state = State::Value;
                }
            },
            State::Value => match c {
                '\n' => {
                    line += 1;
                    push_assignment(
                        &mut key,
                        &mut value,
                        value_keep,
                        start_line,
                        &mut assignments,
                        &mut problems,
                    );
                    state = State::PreKey;
                }
                '\\' => {
                    match chars.next() {
                        Some('\n') => line += 1,
                        Some(n) => value.push(n),
                        None => {}
                    }
                    value_keep = value.len();
                }
                c => {
                    value.push(c);
                    if !c.is_whitespace() {
                        value_keep = value.len();
                    }
                }
            },
            State::SingleQuoted => {
                if c == '\'' {
                    value_keep = value.len();
                    state = State::Value;
                } else {
                    if c == '\n' {
                        line += 1;
                    }
                    value.push(c);
                }
            }
            State::DoubleQuoted => match c {
                '"' => {
                    value_keep = value.len();
                    state = State::Value;
                }
                '\\' => match chars.next() {
                    Some('\n') => line += 1,
                    Some(n @ ('"' | '\\' | '`' | '$')) => value.push(n),
                    Some(n) => {
                        value.push('\\');
                        value.push(n);
                    }
                    None => value.push('\\'),
                },
                c => {
                    if c == '\n' {
                        line += 1;
                    }
                    value.push(c);
                }
            },
        }
    }
    match state {
        State::Key => problems.push(format!(
            "line {start_line}: no `=` (the text is not recorded); systemd ignores the line"
        )),
        State::PreValue | State::Value | State::SingleQuoted | State::DoubleQuoted => {
            let keep = if state == State::PreValue {
                0
            } else if state == State::Value {
                value_keep
            } else {
                value.len()
            };
            push_assignment(
                &mut key,
                &mut value,
                keep,
                start_line,
                &mut assignments,
                &mut problems,
            );
        }
        State::PreKey | State::Comment => {}
    }
    (assignments, problems)
}

/// Ends one environment-file assignment: keeps `keep` bytes of the value and records it, or records
/// why systemd ignores the line.
fn push_assignment(
    key: &mut String,
    value: &mut String,
    keep: usize,
    start: usize,
    assignments: &mut Vec<FileAssignment>,
    problems: &mut Vec<String>,
) {
    let name = key.trim().to_string();
    value.truncate(keep);
    if is_env_name(&name) {
        assignments.push(FileAssignment {
            name,
            value: std::mem::take(value),
            line: start,
        });
    } else if let Some(rest) = name.strip_prefix("export ") {
        problems.push(format!(
            "line {start}: `export {}` is shell syntax systemd does not understand; it ignores the line",
            rest.trim()
        ));
    } else {
        problems.push(format!(
            "line {start}: {name:?} is not a valid variable name; systemd ignores the line"
        ));
    }
    key.clear();
    value.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_file_quoting_follows_systemd() {
        let text = "\
# comment
; also a comment
A=plain value   \n\
B=\"double \\\"quoted\\\" \\$HOME \\n\"\n\
C='single $HOME \\n'\n\
D=one\\\n\
two\n\
  E  =  spaced  \n\
export F=1\n\
G\n\
H=\"multi\nline\"\n\
I=\n";
        let (assignments, problems) = parse_environment_file(text);
        let got: Vec<(&str, &str, usize)> = assignments
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str(), a.line))
            .collect();
        assert_eq!(
            got,
            [
                ("A", "plain value", 3),
                ("B", "double \"quoted\" $HOME \\n", 4),
                ("C", "single $HOME \\n", 5),
                ("D", "onetwo", 6),
                ("E", "spaced", 8),
                ("H", "multi\nline", 11),
                ("I", "", 13),
            ]
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("line 9: `export F`"));
        assert!(problems[1].starts_with("line 10:"));
    }

    #[test]
    fn command_lines_split_with_quotes_and_escapes() {
        assert_eq!(
            split_command_line(r#"/bin/kubelet "--a=b c" --d='e f'g \x41\s"#).unwrap(),
            ["/bin/kubelet", "--a=b c", "--d=e fg", "A "]
        );
        assert!(split_command_line("\"open").is_err());
        let (assignments, problems) =
            parse_environment_setting(r#""A=1 2" B=3 notanassignment 9X=1"#);
        assert_eq!(
            assignments,
            [("A".into(), "1 2".into()), ("B".into(), "3".into())]
        );
        assert_eq!(problems.len(), 2);
    }
}
