//! `nodecheck profile init|validate|schema`.

use std::process::ExitCode;

use crate::cli::ProfileCommand;
use crate::error::Exit;

pub fn exec(cmd: ProfileCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProfileCommand::Validate(args) => {
            crate::profile::load::load_profile_file(&args.file)?;
            eprintln!("{}: valid", args.file.display());
            Ok(Exit::Ok.into())
        }
        _ => anyhow::bail!("not implemented yet"),
    }
}
