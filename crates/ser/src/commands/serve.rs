//! `ser serve`: the HTTP service and its web page.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ser_audio::voice::VoiceConfig;
use ser_predict::PredictOptions;
use ser_serve::Limits;

use super::Verbosity;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  ser serve\n  ser serve --addr 0.0.0.0:8080 --model my.serb\n  \
    curl --data-binary @clip.wav http://127.0.0.1:8080/v1/predict\n  \
    curl -F file=@clip.flac 'http://127.0.0.1:8080/v1/predict?segment=always'\n\n\
    Routes: POST /v1/predict, GET /v1/model, GET /healthz, and the web page at /."
)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Model bundle (default: $SER_MODEL, else the model built into ser).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Largest upload in MiB (413 above it).
    #[arg(long, default_value_t = 25.0)]
    pub max_body_mb: f64,
    /// Longest recording in seconds (422 above it).
    #[arg(long, default_value_t = 600.0)]
    pub max_audio_seconds: f64,
    /// Predictions running at once (default: the number of CPU cores).
    #[arg(long)]
    pub max_concurrent: Option<usize>,
    /// Requests that may wait for a free slot; more get 503.
    #[arg(long, default_value_t = 64)]
    pub max_queue: usize,
    /// Deadline per request in seconds, upload included (504 after it).
    #[arg(long, default_value_t = 30.0)]
    pub timeout_seconds: f64,
    /// Log one JSON object per line instead of text.
    #[arg(long)]
    pub log_json: bool,
    /// Least speech, in seconds, to judge an emotion from (less: `too_short`, no emotion).
    #[arg(long, default_value_t = VoiceConfig::default().min_speech_seconds)]
    pub min_speech_seconds: f32,
    /// Emotions whose probability is below this are marked `uncertain`.
    #[arg(long, default_value_t = ser_predict::DEFAULT_UNCERTAIN_BELOW)]
    pub uncertain_below: f32,
}

/// A service logs each request at info level by default (`-q` for errors only, `-vv` for
/// debug, `SER_LOG` to filter), as text or JSON lines.
pub fn init_logging(verbosity: Verbosity, json: bool) {
    let level = match verbosity {
        Verbosity::Quiet => "error",
        Verbosity::Normal | Verbosity::Verbose(1) => "info",
        Verbosity::Verbose(_) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
}

pub fn run(args: ServeArgs, _verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    let limits = limits(&args)?;
    anyhow::ensure!(
        args.min_speech_seconds.is_finite() && args.min_speech_seconds >= 0.0,
        "--min-speech-seconds must be >= 0"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.uncertain_below),
        "--uncertain-below must be a probability in [0, 1]"
    );
    let predict_options = PredictOptions {
        voice: VoiceConfig {
            min_speech_seconds: args.min_speech_seconds,
            ..VoiceConfig::default()
        },
        uncertain_below: args.uncertain_below,
        ..PredictOptions::default()
    };
    let model = ser_predict::load_model(args.model.as_deref()).context("cannot load the model")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    eprintln!("ser: serving on http://{} (Ctrl-C to stop)", args.addr);
    runtime
        .block_on(ser_serve::serve(
            args.addr,
            Arc::new(model),
            limits,
            predict_options,
        ))
        .with_context(|| format!("cannot serve on {}", args.addr))?;
    Ok(ExitCode::SUCCESS)
}

fn limits(args: &ServeArgs) -> anyhow::Result<Limits> {
    let positive = |value: f64, name: &str| {
        anyhow::ensure!(
            value.is_finite() && value > 0.0,
            "--{name} must be positive"
        );
        Ok(value)
    };
    let defaults = Limits::default();
    Ok(Limits {
        max_body_bytes: (positive(args.max_body_mb, "max-body-mb")? * 1024.0 * 1024.0) as usize,
        max_audio_seconds: positive(args.max_audio_seconds, "max-audio-seconds")?,
        max_concurrent: args
            .max_concurrent
            .unwrap_or(defaults.max_concurrent)
            .max(1),
        max_queue: args.max_queue,
        request_timeout: Duration::from_secs_f64(positive(
            args.timeout_seconds,
            "timeout-seconds",
        )?),
    })
}
