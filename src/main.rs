//! The `nodecheck` binary: parse the command line, run, map errors to the documented exit codes.

use std::process::ExitCode;

use clap::Parser;
use nodecheck::error::{BadInput, Exit};

fn main() -> ExitCode {
    // Ansible runs a binary module with one argument, its JSON args file: answer in module mode.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(args_file) = nodecheck::ansible::module_args_file(&args) {
        return nodecheck::ansible::run(&args_file);
    }
    let cli = match nodecheck::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::BadInput
            } else {
                Exit::Ok
            };
            // clap echoes the offending argument: keep its control bytes away from the terminal.
            if e.use_stderr() {
                eprint!("{}", nodecheck::escape::for_terminal_lines(&e.to_string()));
            } else {
                let _ = e.print();
            }
            return code.into();
        }
    };
    match nodecheck::commands::run(cli) {
        Ok(code) => code,
        Err(err) => report_error(err),
    }
}

fn report_error(err: anyhow::Error) -> ExitCode {
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        if io.kind() == std::io::ErrorKind::BrokenPipe {
            return Exit::Ok.into();
        }
    }
    // Messages echo paths and values from the command line and from files: escaped once here, at
    // the one place errors reach the terminal (escaping twice changes nothing).
    if let Some(bad) = err.downcast_ref::<BadInput>() {
        eprintln!(
            "nodecheck: error: {}",
            nodecheck::escape::for_terminal_lines(&bad.to_string())
        );
        return Exit::BadInput.into();
    }
    eprintln!(
        "nodecheck: error: {}",
        nodecheck::escape::for_terminal_lines(&format!("{err:#}"))
    );
    Exit::ToolFailed.into()
}
