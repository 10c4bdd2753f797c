//! `nodecheck check --npd`: node-problem-detector's custom-plugin protocol. NPD runs the command on an
//! interval and reads its exit code — 0 OK, 1 NonOK (the problem is present), 2 Unknown (the check
//! itself could not run) — and its first line of stdout as the condition's message. Every failed
//! check ID is in that one line, so a NodeCondition says which checks failed.

use std::process::ExitCode;

use crate::checks::Status;
use crate::cli::CheckArgs;

/// NPD's custom-plugin exit codes.
const OK: u8 = 0;
const NON_OK: u8 = 1;
const UNKNOWN: u8 = 2;

/// How long the message may be: NPD cuts plugin output at `max_output_length` (80 in its samples).
const MESSAGE_MAX: usize = 200;

pub fn exec(args: &CheckArgs) -> ExitCode {
    let (code, message) = match super::inputs::check_report(args) {
        Err(e) => (UNKNOWN, format!("nodecheck could not run: {e:#}")),
        Ok(report) if super::inputs::peer_input_failed(&report) => (
            UNKNOWN,
            "nodecheck could not use a peer input (see `nodecheck check`)".to_string(),
        ),
        Ok(report) => {
            let failed: Vec<&str> = report
                .results
                .iter()
                .filter(|r| r.status == Status::Fail || (args.strict && r.status == Status::Warn))
                .map(|r| r.id.as_str())
                .collect();
            if failed.is_empty() {
                (
                    OK,
                    format!(
                        "nodecheck {}: no check failed ({} ok, {} warn, {} skipped)",
                        report.phase.as_str(),
                        report.summary.ok,
                        report.summary.warn,
                        report.summary.skipped
                    ),
                )
            } else {
                (
                    NON_OK,
                    format!(
                        "nodecheck {}: {} failed: {}",
                        report.phase.as_str(),
                        failed.len(),
                        failed.join(", ")
                    ),
                )
            }
        }
    };
    println!("{}", one_line(&message));
    ExitCode::from(code)
}

/// The message on one line, control characters replaced, at most [`MESSAGE_MAX`] characters.
fn one_line(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= MESSAGE_MAX {
        return flat;
    }
    let mut cut: String = flat.chars().take(MESSAGE_MAX - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_bounded_line() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
        let long = "x".repeat(500);
        assert_eq!(one_line(&long).chars().count(), MESSAGE_MAX);
    }
}
