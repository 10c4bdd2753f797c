//! Reading a systemd service the way systemd loads it, without asking systemd (nodecheck runs before
//! the join, in containers and against scratch host trees where no systemd answers): the unit file
//! from the unit search path, its drop-ins in systemd's order, `Environment=` and `EnvironmentFile=`
//! with systemd's quoting rules, and `ExecStart=` with `$VAR`/`${VAR}` expansion.
//!
//! Written by hand because no maintained crate parses unit files with systemd's semantics (drop-in
//! precedence, resets by empty assignments, environment-file quoting, `$VAR` word splitting); the
//! rules followed are those of systemd.unit(5), systemd.exec(5) and systemd.service(5).
//!
//! Every file is read under the [`HostRoot`] (`/` on the live host) with a size bound. The pure parsers
//! ([`parse_unit_text`], [`parse_environment_setting`], [`parse_environment_file`],
//! [`split_command_line`], [`expand_exec_argv`]) are public for other readers of systemd files.

use std::collections::BTreeMap;
use std::path::Path;

use crate::facts::systemd::{
    EnvVar, EnvironmentFileRead, EnvironmentFileState, ExecArg, ExecStart, ServiceUnit,
};
use crate::host_root::HostRoot;

/// The system unit search path, highest precedence first (systemd.unit(5)); `/lib/systemd/system`
/// is searched on distributions that have not merged `/usr`.
pub const SYSTEM_UNIT_DIRS: [&str; 11] = [
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
];

/// Unit and environment files are a few KiB; systemd itself refuses lines over 1 MiB.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// More drop-ins than this for one unit is not a real configuration.
const MAX_DROP_INS: usize = 256;

/// One `Key=value` line of a unit file, continuation lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSetting {
    pub section: String,
    pub key: String,
    pub value: String,
    /// 1-based line of the key.
    pub line: usize,
}

/// Splits unit-file text into settings (systemd.syntax(7)): `[Section]` headers, `#`/`;` comment
/// lines, whitespace around `=` ignored, a trailing backslash joining the next line with a space
/// (comment lines in between are skipped).
pub fn parse_unit_text(text: &str) -> Vec<UnitSetting> {
    let mut settings = Vec::new();
    let mut section = String::new();
    let mut pending: Option<(String, usize)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = raw.trim();
        if pending.is_some() && (trimmed.starts_with('#') || trimmed.starts_with(';')) {
            continue;
        }
        let (mut joined, start) = match pending.take() {
            Some((mut so_far, start)) => {
                so_far.push_str(trimmed);
                (so_far, start)
            }
            None => {
                if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                    continue;
                }
                (trimmed.to_string(), line_no)
            }
        };
        if joined.ends_with('\\') {
            joined.pop();
            joined.push(' ');
            pending = Some((joined, start));
            continue;
        }
        if joined.starts_with('[') && joined.ends_with(']') {
            section = joined[1..joined.len() - 1].to_string();
            continue;
        }
        if let Some((key, value)) = joined.split_once('=') {
            settings.push(UnitSetting {
                section: section.clone(),
                key: key.trim().to_string(),
                value: value.trim().to_string(),
                line: start,
            });
        }
    }
    if let Some((joined, start)) = pending {
        if let Some((key, value)) = joined.split_once('=') {
            settings.push(UnitSetting {
                section,
                key: key.trim().to_string(),
                value: value.trim().to_string(),
                line: start,
            });
        }
    }
    settings
}

pub use crate::facts::systemd::split_command_line;

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

/// The longest single argument the kernel passes to a program (`MAX_ARG_STRLEN`, 32 pages): a
/// variable expanding to more is cut here.
pub const MAX_EXPANDED_WORD_BYTES: usize = 128 * 1024;
/// The most an expanded command line may hold, all words together (the kernel's usual `ARG_MAX` is
/// 2 MiB): expansion stops here, so a hostile drop-in cannot make nodecheck build gigabytes.
pub const MAX_EXPANDED_COMMAND_BYTES: usize = 1024 * 1024;

/// Origins named for one word: a word built from thousands of `${VAR}` names the first few.
const MAX_ORIGINS_PER_WORD: usize = 8;

