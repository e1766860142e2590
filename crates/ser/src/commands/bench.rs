//! `ser bench`: throughput figures printed next to a reference (never asserted in tests).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rayon::prelude::*;
use ser_features::FeatureConfig;

use super::Verbosity;

#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub target: BenchTarget,
}

#[derive(clap::Subcommand)]
pub enum BenchTarget {
    /// Decode + resample + MFCC for a whole corpus (default: all of TESS), like
    /// `librosa.load(sr=22050)` + `librosa.feature.mfcc(n_mfcc=40)`.
    #[command(after_help = "Examples:\n  ser bench features\n  \
        ser bench features --librosa-seconds \"$(python3 tools/bench_librosa.py --seconds-only)\"")]
    Features(BenchFeaturesArgs),
    /// Milliseconds per training step for each architecture, next to the Keras/TF-CPU figure.
    #[command(
        after_help = "Examples:\n  ser bench train\n  ser bench train --steps 50 --keras-ms 30\n  ser bench train --architectures cnn1d,crnn"
    )]
    Train(super::bench_train::BenchTrainArgs),
    /// Cold-start wall time of `ser predict one.wav` and batch files/s.
    #[command(
        after_help = "Examples:\n  ser bench predict\n  ser bench predict recordings/ --limit 200"
    )]
    Predict(super::bench_predict::BenchPredictArgs),
    /// HTTP service requests/s and p50/p99 latency under a bounded loopback load.
    #[command(
        after_help = "Examples:\n  ser bench serve\n  ser bench serve --connections 16 --requests 5000"
    )]
    Serve(super::bench_serve::BenchServeArgs),
}

#[derive(clap::Args)]
pub struct BenchFeaturesArgs {
    /// Audio files or folders (default: the TESS folder, $SER_DATA_DIR/tess).
    pub inputs: Vec<PathBuf>,
    /// Seconds librosa took for the same files (tools/bench_librosa.py prints it), to print
    /// the speed-up.
    #[arg(long)]
    pub librosa_seconds: Option<f64>,
    /// Only the first N files.
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long, default_value_t = 22_050)]
    pub sr: u32,
    #[arg(long, default_value_t = 40)]
    pub n_mfcc: usize,
}

pub fn run(args: BenchArgs, _verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    match args.target {
        BenchTarget::Features(args) => bench_features(args),
        BenchTarget::Train(args) => super::bench_train::run(args),
        BenchTarget::Predict(args) => super::bench_predict::run(args),
        BenchTarget::Serve(args) => super::bench_serve::run(args),
    }
}

/// librosa 0.11's time for the default workload (all 2800 TESS clips, `load(sr=22050)` +
/// `mfcc(n_mfcc=40)`, one process): tools/bench_librosa.py on an idle 2-core machine of the
/// kind this project runs on. A reference only; `--librosa-seconds` takes a fresh measurement.
const LIBROSA_REFERENCE_SECONDS: f64 = 12.3;
/// The workload [`LIBROSA_REFERENCE_SECONDS`] was measured on.
const LIBROSA_REFERENCE_FILES: usize = 2800;

/// The 1-minute load average where the OS reports one (Linux), to flag a busy machine.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Time spent per stage, summed over all worker threads.
#[derive(Default, Clone, Copy)]
struct StageTimes {
    decode: Duration,
    resample: Duration,
    features: Duration,
    audio_seconds: f64,
}

impl std::ops::Add for StageTimes {
    type Output = StageTimes;
    fn add(self, other: StageTimes) -> StageTimes {
        StageTimes {
            decode: self.decode + other.decode,
            resample: self.resample + other.resample,
            features: self.features + other.features,
            audio_seconds: self.audio_seconds + other.audio_seconds,
        }
    }
}

