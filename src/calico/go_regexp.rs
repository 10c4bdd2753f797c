//! Go RE2 (`regexp`) syntax translated to the Rust `regex` crate, so interface regexes are judged the
//! way calico-node (a Go program) judges them.
//!
//! Where the two dialects disagree the pattern is rewritten to Go's meaning: a `{` that does not start a
//! valid repeat is a literal in Go (Rust rejects it); `\d \w \s \b` are ASCII-only in Go; `\Q…\E` and
//! octal escapes exist only in Go; an escaped punctuation mark is always a literal in Go (`\<` is a word
//! boundary in Rust); inside a class `[`, `&&`, `--` and `~~` are literals in Go and operators in Rust.
//! Patterns Go rejects (nested repetition `a**`, a repeat count over 1000, flags other than `imsU`,
//! `(?<name>` before Go 1.22) produce Go's own error text. Divergences that matter are returned as notes
//! rather than silently changing the verdict.

/// Whether the Go toolchain that built calico-node accepts `(?<name>…)` (Go 1.22 and later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoNamedGroups {
    /// Only `(?P<name>…)` (Go 1.21 and older).
    POnly,
    /// `(?P<name>…)` and `(?<name>…)` (Go 1.22 and later).
    AngleToo,
}

/// A Go regex, compiled for Rust with Go's meaning.
#[derive(Debug, Clone)]
pub struct GoRegex {
    pub regex: regex::Regex,
    /// The Rust pattern actually compiled.
    pub rust_pattern: String,
    /// Places where Go reads the pattern differently from Rust; the translation follows Go.
    pub notes: Vec<String>,
}

/// Why a Go regex cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoRegexError {
    /// Go's `regexp.Compile` rejects it; the text is Go's `error parsing regexp: …` message.
    Go(String),
    /// Go accepts it (as far as nodecheck can tell) but the translation does not compile in Rust, so
    /// nodecheck cannot evaluate it exactly.
    Untranslatable(String),
}

/// Compiles a Go regex. `notes` explain any Go/Rust difference met on the way.
pub fn compile(go_pattern: &str, named: GoNamedGroups) -> Result<GoRegex, GoRegexError> {
    let mut t = Translator {
        src: go_pattern,
        chars: go_pattern.char_indices().collect(),
        pos: 0,
        out: String::with_capacity(go_pattern.len() + 8),
        notes: Vec::new(),
        named,
        pending_flags: String::new(),
        item_start: 0,
        item_repeated: false,
        group_starts: Vec::new(),
    };
    t.run().map_err(GoRegexError::Go)?;
    let Translator { out, mut notes, .. } = t;
    notes.dedup();
    match regex::Regex::new(&out) {
        Ok(regex) => Ok(GoRegex {
            regex,
            rust_pattern: out,
            notes,
        }),
        Err(e) => Err(GoRegexError::Untranslatable(format!(
            "the pattern `{go_pattern}` could not be reproduced with Go semantics ({})",
            e.to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim_start_matches("error: ")
        ))),
    }
}

/// The POSIX class names Go's parser knows (`[[:alpha:]]`, negated as `[[:^alpha:]]`); Rust's regex
/// crate knows the same ones with the same ASCII meaning.
const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

fn go_error(code: &str, expr: &str) -> String {
    format!("error parsing regexp: {code}: `{expr}`")
}

/// Hex escape that Rust reads as exactly this literal character, in or out of a class.
fn literal(c: char) -> String {
    format!("\\x{{{:x}}}", c as u32)
}

struct Translator<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
    out: String,
    notes: Vec<String>,
    named: GoNamedGroups,
    /// Flags of a `(?i)`-style group not yet written: Go's flag groups push nothing, so a repetition
    /// right after one applies to the item before it; they are written after that repetition.
    pending_flags: String,
    /// Where in `out` the last item starts, and whether it already ends in a repetition operator.
    item_start: usize,
    item_repeated: bool,
    /// Where in `out` each open group starts.
    group_starts: Vec<usize>,
}

/// What `(?…` opened.
enum GroupOpen {
    /// A group (capturing, named or `(?flags:`), with its Rust text.
    Group(String),
    /// Only a flag change (`(?i)`, `(?)`), with its Rust text (possibly empty).
    Flags(String),
}