/// An expanded `ExecStart=` and whether the size caps cut it short.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    pub argv: Vec<ExecArg>,
    /// What was cut, when a cap was reached.
    pub capped: Option<String>,
}

/// Expands `ExecStart=` words against the environment (systemd.service(5)): a word that is exactly
/// `$NAME` becomes the variable's value split into words (quotes honoured; none when unset or
/// empty); `${NAME}` anywhere in a word is replaced by the value as it is (empty when unset); `$$`
/// is a literal `$`. A word longer than [`MAX_EXPANDED_WORD_BYTES`] is cut there, and expansion
/// stops once the command line holds [`MAX_EXPANDED_COMMAND_BYTES`]; both are reported in
/// [`Expansion::capped`].
pub fn expand_exec_argv(words: &[String], env: &[EnvVar], declared_at: &str) -> Expansion {
    let by_name: std::collections::HashMap<&str, &EnvVar> =
        env.iter().map(|v| (v.name.as_str(), v)).collect();
    let lookup = |name: &str| by_name.get(name).copied();
    let mut argv = Vec::new();
    let mut total = 0usize;
    let mut capped: Option<String> = None;
    let mut push = |argv: &mut Vec<ExecArg>, mut value: String, origin: String| -> bool {
        if value.len() > MAX_EXPANDED_WORD_BYTES {
            value.truncate(prefix_within(&value, MAX_EXPANDED_WORD_BYTES).len());
            capped.get_or_insert_with(|| {
                format!("an argument ({origin}) is longer than {MAX_EXPANDED_WORD_BYTES} bytes, the kernel's limit for one argument; it is cut there")
            });
        }
        total += value.len() + 1;
        if total > MAX_EXPANDED_COMMAND_BYTES {
            let stopped = format!(
                "the command line expands to more than {MAX_EXPANDED_COMMAND_BYTES} bytes; expansion stopped there and later arguments are not recorded"
            );
            capped = Some(match capped.take() {
                Some(cut) => format!("{cut}; {stopped}"),
                None => stopped,
            });
            return false;
        }
        argv.push(ExecArg { value, origin });
        true
    };
    'words: for word in words {
        if let Some(name) = word.strip_prefix('$').filter(|n| is_env_name(n)) {
            if let Some(var) = lookup(name) {
                let origin = format!("${name} from {}", var.source);
                let split = split_command_line(&var.value)
                    .unwrap_or_else(|_| var.value.split_whitespace().map(str::to_string).collect());
                for value in split {
                    if !push(&mut argv, value, origin.clone()) {
                        break 'words;
                    }
                }
            }
            continue;
        }
        let mut out = String::new();
        let mut used: Vec<String> = Vec::new();
        let mut rest = word.as_str();
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
            } else if let Some((name, tail)) = after
                .strip_prefix('{')
                .and_then(|b| b.split_once('}'))
                .filter(|(n, _)| is_env_name(n))
            {
                if let Some(var) = lookup(name) {
                    // One byte past the cap is enough for `push` to see the word was cut.
                    let room = (MAX_EXPANDED_WORD_BYTES + 1).saturating_sub(out.len());
                    out.push_str(prefix_within(&var.value, room));
                    if used.len() < MAX_ORIGINS_PER_WORD {
                        used.push(format!("${{{name}}} from {}", var.source));
                    }
                }
                rest = tail;
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        let origin = if used.is_empty() {
            declared_at.to_string()
        } else {
            format!("{declared_at} with {}", used.join(", "))
        };
        if !push(&mut argv, out, origin) {
            break;
        }
    }
    Expansion { argv, capped }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn prefix_within(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// The variable names a command line refers to as `$NAME` or `${NAME}`.
fn referenced_variables(command_line: &str) -> std::collections::HashSet<&str> {
    let mut names = std::collections::HashSet::new();
    let mut rest = command_line;
    while let Some(pos) = rest.find('$') {
        let after = &rest[pos + 1..];
        let (body, braced) = match after.strip_prefix('{') {
            Some(b) => (b, true),
            None => (after, false),
        };
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        if end > 0 && (!braced || body[end..].starts_with('}')) {
            names.insert(&body[..end]);
        }
        rest = after;
    }
    names
}

/// What of a unit's environment goes into the facts: the values nodecheck reads (kubelet's and
/// kubeadm's argument variables, the proxy variables, and whatever `ExecStart=` expands) with URL
/// credentials masked, every other variable by name only.
fn record_environment(env: &mut [EnvVar], command_line: Option<&str>) {
    let referenced = command_line.map(referenced_variables).unwrap_or_default();
    for var in env {
        if crate::facts::redact::is_recorded_variable(&var.name)
            || referenced.contains(var.name.as_str())
        {
            crate::facts::redact::mask_in_place(&mut var.value);
        } else {
            var.value.clear();
            var.withheld = true;
        }
    }
}

/// Whether a host path is a symbolic link to `/dev/null` (a masked unit or drop-in).
fn is_masked(root: &HostRoot, host_path: &str) -> bool {
    root.read_link(host_path)
        .is_ok_and(|t| t == Path::new("/dev/null"))
}

fn read_text(root: &HostRoot, host_path: &str) -> std::io::Result<String> {
    root.read_bounded(host_path, MAX_FILE_BYTES)
}

/// The unit file that wins the search path and whether it is masked.
fn find_fragment(root: &HostRoot, unit: &str) -> Option<(String, bool)> {
    SYSTEM_UNIT_DIRS.iter().find_map(|dir| {
        let path = format!("{dir}/{unit}");
        if is_masked(root, &path) {
            return Some((path, true));
        }
        root.metadata(&path)
            .is_ok_and(|m| m.is_file())
            .then_some((path, false))
    })
}

/// Drop-ins in application order: all `*.conf` in `<dir>/<unit>.d/` and `<dir>/<type>.d/` over the
/// search path, one per file name (the highest-precedence directory's), sorted by file name. A
/// drop-in masked with `/dev/null` hides its name and is not applied.
fn find_drop_ins(root: &HostRoot, unit: &str) -> (Vec<String>, Option<String>) {
    let unit_type = unit.rsplit_once('.').map(|(_, t)| t).unwrap_or("service");
    let mut by_name: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut dropped = 0usize;
    for dir in SYSTEM_UNIT_DIRS {
        for drop_dir in [format!("{dir}/{unit}.d"), format!("{dir}/{unit_type}.d")] {
            let Ok(entries) = root.read_dir_names(&drop_dir) else {
                continue;
            };
            let names: Vec<String> = entries
                .into_iter()
                .filter_map(|n| n.into_string().ok())
                .filter(|n| n.ends_with(".conf"))
                .collect();
            for name in names {
                if by_name.len() >= MAX_DROP_INS && !by_name.contains_key(&name) {
                    dropped += 1;
                    continue;
                }
                let path = format!("{drop_dir}/{name}");
                let masked = is_masked(root, &path);
                by_name
                    .entry(name)
                    .or_insert_with(|| (!masked).then_some(path));
            }
        }
    }
    let note = (dropped > 0).then(|| {
        format!(
            "{unit} has more than {MAX_DROP_INS} drop-ins; {dropped} more were not read, so the facts may miss settings systemd applies"
        )
    });
    (by_name.into_values().flatten().collect(), note)
}

/// Reads `unit` (e.g. `kubelet.service`) under `root` as systemd would load it. `None` when neither
/// a unit file nor a drop-in exists (the service is not installed).
pub fn read_service(root: &HostRoot, unit: &str) -> Option<ServiceUnit> {
    let fragment = find_fragment(root, unit);
    let (drop_ins, drop_in_note) = find_drop_ins(root, unit);
    if fragment.is_none() && drop_ins.is_empty() {
        return None;
    }
    let mut notes: Vec<String> = drop_in_note.into_iter().collect();
    let masked = fragment.as_ref().is_some_and(|(_, m)| *m);
    let mut files: Vec<String> = Vec::new();
    if let Some((path, false)) = &fragment {
        files.push(path.clone());
    }
    files.extend(drop_ins.iter().cloned());

    // Settings in application order, each with its FILE:LINE.
    let mut environment: Vec<(String, String, String)> = Vec::new();
    let mut env_files: Vec<(String, bool, String)> = Vec::new();
    let mut exec_starts: Vec<(String, String)> = Vec::new();
    for file in &files {
        let text = match read_text(root, file) {
            Ok(t) => t,
            Err(e) => {
                notes.push(format!("{file}: cannot read: {e}"));
                continue;
            }
        };
        for setting in parse_unit_text(&text) {
            if setting.section != "Service" {
                continue;
            }
            let at = format!("{file}:{}", setting.line);
            match setting.key.as_str() {
                "Environment" if setting.value.is_empty() => environment.clear(),
                "Environment" => {
                    let (assignments, problems) = parse_environment_setting(&setting.value);
                    notes.extend(problems.into_iter().map(|p| format!("{at}: {p}")));
                    environment.extend(assignments.into_iter().map(|(n, v)| (n, v, at.clone())));
                }
                "EnvironmentFile" if setting.value.is_empty() => env_files.clear(),
                "EnvironmentFile" => {
                    let (optional, path) = match setting.value.strip_prefix('-') {
                        Some(p) => (true, p),
                        None => (false, setting.value.as_str()),
                    };
                    env_files.push((path.to_string(), optional, at));
                }
                "ExecStart" if setting.value.is_empty() => exec_starts.clear(),
                "ExecStart" => exec_starts.push((setting.value.clone(), at)),
                _ => {}
            }
        }
    }

    // By name in first-definition order; the index keeps merging linear in the number of assignments.
    let mut env: Vec<EnvVar> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut set = |name: String, value: String, source: String| match index.get(&name) {
        Some(&at) => {
            env[at].value = value;
            env[at].source = source;
        }
        None => {
            index.insert(name.clone(), env.len());
            env.push(EnvVar {
                name,
                value,
                source,
                withheld: false,
            });
        }
    };
    for (name, value, source) in environment {
        set(name, value, source);
    }
    let mut environment_files = Vec::new();
    for (path, optional, declared_at) in env_files {
        let (state, detail) = match read_text(root, &path) {
            Ok(text) => {
                let (assignments, problems) = parse_environment_file(&text);
                notes.extend(problems.into_iter().map(|p| format!("{path}: {p}")));
                for a in assignments {
                    set(a.name, a.value, format!("{path}:{}", a.line));
                }
                (EnvironmentFileState::Read, None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && optional => {
                (EnvironmentFileState::Missing, None)
            }
            Err(e) => {
                notes.push(format!(
                    "{declared_at}: EnvironmentFile={path} cannot be read ({e}); systemd refuses to start {unit}"
                ));
                (EnvironmentFileState::Failed, Some(e.to_string()))
            }
        };
        environment_files.push(EnvironmentFileRead {
            path,
            optional,
            declared_at,
            state,
            detail,
        });
    }

    let exec_start = match exec_starts.as_slice() {
        [] => None,
        [(command_line, declared_at)] => match split_command_line(command_line) {
            Ok(mut words) => {
                if let Some(program) = words.first_mut() {
                    *program = program
                        .trim_start_matches(['-', '@', ':', '+', '!'])
                        .to_string();
                }
                let expansion = expand_exec_argv(&words, &env, declared_at);
                if let Some(capped) = &expansion.capped {
                    notes.push(format!("{declared_at}: ExecStart= {capped}"));
                }
                let mut argv = expansion.argv;
                for arg in &mut argv {
                    crate::facts::redact::mask_in_place(&mut arg.value);
                }
                Some(ExecStart {
                    declared_at: declared_at.clone(),
                    command_line: crate::facts::redact::url_credentials(command_line).into_owned(),
                    argv,
                })
            }
            Err(e) => {
                notes.push(format!("{declared_at}: ExecStart= cannot be parsed: {e}"));
                None
            }
        },
        several => {
            let at: Vec<&str> = several.iter().map(|(_, a)| a.as_str()).collect();
            notes.push(format!(
                "{unit} has more than one ExecStart= ({}) and is not Type=oneshot: systemd refuses to load it; a drop-in that replaces the command must first reset it with an empty `ExecStart=`",
                at.join(", ")
            ));
            None
        }
    };

    record_environment(
        &mut env,
        exec_starts
            .last()
            .filter(|_| exec_starts.len() == 1)
            .map(|(line, _)| line.as_str()),
    );
    for note in &mut notes {
        crate::facts::redact::mask_in_place(note);
    }
    Some(ServiceUnit {
        name: unit.to_string(),
        fragment: fragment.map(|(p, _)| p),
        masked,
        drop_ins,
        environment: env,
        environment_files,
        exec_start,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn under(root: &Path, host_path: &str) -> std::path::PathBuf {
        root.join(host_path.trim_start_matches('/'))
    }

    fn host(dir: &tempfile::TempDir) -> HostRoot {
        HostRoot::at(dir.path()).unwrap()
    }

    fn write(root: &Path, host_path: &str, text: &str) {
        let path = under(root, host_path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// kubelet.service as systemd would load it from a host tree holding `files` (path, text).
    fn kubelet_unit(files: &[(&str, &str)]) -> ServiceUnit {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            write(dir.path(), path, text);
        }
        read_service(&host(&dir), "kubelet.service").unwrap()
    }

    const KUBEADM_DROP_IN: &str = "\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"
Environment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
";

    #[test]
    fn kubeadm_drop_in_expands_into_kubelet_flags_with_their_sources() {
        let unit = kubelet_unit(&[
            (
                "/lib/systemd/system/kubelet.service",
                "[Unit]\nDescription=kubelet\n[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n",
            ),
            (
                "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
                KUBEADM_DROP_IN,
            ),
            (
                "/var/lib/kubelet/kubeadm-flags.env",
                "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9\"\n",
            ),
            (
                "/etc/default/kubelet",
                "# pinned\nKUBELET_EXTRA_ARGS=--node-ip=10.20.41.41 --hostname-override='worker-41'\n",
            ),
        ]);
        assert_eq!(
            unit.fragment.as_deref(),
            Some("/lib/systemd/system/kubelet.service")
        );
        assert_eq!(
            unit.drop_ins,
            vec!["/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"]
        );
        let exec = unit.exec_start.unwrap();
        let words: Vec<&str> = exec.argv.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(
            words,
            [
                "/usr/bin/kubelet",
                "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                "--kubeconfig=/etc/kubernetes/kubelet.conf",
                "--config=/var/lib/kubelet/config.yaml",
                "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
                "--pod-infra-container-image=registry.k8s.io/pause:3.9",
                "--node-ip=10.20.41.41",
                "--hostname-override=worker-41",
            ]
        );
        assert_eq!(
            exec.argv[6].origin,
            "$KUBELET_EXTRA_ARGS from /etc/default/kubelet:2"
        );
        assert_eq!(
            exec.declared_at,
            "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf:8"
        );
        assert!(unit.notes.is_empty(), "{:?}", unit.notes);
    }

    #[test]
    fn drop_ins_sort_by_name_across_directories_and_etc_hides_the_same_name() {
        let unit = kubelet_unit(&[
            (
                "/usr/lib/systemd/system/kubelet.service",
                "[Service]\nExecStart=/usr/bin/kubelet $A\n",
            ),
            (
                "/usr/lib/systemd/system/kubelet.service.d/20-b.conf",
                "[Service]\nEnvironment=A=from-usr-20\n",
            ),
            (
                "/etc/systemd/system/kubelet.service.d/20-b.conf",
                "[Service]\nEnvironment=A=from-etc-20\n",
            ),
            (
                "/usr/lib/systemd/system/kubelet.service.d/30-c.conf",
                "[Service]\nEnvironment=\"A=--x=from usr 30\"\n",
            ),
            (
                "/etc/systemd/system/kubelet.service.d/10-a.conf",
                "[Service]\nEnvironment=A=from-etc-10\n",
            ),
        ]);
        assert_eq!(
            unit.drop_ins,
            [
                "/etc/systemd/system/kubelet.service.d/10-a.conf",
                "/etc/systemd/system/kubelet.service.d/20-b.conf",
                "/usr/lib/systemd/system/kubelet.service.d/30-c.conf",
            ]
        );
        let a = unit.env("A").unwrap();
        assert_eq!(a.value, "--x=from usr 30");
        assert_eq!(
            a.source,
            "/usr/lib/systemd/system/kubelet.service.d/30-c.conf:2"
        );
        let argv: Vec<&str> = unit
            .exec_start
            .as_ref()
            .unwrap()
            .argv
            .iter()
            .map(|a| a.value.as_str())
            .collect();
        assert_eq!(argv, ["/usr/bin/kubelet", "--x=from", "usr", "30"]);
    }

    #[test]
    fn environment_files_override_environment_and_a_missing_required_file_is_noted() {
        let unit = kubelet_unit(&[
            (
                "/etc/systemd/system/kubelet.service",
                "[Service]\nEnvironmentFile=/etc/sysconfig/kubelet\nEnvironment=KUBELET_EXTRA_ARGS=--node-ip=1.1.1.1\nEnvironmentFile=/etc/sysconfig/missing\nExecStart=/usr/bin/kubelet $KUBELET_EXTRA_ARGS\n",
            ),
            (
                "/etc/sysconfig/kubelet",
                "KUBELET_EXTRA_ARGS=--node-ip=2.2.2.2\n",
            ),
        ]);
        assert_eq!(
            unit.env("KUBELET_EXTRA_ARGS").unwrap().value,
            "--node-ip=2.2.2.2"
        );
        assert_eq!(
            unit.environment_files[1].state,
            EnvironmentFileState::Failed
        );
        assert!(unit.notes[0].contains("systemd refuses to start kubelet.service"));
    }

    #[test]
    fn a_second_exec_start_without_a_reset_makes_systemd_refuse_the_unit() {
        let unit = kubelet_unit(&[
            (
                "/lib/systemd/system/kubelet.service",
                "[Service]\nExecStart=/usr/bin/kubelet\n",
            ),
            (
                "/etc/systemd/system/kubelet.service.d/override.conf",
                "[Service]\nExecStart=/usr/bin/kubelet --node-ip=1.2.3.4\n",
            ),
        ]);
        assert!(unit.exec_start.is_none());
        assert!(unit.notes[0].contains("more than one ExecStart="));
    }

    #[test]
    fn masked_units_and_masked_drop_ins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "/lib/systemd/system/kubelet.service",
            "[Service]\nExecStart=/usr/bin/kubelet\n",
        );
        write(
            root,
            "/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
            KUBEADM_DROP_IN,
        );
        std::fs::create_dir_all(under(root, "/etc/systemd/system/kubelet.service.d")).unwrap();
        std::os::unix::fs::symlink(
            "/dev/null",
            under(
                root,
                "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            ),
        )
        .unwrap();
        let unit = read_service(&host(&dir), "kubelet.service").unwrap();
        assert!(unit.drop_ins.is_empty());
        assert!(!unit.masked);
        std::os::unix::fs::symlink(
            "/dev/null",
            under(root, "/etc/systemd/system/kubelet.service"),
        )
        .unwrap();
        let unit = read_service(&host(&dir), "kubelet.service").unwrap();
        assert!(unit.masked);
        assert!(unit.exec_start.is_none());
        assert!(read_service(&host(&dir), "nothing.service").is_none());
    }

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

    #[test]
    fn braced_variables_substitute_inside_words_and_unset_dollar_words_vanish() {
        let env = vec![EnvVar {
            name: "IP".into(),
            value: "10.0.0.1".into(),
            source: "f:1".into(),
            withheld: false,
        }];
        let words: Vec<String> = ["/k", "--node-ip=${IP}", "$UNSET", "$$literal", "${UNSET}x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let argv = expand_exec_argv(&words, &env, "u:3").argv;
        let values: Vec<&str> = argv.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(values, ["/k", "--node-ip=10.0.0.1", "$literal", "x"]);
        assert_eq!(argv[1].origin, "u:3 with ${IP} from f:1");
    }

    #[test]
    fn exec_start_expansion_is_capped_and_says_so() {
        let big = "x".repeat(200 * 1024);
        let words = " $A".repeat(20);
        let unit = kubelet_unit(&[(
            "/lib/systemd/system/kubelet.service",
            &format!(
                "[Service]\nEnvironment=A={big}\nEnvironment=B=--b\nExecStart=/usr/bin/kubelet --x=${{A}}${{A}}{words} $B\n"
            ),
        )]);
        let argv = &unit.exec_start.as_ref().unwrap().argv;
        let total: usize = argv.iter().map(|a| a.value.len() + 1).sum();
        assert!(total <= MAX_EXPANDED_COMMAND_BYTES, "{total} bytes");
        assert!(argv
            .iter()
            .all(|a| a.value.len() <= MAX_EXPANDED_WORD_BYTES));
        assert_eq!(
            argv[1].value.len(),
            MAX_EXPANDED_WORD_BYTES,
            "--x=${{A}}${{A}} is cut"
        );
        let notes = unit.notes.join("\n");
        assert!(notes.contains("ExecStart= an argument"), "{notes}");
    }

    #[test]
    fn a_command_line_over_the_cap_stops_expanding() {
        let chunk = "y".repeat(100 * 1024);
        let env: Vec<EnvVar> = vec![EnvVar {
            name: "A".into(),
            value: chunk,
            source: "f:1".into(),
            withheld: false,
        }];
        let words: Vec<String> = std::iter::once("/k".to_string())
            .chain(std::iter::repeat_n("$A".to_string(), 50))
            .collect();
        let expansion = expand_exec_argv(&words, &env, "u:1");
        assert!(expansion.argv.len() < 12, "{}", expansion.argv.len());
        assert!(expansion
            .capped
            .unwrap()
            .contains("expands to more than 1048576 bytes"));
    }

    #[test]
    fn more_drop_ins_than_the_limit_are_noted() {
        let mut files: Vec<(String, String)> = vec![(
            "/lib/systemd/system/kubelet.service".into(),
            "[Service]\nExecStart=/usr/bin/kubelet\n".into(),
        )];
        for n in 0..300 {
            files.push((
                format!("/etc/systemd/system/kubelet.service.d/{n:03}.conf"),
                "[Service]\n".into(),
            ));
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let unit = kubelet_unit(&refs);
        assert_eq!(unit.drop_ins.len(), MAX_DROP_INS);
        assert!(
            unit.notes[0].contains("more than 256 drop-ins; 44 more were not read"),
            "{:?}",
            unit.notes
        );
    }

    #[test]
    fn only_the_variables_read_keep_their_values_and_url_passwords_are_masked() {
        let unit = kubelet_unit(&[
            (
                "/lib/systemd/system/kubelet.service",
                "[Service]\nEnvironment=\"HTTPS_PROXY=http://u:pw@proxy:3128\" TOKEN=t0k OTHER=o\nEnvironment=FLAGS=--v=2\nExecStart=/usr/bin/kubelet ${FLAGS} --registry=https://r:regpw@registry\n",
            ),
        ]);
        assert_eq!(
            unit.env("HTTPS_PROXY").unwrap().value,
            "http://u:***@proxy:3128"
        );
        let token = unit.env("TOKEN").unwrap();
        assert!(token.withheld && token.value.is_empty());
        assert_eq!(
            unit.env("FLAGS").unwrap().value,
            "--v=2",
            "ExecStart= expands it"
        );
        let exec = unit.exec_start.unwrap();
        assert!(
            !exec.command_line.contains("regpw"),
            "{}",
            exec.command_line
        );
        assert_eq!(exec.argv[2].value, "--registry=https://r:***@registry");
    }

    #[test]
    fn unit_text_continuations_and_sections() {
        let settings = parse_unit_text(
            "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/a \\\n# skipped\n  --b\nEnvironment = A=1\n",
        );
        assert_eq!(settings[1].key, "ExecStart");
        assert_eq!(settings[1].value, "/bin/a  --b");
        assert_eq!(settings[1].line, 4);
        assert_eq!(settings[2].key, "Environment");
        assert_eq!(settings[2].value, "A=1");
    }
}
