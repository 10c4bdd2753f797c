//! The command-line contract: usage errors, exit codes, help.

use crate::util::nodecheck;

#[test]
fn unknown_flag_is_bad_input() {
    let out = nodecheck(&["facts", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
}

#[test]
fn unknown_format_is_bad_input() {
    let out = nodecheck(&["facts", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_documents_exit_codes() {
    let out = nodecheck(&["check", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for line in [
        "0  no check failed",
        "2  bad input",
        "3  at least one check failed",
    ] {
        assert!(help.contains(line), "help lacks {line:?}:\n{help}");
    }
}
