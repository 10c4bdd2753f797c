//! What the packages ship that is generated from the command line: `nodecheck generate-assets` writes a
//! man page per subcommand (with the exit codes) and bash/zsh/fish completions, and stays hidden.
//! (Installing the .deb and inspecting the .rpm is `packaging/test-packages.sh`.)

use std::path::PathBuf;
use std::process::Command;

use crate::util::{assert_exit, nodecheck, skip};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn generate(tag: &str) -> TempDir {
    let dir = TempDir(
        std::env::temp_dir().join(format!("wt-packaging-assets-{tag}-{}", std::process::id())),
    );
    let out = nodecheck(&["generate-assets", dir.0.to_str().unwrap()]);
    assert_exit(&out, 0);
    dir
}

#[test]
fn generate_assets_is_hidden_from_help() {
    let out = nodecheck(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("check"), "{help}");
    assert!(!help.contains("generate-assets"), "{help}");
}

#[test]
fn every_subcommand_has_a_man_page_with_the_exit_codes() {
    let dir = generate("man");
    for page in [
        "nodecheck",
        "nodecheck-facts",
        "nodecheck-check",
        "nodecheck-calico",
        "nodecheck-profile",
        "nodecheck-profile-init",
        "nodecheck-profile-validate",
        "nodecheck-baseline-record",
    ] {
        let path = dir.0.join(format!("man/{page}.1"));
        let roff =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(roff.contains(".SH \"EXIT STATUS\""), "{page}: {roff}");
        for text in [
            "no check failed",
            "nodecheck itself failed",
            "bad input",
            "at least one check failed",
        ] {
            assert!(roff.contains(text), "{page} lacks {text:?}");
        }
        assert!(
            !roff.contains("generate"),
            "{page} mentions the hidden command"
        );
    }
    let pages = std::fs::read_dir(dir.0.join("man")).unwrap().count();
    assert!(
        !dir.0.join("man/nodecheck-generate-assets.1").exists(),
        "the hidden command has a page"
    );
    assert!(pages >= 8, "{pages} pages");

    let check_page = std::fs::read_to_string(dir.0.join("man/nodecheck-check.1")).unwrap();
    for flag in ["\\-\\-phase", "\\-\\-peers", "\\-\\-skip", "\\-\\-strict"] {
        assert!(check_page.contains(flag), "nodecheck-check.1 lacks {flag}");
    }
}

#[test]
fn man_renders_the_generated_pages() {
    if Command::new("man").arg("--version").output().is_err() {
        return skip("man (man-db) is not installed");
    }
    let dir = generate("render");
    let out = Command::new("man")
        .arg("-l")
        .arg(dir.0.join("man/nodecheck-check.1"))
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .output()
        .unwrap();
    assert!(out.status.success());
    // Undo grotty's overstrike bold ("X\bX") when man writes to a pipe.
    let mut text = String::new();
    for c in String::from_utf8_lossy(&out.stdout).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    assert!(text.contains("NODECHECK-CHECK(1)"), "{text}");
    assert!(text.contains("EXIT STATUS"), "{text}");
}

#[test]
fn completions_cover_the_public_commands_only() {
    let dir = generate("completions");
    for file in ["nodecheck.bash", "_nodecheck", "nodecheck.fish"] {
        let script = std::fs::read_to_string(dir.0.join("completions").join(file)).unwrap();
        for word in ["check", "calico", "baseline", "phase", "post-boot"] {
            assert!(script.contains(word), "{file} lacks {word}");
        }
        assert!(
            !script.contains("generate-assets"),
            "{file} offers the hidden command"
        );
    }
    let bash = Command::new("bash")
        .arg("-c")
        .arg("source \"$1\" && complete -p nodecheck")
        .arg("bash")
        .arg(dir.0.join("completions/nodecheck.bash"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&bash.stdout).contains("nodecheck"),
        "{}",
        String::from_utf8_lossy(&bash.stderr)
    );
}
