//! `ExecStart=` expansion (systemd.service(5)): `$NAME` and `${NAME}` replaced from the unit's
//! environment, each argument naming where its value came from, within the kernel's argument size
//! limits. Pure: the reader in `gather::systemd` hands it the words and the environment.

use super::environment::is_env_name;
use crate::facts::systemd::{split_command_line, EnvVar, ExecArg};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
