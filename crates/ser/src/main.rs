//! `ser`: speech emotion recognition from raw audio.

mod commands;

use clap::{Parser, Subcommand};

/// burn-flex allocates and frees tensors of several megabytes many times per training step;
/// glibc's malloc returns them to the OS and page-faults them back in every time (a third
/// of a step's time), mimalloc keeps them for reuse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ser",
    version,
    about = "Speech emotion recognition: which emotion a recording carries, with probabilities",
    after_help = "Examples:\n  ser predict clip.wav\n  ser predict recordings/ --format jsonl\n  ser info clip.wav\n  ser <command> --help"
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
    /// The emotion and every class probability per recording (files, folders, globs, stdin).
    Predict(commands::predict::PredictArgs),
    /// What the decoder finds in audio files: container, codec, rate, channels, duration.
    Info(commands::info::InfoArgs),
    /// Acoustic features (MFCC, log-mel, pitch, spectral) with librosa parity, as CSV/NPY/JSON.
    Features(commands::features::FeaturesArgs),
    /// Trains a model from raw audio: features (cached), split, training, one model bundle.
    Train(commands::train::TrainArgs),
    /// Describes a network configuration (Keras-style summary) or a trained model bundle.
    Model(commands::model::ModelArgs),
    /// Throughput benchmarks printed next to a reference implementation.
    Bench(commands::bench::BenchArgs),
    /// A trained model's metrics, confusion matrix and per-clip predictions on a corpus or split.
    Eval(commands::eval::EvalArgs),
    /// Runs an evaluation protocol end to end (seeds, speakers, folds) into a Markdown report.
    Experiment(commands::experiment::ExperimentArgs),
    /// HTTP service and web page: POST /v1/predict, GET /v1/model, GET /healthz, page at /.
    Serve(commands::serve::ServeArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Piped into `head` and the like, a command stops quietly as Unix tools do instead of
    // panicking in `println!`. The service (and its benchmark) keep Rust's ignored SIGPIPE: a
    // client that hangs up is an error on its socket, not the end of the server.
    let serves = match &cli.command {
        Command::Serve(_) => true,
        Command::Bench(bench) => matches!(bench.target, commands::bench::BenchTarget::Serve(_)),
        _ => false,
    };
    if !serves {
        sigpipe::reset();
    }
    // A panic on one input is reported as that input's error (see ser_audio::isolate).
    ser_audio::install_panic_hook();
    let verbosity = commands::Verbosity::from_flags(cli.verbose, cli.quiet);
    match &cli.command {
        Command::Serve(args) => commands::serve::init_logging(verbosity, args.log_json),
        _ => commands::init_logging(verbosity),
    }
    let result = match cli.command {
        Command::Predict(args) => commands::predict::run(args, verbosity),
        Command::Info(args) => commands::info::run(args, verbosity),
        Command::Features(args) => commands::features::run(args, verbosity),
        Command::Train(args) => commands::train::run(args, verbosity),
        Command::Model(args) => commands::model::run(args, verbosity),
        Command::Bench(args) => commands::bench::run(args, verbosity),
        Command::Eval(args) => commands::eval::run(args, verbosity),
        Command::Experiment(args) => commands::experiment::run(args, verbosity),
        Command::Serve(args) => commands::serve::run(args, verbosity),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", error_message(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// `error` and its causes as "outer: inner", leaving out a cause whose text the message
/// already ends with: most of ser's errors name their source in their own message.
fn error_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}
