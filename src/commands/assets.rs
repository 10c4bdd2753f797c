//! `nodecheck generate-assets DIR` (hidden): writes the files the packages ship that are derived from the
//! command line itself — one man page per (sub)command and the bash, zsh and fish completions — so they can
//! never disagree with the binary they describe.
//!
//! Layout written under DIR: `man/nodecheck.1`, `man/nodecheck-<sub>[-<sub>].1`,
//! `completions/nodecheck.bash`, `completions/_nodecheck`, `completions/nodecheck.fish`.
//! Every man page carries an EXIT STATUS section, parsed from the exit-code table of `--help` so that the
//! contract has a single source.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

use crate::cli::GenerateAssetsArgs;
use crate::error::Exit;

/// The completion scripts: shell, and the file name each shell's vendor directory expects.
const COMPLETIONS: [(Shell, &str); 3] = [
    (Shell::Bash, "nodecheck.bash"),
    (Shell::Zsh, "_nodecheck"),
    (Shell::Fish, "nodecheck.fish"),
];

pub fn exec(args: GenerateAssetsArgs) -> anyhow::Result<ExitCode> {
    let written = generate_assets(&args.dir)?;
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(Exit::Ok.into())
}

/// Writes every man page and completion script under `dir`; returns the paths written.
pub fn generate_assets(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let cli = public_command(&crate::cli::Cli::command());
    let exit_codes = exit_codes(&cli)?;
    let mut written = Vec::new();

    let man_dir = dir.join("man");
    std::fs::create_dir_all(&man_dir).with_context(|| format!("creating {}", man_dir.display()))?;
    let mut cli_built = cli.clone().disable_help_subcommand(true);
    cli_built.build();
    for (page_name, cmd) in man_pages(&cli_built) {
        let path = man_dir.join(format!("{page_name}.1"));
        let page = render_man_page(&page_name, cmd, &exit_codes)?;
        std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }

    let completion_dir = dir.join("completions");
    std::fs::create_dir_all(&completion_dir)
        .with_context(|| format!("creating {}", completion_dir.display()))?;
    for (shell, file_name) in COMPLETIONS {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cli.clone(), "nodecheck", &mut script);
        let path = completion_dir.join(file_name);
        std::fs::write(&path, script).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The command tree as users see it: hidden subcommands (this one) removed, because the completion
/// generators list hidden subcommands too and clap has no way to remove one from a `Command`.
fn public_command(full: &clap::Command) -> clap::Command {
    let visible = full.get_subcommands().filter(|s| !s.is_hide_set()).cloned();
    let mut cmd = clap::Command::new("nodecheck")
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(visible)
        .subcommand_required(full.is_subcommand_required_set())
        .max_term_width(100);
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    if let Some(long_about) = full.get_long_about() {
        cmd = cmd.long_about(long_about.clone());
    }
    if let Some(after_help) = full.get_after_help() {
        cmd = cmd.after_help(after_help.clone());
    }
    cmd
}

/// Every page to write: the root command and, recursively, each visible subcommand, named the way
/// clap_mangen's SUBCOMMANDS section refers to them (`nodecheck-profile-init`).
fn man_pages(root: &clap::Command) -> Vec<(String, &clap::Command)> {
    fn walk<'a>(prefix: &str, cmd: &'a clap::Command, out: &mut Vec<(String, &'a clap::Command)>) {
        out.push((prefix.to_string(), cmd));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(&format!("{prefix}-{}", sub.get_name()), sub, out);
        }
    }
    let mut out = Vec::new();
    walk(root.get_name(), root, &mut out);
    out
}

/// One man page: clap_mangen's sections, then EXIT STATUS and SEE ALSO. The exit-code block of
/// `after_help` is rendered as EXIT STATUS instead of as free text.
fn render_man_page(
    page_name: &str,
    cmd: &clap::Command,
    exit_codes: &[(String, String)],
) -> anyhow::Result<Vec<u8>> {
    let has_own_extra_text = cmd.get_after_help().is_some_and(|text| {
        !text
            .to_string()
            .trim_start()
            .starts_with(EXIT_CODES_HEADING)
    });
    let cmd = cmd
        .clone()
        .display_name(page_name.to_string())
        .version(env!("CARGO_PKG_VERSION"));
    let man = Man::new(cmd.clone())
        .title(page_name.to_uppercase())
        .source(format!("nodecheck {}", env!("CARGO_PKG_VERSION")))
        .manual("nodecheck manual");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut out)?;
    }
    if has_own_extra_text {
        man.render_extra_section(&mut out)?;
    }

    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in exit_codes {
        roff.control("TP", []);
        roff.text([bold(code.as_str())]);
        roff.text([roman(meaning.as_str())]);
    }
    roff.control("SH", ["SEE ALSO"]);
    let see_also = if page_name == "nodecheck" {
        "Installation, the systemd units, the Ansible module and the DaemonSet: \
         /usr/share/doc/nodecheck/install.md"
            .to_string()
    } else {
        "nodecheck(1)".to_string()
    };
    roff.text([roman(see_also)]);
    roff.to_writer(&mut out)?;
    man.render_version_section(&mut out)?;
    Ok(out)
}

const EXIT_CODES_HEADING: &str = "Exit codes:";

/// Parses the `Exit codes:` table of the root command's `after_help` into (code, meaning) pairs.
fn exit_codes(root: &clap::Command) -> anyhow::Result<Vec<(String, String)>> {
    let text = root
        .get_after_help()
        .map(|t| t.to_string())
        .unwrap_or_default();
    let table = text
        .split_once(EXIT_CODES_HEADING)
        .map(|(_, rest)| rest)
        .context("the top-level --help has no `Exit codes:` table to put in the man page")?;
    let codes: Vec<(String, String)> = table
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let (code, meaning) = line.split_once(char::is_whitespace)?;
            code.parse::<u8>().ok()?;
            Some((code.to_string(), meaning.trim().to_string()))
        })
        .collect();
    anyhow::ensure!(
        !codes.is_empty(),
        "the `Exit codes:` table of --help lists no codes"
    );
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_come_from_the_help_table() {
        let cli = public_command(&crate::cli::Cli::command());
        let codes = exit_codes(&cli).unwrap();
        let numbers: Vec<&str> = codes.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(numbers, ["0", "1", "2", "3"]);
        assert!(codes[3].1.contains("check failed"), "{codes:?}");
    }

    #[test]
    fn hidden_subcommands_are_not_public() {
        let cli = public_command(&crate::cli::Cli::command());
        let names: Vec<&str> = cli.get_subcommands().map(|s| s.get_name()).collect();
        assert!(names.contains(&"check"), "{names:?}");
        assert!(!names.contains(&"generate-assets"), "{names:?}");
    }

    #[test]
    fn pages_are_named_after_their_subcommand_path() {
        let mut cli = public_command(&crate::cli::Cli::command()).disable_help_subcommand(true);
        cli.build();
        let names: Vec<String> = man_pages(&cli).into_iter().map(|(n, _)| n).collect();
        for expected in ["nodecheck", "nodecheck-check", "nodecheck-profile-init"] {
            assert!(names.iter().any(|n| n == expected), "{names:?}");
        }
    }
}