/// What the last emitted item was, for Go's repetition rules.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    /// Start of pattern, after `(` or `|`: a repetition here has no argument.
    Nothing,
    /// A repeatable item.
    Item,
    /// A repetition operator, starting at this byte offset (for Go's nested-repetition message).
    Repeat(usize),
}

impl<'a> Translator<'a> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }
    fn offset(&self, index: usize) -> usize {
        self.chars.get(index).map_or(self.src.len(), |&(o, _)| o)
    }
    fn rest_text(&self, from: usize) -> &'a str {
        let src: &'a str = self.src;
        &src[self.offset(from)..]
    }

    /// Writes pending flags, then marks where the next item starts.
    fn begin_item(&mut self) {
        self.out.push_str(&std::mem::take(&mut self.pending_flags));
        self.item_start = self.out.len();
        self.item_repeated = false;
    }

    /// Something Go's parser reads without pushing anything (a flag group, an empty `\Q\E`): Go
    /// then forgets the last repetition, so `a*(?i)*` is `(a*)*` there, while an argument is still
    /// missing at the start of a group.
    fn transparent(last: &mut Last) {
        if let Last::Repeat(_) = last {
            *last = Last::Item;
        }
    }

    fn run(&mut self) -> Result<(), String> {
        let mut last = Last::Nothing;
        while let Some(c) = self.peek(0) {
            let start = self.pos;
            match c {
                '\\' if self.peek(1) == Some('Q') => {
                    // `\Q…\E`: each character a literal of its own, as Go pushes them, so that a
                    // repetition after it applies to the last one; nothing at all when empty.
                    self.pos += 2;
                    let mut any = false;
                    while let Some(d) = self.peek(0) {
                        if d == '\\' && self.peek(1) == Some('E') {
                            self.pos += 2;
                            break;
                        }
                        self.begin_item();
                        self.out.push_str(&literal(d));
                        self.pos += 1;
                        any = true;
                    }
                    if any {
                        last = Last::Item;
                    } else {
                        Self::transparent(&mut last);
                    }
                }
                '\\' => {
                    self.begin_item();
                    self.escape(false)?;
                    last = Last::Item;
                }
                '[' => {
                    self.begin_item();
                    self.class()?;
                    last = Last::Item;
                }
                '(' => match self.group_open()? {
                    GroupOpen::Group(text) => {
                        self.out.push_str(&std::mem::take(&mut self.pending_flags));
                        self.group_starts.push(self.out.len());
                        self.out.push_str(&text);
                        last = Last::Nothing;
                    }
                    GroupOpen::Flags(text) => {
                        self.pending_flags.push_str(&text);
                        Self::transparent(&mut last);
                    }
                },
                ')' => {
                    let Some(group_start) = self.group_starts.pop() else {
                        return Err(go_error("unexpected )", self.src));
                    };
                    self.out.push_str(&std::mem::take(&mut self.pending_flags));
                    self.out.push(')');
                    self.pos += 1;
                    self.item_start = group_start;
                    self.item_repeated = false;
                    last = Last::Item;
                }
                '|' => {
                    self.out.push_str(&std::mem::take(&mut self.pending_flags));
                    self.out.push('|');
                    self.pos += 1;
                    last = Last::Nothing;
                }
                '*' | '+' | '?' => {
                    self.pos += 1;
                    self.repeat_suffix(start, &mut last)?;
                }
                '{' => match self.repeat_braces() {
                    Some((text, n, m)) => {
                        if n > 1000 || m.is_some_and(|m| m > 1000 || m < n) {
                            return Err(go_error("invalid repeat count", &text));
                        }
                        self.repeat_suffix(start, &mut last)?;
                    }
                    None => {
                        self.notes.push(format!(
                            "`{{` at offset {} does not start a repeat count: Go reads it as a literal `{{` (Rust would reject the pattern)",
                            self.offset(start)
                        ));
                        self.begin_item();
                        self.out.push_str(&literal('{'));
                        self.pos += 1;
                        last = Last::Item;
                    }
                },
                c => {
                    // `}` `^` `$` `.` and ordinary characters mean the same in both dialects.
                    self.begin_item();
                    self.out.push(c);
                    self.pos += 1;
                    last = Last::Item;
                }
            }
        }
        if !self.group_starts.is_empty() {
            return Err(go_error("missing closing )", self.src));
        }
        self.out.push_str(&std::mem::take(&mut self.pending_flags));
        Ok(())
    }

    /// Emits the repetition operator just consumed (from `start`), its optional lazy `?`, and applies
    /// Go's checks: an argument is required, and a repetition may not follow a repetition directly.
    /// One that follows it across a flag group repeats the repetition, as in Go (`(?:a*)*` in Rust).
    fn repeat_suffix(&mut self, start: usize, last: &mut Last) -> Result<(), String> {
        if self.peek(0) == Some('?') {
            self.pos += 1;
        }
        let op_text = &self.src[self.offset(start)..self.offset(self.pos)];
        match *last {
            Last::Nothing => {
                return Err(go_error("missing argument to repetition operator", op_text))
            }
            Last::Repeat(prev) => {
                let text = &self.src[self.offset(prev)..self.offset(self.pos)];
                return Err(go_error("invalid nested repetition operator", text));
            }
            Last::Item => {}
        }
        if self.item_repeated {
            self.out.insert_str(self.item_start, "(?:");
            self.out.push(')');
        }
        self.out.push_str(op_text);
        self.item_repeated = true;
        *last = Last::Repeat(start);
        Ok(())
    }

    /// At `{`: a Go repeat `{n}`, `{n,}` or `{n,m}` (decimal digits only). Consumes it and returns its
    /// text and bounds; leaves the position alone when it is not one.
    fn repeat_braces(&mut self) -> Option<(String, u64, Option<u64>)> {
        let mut i = self.pos + 1;
        let digits = |i: &mut usize, this: &Self| -> Option<u64> {
            let begin = *i;
            while this.chars.get(*i).is_some_and(|&(_, c)| c.is_ascii_digit()) {
                *i += 1;
            }
            // Go reads no number with a leading zero (`{01}`): the brace is then a literal.
            if *i == begin || (*i - begin > 1 && this.chars[begin].1 == '0') {
                return None;
            }
            let text = &this.src[this.offset(begin)..this.offset(*i)];
            Some(text.parse().unwrap_or(u64::MAX))
        };
        let n = digits(&mut i, self)?;
        let mut m = Some(n);
        if self.chars.get(i).map(|&(_, c)| c) == Some(',') {
            i += 1;
            m = if self.chars.get(i).map(|&(_, c)| c) == Some('}') {
                None
            } else {
                Some(digits(&mut i, self)?)
            };
        }
        if self.chars.get(i).map(|&(_, c)| c) != Some('}') {
            return None;
        }
        i += 1;
        let text = self.src[self.offset(self.pos)..self.offset(i)].to_string();
        self.pos = i;
        Some((text, n, m))
    }

    /// At `(`: a group, a named group, or a flag setting (a bare `(?i)` changes flags for the rest
    /// of the enclosing group and opens none).
    fn group_open(&mut self) -> Result<GroupOpen, String> {
        let open = self.pos;
        self.pos += 1;
        if self.peek(0) != Some('?') {
            return Ok(GroupOpen::Group("(".into()));
        }
        self.pos += 1;
        let unsupported = |this: &Self, upto: usize| {
            let end = this.offset(upto.min(this.chars.len()));
            go_error(
                "invalid or unsupported Perl syntax",
                &this.src[this.offset(open)..end],
            )
        };
        match self.peek(0) {
            Some('P') if self.peek(1) == Some('<') => {
                self.pos += 2;
                self.group_name(open).map(GroupOpen::Group)
            }
            Some('<') => {
                if self.named == GoNamedGroups::POnly {
                    return Err(unsupported(self, self.pos + 1));
                }
                self.notes.push(
                    "`(?<name>…)` is accepted only by Go 1.22 and later; an older calico-node rejects this regex (use `(?P<name>…)`)".to_string(),
                );
                self.pos += 1;
                self.group_name(open).map(GroupOpen::Group)
            }
            _ => {
                // Flags: (?flags) or (?flags:re), flags from i m s U, with one optional '-'.
                let mut flags = String::new();
                let mut negated = false;
                let mut any = false;
                loop {
                    match self.peek(0) {
                        Some(c @ ('i' | 'm' | 's' | 'U')) => {
                            flags.push(c);
                            any = true;
                            self.pos += 1;
                        }
                        Some('-') if !negated => {
                            negated = true;
                            any = false;
                            flags.push('-');
                            self.pos += 1;
                        }
                        Some(c @ (':' | ')')) => {
                            if negated && !any {
                                return Err(unsupported(self, self.pos + 1));
                            }
                            self.pos += 1;
                            if c == ':' {
                                return Ok(GroupOpen::Group(format!("(?{flags}:")));
                            }
                            // Go accepts `(?)` as a no-op.
                            return Ok(GroupOpen::Flags(if flags.is_empty() {
                                String::new()
                            } else {
                                format!("(?{flags})")
                            }));
                        }
                        _ => return Err(unsupported(self, self.pos + 1)),
                    }
                }
            }
        }
    }

    fn group_name(&mut self, open: usize) -> Result<String, String> {
        let begin = self.pos;
        while self.peek(0).is_some_and(|c| c != '>') {
            self.pos += 1;
        }
        if self.peek(0).is_none() {
            let text = &self.src[self.offset(open)..];
            return Err(go_error("invalid named capture", text));
        }
        let name = &self.src[self.offset(begin)..self.offset(self.pos)];
        self.pos += 1;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            let text = &self.src[self.offset(open)..self.offset(self.pos)];
            return Err(go_error("invalid named capture", text));
        }
        Ok(format!("(?P<{name}>"))
    }

    /// At `\`: one escape, in a class or outside one.
    fn escape(&mut self, in_class: bool) -> Result<(), String> {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.peek(0) else {
            return Err(go_error("trailing backslash at end of expression", ""));
        };
        self.pos += 1;
        let escape_text =
            |this: &Self| this.src[this.offset(start)..this.offset(this.pos)].to_string();
        let ascii_set = |set: &str, negate: bool, in_class: bool| -> String {
            match (negate, in_class) {
                (false, true) => set.to_string(),
                (false, false) => format!("[{set}]"),
                (true, _) => format!("[^{set}]"),
            }
        };
        const DIGIT: &str = "0-9";
        const WORD: &str = "0-9A-Za-z_";
        const SPACE: &str = "\\t\\n\\x0C\\r ";
        let text = match c {
            '1'..='7' if !self.peek(0).is_some_and(|d| ('0'..='7').contains(&d)) => {
                return Err(go_error("invalid escape sequence", &escape_text(self)));
            }
            '0'..='7' => {
                let mut value = c.to_digit(8).unwrap();
                for _ in 0..2 {
                    match self.peek(0).and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                format!("\\x{{{value:x}}}")
            }
            'x' => {
                // \xHH or \x{H…}: the same in both dialects; copy it through.
                let begin = self.pos;
                if self.peek(0) == Some('{') {
                    while self.peek(0).is_some_and(|d| d != '}') {
                        self.pos += 1;
                    }
                    if self.peek(0).is_none() {
                        return Err(go_error("invalid escape sequence", &escape_text(self)));
                    }
                    self.pos += 1;
                } else {
                    for _ in 0..2 {
                        if !self.peek(0).is_some_and(|d| d.is_ascii_hexdigit()) {
                            self.pos += 1;
                            return Err(go_error("invalid escape sequence", &escape_text(self)));
                        }
                        self.pos += 1;
                    }
                }
                format!(
                    "\\x{}",
                    &self.src[self.offset(begin)..self.offset(self.pos)]
                )
            }
            'a' | 'f' | 't' | 'n' | 'r' | 'v' => format!("\\{c}"),
            'd' => ascii_set(DIGIT, false, in_class),
            'D' => ascii_set(DIGIT, true, in_class),
            'w' => ascii_set(WORD, false, in_class),
            'W' => ascii_set(WORD, true, in_class),
            's' => ascii_set(SPACE, false, in_class),
            'S' => ascii_set(SPACE, true, in_class),
            'b' | 'B' | 'A' | 'z' | 'Q' | 'C' if in_class => {
                return Err(go_error("invalid escape sequence", &escape_text(self)));
            }
            'b' => "(?-u:\\b)".to_string(),
            'B' => "(?-u:\\B)".to_string(),
            'A' => "\\A".to_string(),
            'z' => "\\z".to_string(),
            // Go's parser: "any byte; not supported". (`\Q` outside a class is read by `run`.)
            'C' | 'Q' => {
                return Err(go_error("invalid escape sequence", &escape_text(self)));
            }
            'p' | 'P' => {
                let begin = self.pos;
                if self.peek(0) == Some('{') {
                    while self.peek(0).is_some_and(|d| d != '}') {
                        self.pos += 1;
                    }
                    if self.peek(0).is_none() {
                        return Err(go_error(
                            "invalid character class range",
                            &escape_text(self),
                        ));
                    }
                }
                self.pos += 1;
                format!(
                    "\\{c}{}",
                    &self.src[self.offset(begin)..self.offset(self.pos.min(self.chars.len()))]
                )
            }
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => literal(c),
            _ => return Err(go_error("invalid escape sequence", &escape_text(self))),
        };
        self.out.push_str(&text);
        Ok(())
    }

    /// At `[`: a character class, Go style.
    fn class(&mut self) -> Result<(), String> {
        let open = self.pos;
        self.pos += 1;
        self.out.push('[');
        if self.peek(0) == Some('^') {
            self.out.push('^');
            self.pos += 1;
        }
        let mut first = true;
        // Whether the previous class item was a single character (a range may follow it).
        let mut prev_char = false;
        loop {
            let Some(c) = self.peek(0) else {
                return Err(go_error("missing closing ]", self.rest_text(open)));
            };
            match c {
                ']' if !first => {
                    self.out.push(']');
                    self.pos += 1;
                    return Ok(());
                }
                '[' if self.peek(1) == Some(':') => {
                    // As Go: `[:` starts a POSIX class when a `:]` follows somewhere after it; the
                    // name must then be one Go knows (else the whole pattern is invalid). Without a
                    // `:]`, the `[` is a literal.
                    let rest = self.rest_text(self.pos);
                    match rest[2..].find(":]") {
                        Some(end) => {
                            let text = &rest[..end + 4];
                            if !POSIX_CLASSES.contains(
                                &text[2..text.len() - 2]
                                    .strip_prefix('^')
                                    .unwrap_or(&text[2..text.len() - 2]),
                            ) {
                                return Err(go_error("invalid character class range", text));
                            }
                            self.out.push_str(text);
                            self.pos += text.chars().count();
                        }
                        None => {
                            self.out.push_str(&literal('['));
                            self.pos += 1;
                        }
                    }
                    prev_char = false;
                }
                '\\' => {
                    let before = self.out.len();
                    self.escape(true)?;
                    // A single escaped character (not a set) can start a range.
                    prev_char = !self.out[before..].contains('[')
                        && !self.out[before..].starts_with("0-9")
                        && !self.out[before..].starts_with("\\t\\n");
                }
                '-' if prev_char && self.peek(1).is_some_and(|d| d != ']') => {
                    // A range: emit '-' as the operator, then the end character.
                    self.out.push('-');
                    self.pos += 1;
                    match self.peek(0) {
                        Some('\\') => self.escape(true)?,
                        Some(d) => {
                            self.out.push_str(&literal(d));
                            self.pos += 1;
                        }
                        None => return Err(go_error("missing closing ]", self.rest_text(open))),
                    }
                    prev_char = false;
                }
                c => {
                    // Go: every other character in a class is itself; escape the ones Rust treats
                    // specially there ([ & ~ - ]).
                    if c.is_ascii_punctuation() {
                        self.out.push_str(&literal(c));
                    } else {
                        self.out.push(c);
                    }
                    self.pos += 1;
                    prev_char = true;
                }
            }
            first = false;
        }
    }
}

