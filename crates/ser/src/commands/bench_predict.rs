//! `ser bench predict`: cold-start wall time of `ser predict one.wav` and batch throughput.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use ser_predict::{PredictOptions, expand_inputs, predict_inputs};

#[derive(clap::Args)]
pub struct BenchPredictArgs {
    /// Files or folders for the batch figure (default: the TESS folder, $SER_DATA_DIR/tess).
    pub inputs: Vec<PathBuf>,
    /// Model bundle (default: $SER_MODEL, else the model built into ser).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Only the first N files of the batch.
    #[arg(long, default_value_t = 500)]
    pub limit: usize,
    /// Cold runs of `ser predict` on one clip.
    #[arg(long, default_value_t = 5)]
    pub cold_runs: usize,
}

/// The TESS folder: `$SER_DATA_DIR/tess`, else `../shared/data/tess` from the current folder.
fn tess_dir() -> anyhow::Result<PathBuf> {
    let data = std::env::var_os("SER_DATA_DIR")
        .map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from);
    let tess = data.join("tess");
    if !tess.is_dir() {
        bail!(
            "TESS not found at {} (set SER_DATA_DIR or name the inputs)",
            tess.display()
        );
    }
    Ok(tess)
}

/// A ~2-s TESS clip, the size the benchmark goals are stated for.
pub fn default_clip() -> anyhow::Result<PathBuf> {
    Ok(tess_dir()?.join("OAF_happy/OAF_back_happy.flac"))
}

pub fn run(args: BenchPredictArgs) -> anyhow::Result<ExitCode> {
    let clip = default_clip()?;
    let exe = std::env::current_exe().context("cannot find the ser executable")?;
    let mut cold = Vec::with_capacity(args.cold_runs);
    for _ in 0..args.cold_runs.max(1) {
        let mut command = Command::new(&exe);
        command
            .args(["predict", "--quiet", "--format", "jsonl"])
            .arg(&clip);
        if let Some(model) = &args.model {
            command.arg("--model").arg(model);
        }
        let started = Instant::now();
        let status = command.stdout(Stdio::null()).status()?;
        cold.push(started.elapsed().as_secs_f64() * 1e3);
        if !status.success() {
            bail!("`ser predict {}` failed ({status})", clip.display());
        }
    }
    cold.sort_by(f64::total_cmp);
    println!(
        "cold `ser predict one.wav`: median {:.1} ms, best {:.1} ms over {} runs   (goal <= 100 ms)",
        cold[cold.len() / 2],
        cold[0],
        cold.len()
    );

    let arguments = if args.inputs.is_empty() {
        vec![tess_dir()?]
    } else {
        args.inputs
    };
    let inputs: Vec<_> = expand_inputs(&arguments)
        .into_iter()
        .take(args.limit)
        .collect();
    let model = ser_predict::load_model(args.model.as_deref()).context("cannot load the model")?;
    let started = Instant::now();
    let summary = predict_inputs(&model, &inputs, &PredictOptions::default(), |_| Ok(()))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "batch: {} files ({} failed) in {:.2} s: {:.1} files/s on {} threads",
        inputs.len(),
        summary.failed,
        seconds,
        inputs.len() as f64 / seconds,
        rayon::current_num_threads()
    );
    Ok(ExitCode::SUCCESS)
}
