//! `ser`: speech emotion recognition from raw audio.

mod commands;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ser",
    version,
    about = "Speech emotion recognition: which emotion a recording carries, with probabilities",
    after_help = "Examples:\n  ser predict clip.wav\n  ser predict recordings/ --format json\n  ser --help"
)]
struct Cli {
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr; no progress bars.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Predict(commands::predict::PredictArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let verbosity = commands::Verbosity::from_flags(cli.verbose, cli.quiet);
    commands::init_logging(verbosity);
    let result = match cli.command {
        Command::Predict(args) => commands::predict::run(args, verbosity),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