/// True when the compiled Go regex matches somewhere in `name` (Go's `MatchString`: unanchored).
pub fn matches(re: &GoRegex, name: &str) -> bool {
    re.regex.is_match(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(p: &str) -> Result<GoRegex, GoRegexError> {
        compile(p, GoNamedGroups::AngleToo)
    }

    fn is_match(p: &str, name: &str) -> bool {
        matches(&go(p).unwrap_or_else(|e| panic!("{p}: {e:?}")), name)
    }

    /// Validity as Go's `regexp/syntax` parser decides it (Go 1.19 and later agree on these), with
    /// Go's error text, and a name to tell the accepted ones' meaning apart.
    #[test]
    fn validity_agrees_with_go() {
        let invalid: &[(&str, &str)] = &[
            (
                "[[:foo:]]",
                "error parsing regexp: invalid character class range: `[:foo:]`",
            ),
            (
                "eth[[:digits:]]",
                "error parsing regexp: invalid character class range: `[:digits:]`",
            ),
            (
                "[[:^^alpha:]]",
                "error parsing regexp: invalid character class range: `[:^^alpha:]`",
            ),
            (
                "[[:]x:]]",
                "error parsing regexp: invalid character class range: `[:]x:]`",
            ),
            (
                "\\C",
                "error parsing regexp: invalid escape sequence: `\\C`",
            ),
            (
                "eth\\C+",
                "error parsing regexp: invalid escape sequence: `\\C`",
            ),
            (
                "\\Q\\E{2}",
                "error parsing regexp: missing argument to repetition operator: `{2}`",
            ),
            (
                "(?i)*",
                "error parsing regexp: missing argument to repetition operator: `*`",
            ),
            (
                "(\\Q\\E*)",
                "error parsing regexp: missing argument to repetition operator: `*`",
            ),
            (
                "a**",
                "error parsing regexp: invalid nested repetition operator: `**`",
            ),
            (
                "x{2}{3}",
                "error parsing regexp: invalid nested repetition operator: `{2}{3}`",
            ),
            (
                "x{1,1001}",
                "error parsing regexp: invalid repeat count: `{1,1001}`",
            ),
        ];
        for (pattern, message) in invalid {
            match go(pattern) {
                Err(GoRegexError::Go(e)) => assert_eq!(&e, message, "{pattern}"),
                other => panic!("{pattern}: Go rejects it, got {other:?}"),
            }
        }
        let valid: &[(&str, &str, bool)] = &[
            ("^eth[[:digit:]]+$", "eth12", true),
            ("^eth[[:^digit:]]$", "ethx", true),
            ("^[[:word:][:punct:]]+$", "br-x.1", true),
            ("^[[:]$", ":", true),
            ("^eth0(?i)*$", "eth", true),
            ("^eth0(?i)*$", "eth000", true),
            ("^eth0(?i)*X$", "eth00x", true),
            ("^a*(?i)*$", "aaa", true),
            ("^a\\Q\\E{2}$", "aa", true),
            ("^\\Qab\\E*$", "abab", false),
            ("^\\Qab\\E*$", "abbb", true),
            ("^\\Qbr.100\\E$", "br.100", true),
            ("^\\Qbr.100\\E$", "brx100", false),
            ("^x{01}$", "x{01}", true),
            ("^(?i)ETH(?-i)x$", "ethx", true),
            ("^(?i)ETH(?-i)x$", "ethX", false),
        ];
        for (pattern, name, expected) in valid {
            let re = go(pattern).unwrap_or_else(|e| panic!("{pattern}: Go accepts it, got {e:?}"));
            assert_eq!(
                matches(&re, name),
                *expected,
                "{pattern} on {name} ({})",
                re.rust_pattern
            );
        }
    }

    #[test]
    fn matches_with_go_semantics() {
        let cases: [(&str, &str, bool); 24] = [
            ("(eth3)", "eth30", true),
            ("(eth3)", "veth3abc", true),
            ("(eth3)", "eth3.100", true),
            ("(^eth3$)", "eth30", false),
            ("(lo)", "wlo1", true),
            ("(^lo)", "wlo1", false),
            ("(eth{1)|(2})", "eth1", false),
            ("(eth{1)|(2})", "eth{1", true),
            ("(eth{1)|(2})", "x2}", true),
            ("eth{,2}", "eth{,2}", true),
            ("eth{1,2}", "ethh", true),
            ("()", "anything", true),
            ("( eth0)", "eth0", false),
            ("\\d+", "eth٣", false),
            ("\\d+", "eth3", true),
            ("^\\w+$", "ethé", false),
            ("\\Q.*\\E", "a.*b", true),
            ("\\Q.*\\E", "ab", false),
            ("\\<", "a<b", true),
            ("\\<", "ab", false),
            ("[a&&b]", "&", true),
            ("[[]", "[", true),
            ("\\145th0", "eth0", true),
            ("(?i)ETH0", "eth0", true),
        ];
        for (p, name, expected) in cases {
            assert_eq!(is_match(p, name), expected, "{p} on {name}");
        }
    }

    #[test]
    fn go_rejects_with_its_own_text() {
        let cases: [(&str, &str); 11] = [
            ("(eth0", "error parsing regexp: missing closing ): `(eth0`"),
            ("eth0)", "error parsing regexp: unexpected ): `eth0)`"),
            ("[eth", "error parsing regexp: missing closing ]: `[eth`"),
            (
                "*eth",
                "error parsing regexp: missing argument to repetition operator: `*`",
            ),
            (
                "(*)",
                "error parsing regexp: missing argument to repetition operator: `*`",
            ),
            (
                "a**",
                "error parsing regexp: invalid nested repetition operator: `**`",
            ),
            (
                "a{2}{3}",
                "error parsing regexp: invalid nested repetition operator: `{2}{3}`",
            ),
            (
                "a{1001}",
                "error parsing regexp: invalid repeat count: `{1001}`",
            ),
            (
                "eth\\",
                "error parsing regexp: trailing backslash at end of expression: ``",
            ),
            (
                "\\8",
                "error parsing regexp: invalid escape sequence: `\\8`",
            ),
            (
                "(?x)a",
                "error parsing regexp: invalid or unsupported Perl syntax: `(?x`",
            ),
        ];
        for (p, text) in cases {
            match go(p) {
                Err(GoRegexError::Go(t)) => assert_eq!(t, text, "{p}"),
                other => panic!("{p}: expected a Go error, got {other:?}"),
            }
        }
    }

    #[test]
    fn classes_read_like_go() {
        let cases: [(&str, &str, bool); 10] = [
            ("^[a-]$", "-", true),
            ("^[-a]$", "-", true),
            ("^[]a]$", "]", true),
            ("^[^]a]$", "b", true),
            ("^[\\]]$", "]", true),
            ("^[\\x41-\\x5a]+$", "ETH", true),
            ("^[\\x41-\\x5a]+$", "eth", false),
            ("^[[:alpha:]]+[0-9]$", "eth0", true),
            ("^[a~~b]$", "~", true),
            ("^[\\d]$", "٣", false),
        ];
        for (p, name, expected) in cases {
            assert_eq!(is_match(p, name), expected, "{p} on {name}");
        }
    }

    #[test]
    fn lazy_repeat_is_not_nested() {
        assert!(go("a*?b").is_ok());
        assert!(matches!(go("a*??"), Err(GoRegexError::Go(_))));
    }

    #[test]
    fn named_groups_depend_on_go_version() {
        assert!(compile("(?P<n>eth0)", GoNamedGroups::POnly).is_ok());
        assert_eq!(
            compile("(?<n>eth0)", GoNamedGroups::POnly).unwrap_err(),
            GoRegexError::Go(
                "error parsing regexp: invalid or unsupported Perl syntax: `(?<`".into()
            )
        );
        let ok = compile("(?<n>eth0)", GoNamedGroups::AngleToo).unwrap();
        assert!(ok.notes.iter().any(|n| n.contains("Go 1.22")));
    }

    #[test]
    fn stray_brace_is_noted() {
        let r = go("(eth{1)|(2})").unwrap();
        assert!(
            r.notes.iter().any(|n| n.contains("literal `{`")),
            "{:?}",
            r.notes
        );
        assert!(go("eth{1,2}").unwrap().notes.is_empty());
    }

    #[test]
    fn flag_groups_keep_their_scope() {
        assert!(is_match("(?i:ETH)0", "eth0"));
        assert!(!is_match("(?i:ETH)X", "eth0"));
        assert!(is_match("(a)|(?i)B", "b"));
        assert!(is_match("(?)eth0", "eth0"));
        assert!(matches!(go("(?-)a"), Err(GoRegexError::Go(_))));
    }
}