fn bench_features(args: BenchFeaturesArgs) -> anyhow::Result<ExitCode> {
    let inputs = if args.inputs.is_empty() {
        vec![ser_data::default_tess_dir()]
    } else {
        args.inputs.clone()
    };
    let mut files = super::info::expand_inputs(&inputs)?;
    if let Some(limit) = args.limit {
        files.truncate(limit);
    }
    if files.is_empty() {
        bail!("no audio files found in {inputs:?}");
    }
    let mut config = FeatureConfig::default();
    config.audio.sample_rate = Some(args.sr);
    config.mfcc.n_mfcc = args.n_mfcc;

    let load_before = load_average();
    let started = Instant::now();
    let per_file: Vec<anyhow::Result<StageTimes>> = files
        .par_iter()
        .map(|file| {
            let t0 = Instant::now();
            // Decoding errors name the file; the later stages' do not.
            let decoded = ser_audio::decode_file(file)?;
            let t1 = Instant::now();
            let in_file = || file.display().to_string();
            let audio = config.audio.apply(decoded.audio).with_context(in_file)?;
            let t2 = Instant::now();
            // Timed apart from preprocessing: the same work as `config.extract`.
            let matrix = config
                .extract_prepared(&audio.samples, f64::from(audio.sample_rate))
                .with_context(in_file)?;
            std::hint::black_box(matrix);
            let t3 = Instant::now();
            Ok(StageTimes {
                decode: t1 - t0,
                resample: t2 - t1,
                features: t3 - t2,
                audio_seconds: audio.duration_seconds(),
            })
        })
        .collect();
    let wall = started.elapsed().as_secs_f64();
    let mut total = StageTimes::default();
    for result in per_file {
        total = total + result?;
    }
    let busy = (total.decode + total.resample + total.features)
        .as_secs_f64()
        .max(f64::EPSILON);
    let share = |d: Duration| 100.0 * d.as_secs_f64() / busy;
    println!(
        "ser features bench: {} files, {:.1} s of audio, {} threads",
        files.len(),
        total.audio_seconds,
        rayon::current_num_threads()
    );
    println!(
        "  decode + resample to {} Hz + {} MFCC: {wall:.2} s wall",
        args.sr, args.n_mfcc
    );
    println!(
        "  {:.0} files/s, {:.0}x real time",
        files.len() as f64 / wall,
        total.audio_seconds / wall
    );
    println!(
        "  time split: decode {:.0}%, resample {:.0}%, MFCC {:.0}%",
        share(total.decode),
        share(total.resample),
        share(total.features)
    );
    // Each stage's share of the wall time: decoding alone sets a floor under the whole run.
    let stage_wall = |d: Duration| wall * d.as_secs_f64() / busy;
    println!(
        "  of the wall time: decode {:.2} s, resample {:.2} s, MFCC {:.2} s",
        stage_wall(total.decode),
        stage_wall(total.resample),
        stage_wall(total.features)
    );
    let default_workload = args.inputs.is_empty()
        && files.len() == LIBROSA_REFERENCE_FILES
        && args.sr == 22_050
        && args.n_mfcc == 40;
    if let Some(librosa) = args.librosa_seconds {
        println!(
            "  librosa: {librosa:.2} s for the same work -> ser is {:.1}x faster \
             (30x would be {:.2} s)",
            librosa / wall,
            librosa / 30.0
        );
    } else if default_workload {
        println!(
            "  librosa 0.11 reference: {LIBROSA_REFERENCE_SECONDS:.1} s for the same work on an idle \
             2-core machine -> ser is {:.1}x faster (30x would be {:.2} s)",
            LIBROSA_REFERENCE_SECONDS / wall,
            LIBROSA_REFERENCE_SECONDS / 30.0
        );
        println!(
            "  (reference from tools/bench_librosa.py; to time both sides on this machine now: \
             `NUMBA_CACHE_DIR=/tmp/numba python3 tools/bench_librosa.py --compare target/release/ser`)"
        );
    } else {
        println!(
            "  librosa 0.11 reference: {LIBROSA_REFERENCE_SECONDS:.1} s for all \
             {LIBROSA_REFERENCE_FILES} TESS clips at 22050 Hz / 40 MFCC (an idle 2-core machine); \
             this run does other work, so pass --librosa-seconds from tools/bench_librosa.py \
             with the same options for a ratio"
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(load) = load_before.filter(|&load| load >= 1.0) {
        println!(
            "  note: load average was {load:.1} on {cores} cores before the run: other work \
             shares the CPU, so these figures are slower than on an idle machine"
        );
    }
    Ok(ExitCode::SUCCESS)
}
