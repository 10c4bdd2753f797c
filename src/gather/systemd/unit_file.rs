//! Unit-file syntax (systemd.syntax(7)): the `Key=value` settings of one unit file or drop-in, by
//! section, with continuation lines joined. Pure: the reader in `gather::systemd` hands it text.

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

#[cfg(test)]
mod tests {
    use super::*;

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
