//! `ser features`: librosa-compatible acoustic features for audio files, written as CSV, NPY
//! or JSON. Files are processed in parallel (rayon) with a progress bar.
//!
//! Layouts:
//! - frame level (default): CSV rows `file,frame,<feature columns>`; JSON
//!   `{config, feature_names, files: [{file, n_frames, features: [[row per feature]]}]}`;
//!   NPY: one input -> one (n_features x n_frames) float32 array at `--out`, several inputs ->
//!   `--out` is a folder with one `<parent>_<stem>.npy` per input (librosa layout).
//! - `--pool mean,std,...`: one utterance vector per file (feature-major: mfcc_0_mean,
//!   mfcc_0_std, ...). CSV rows `file,<columns>`; JSON `{..., files: [{file, vector}]}`;
//!   NPY: one (n_files x n_columns) float32 array, file order in `<out>.files.txt`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ParallelProgressIterator, ProgressBar, ProgressStyle};
use rayon::prelude::*;
use ser_features::{
    FeatureConfig, FeatureKind, FeatureMatrix, Statistic, pool_statistics, pooled_names,
};

use super::Verbosity;

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    ser features clip.wav --kind mfcc --out clip.csv\n  \
    ser features data/tess --kind all --delta-order 2 --pool mean,std --out tess.npy\n  \
    ser features a.wav b.wav --kind logmel --n-mels 64 --hop-length 256 --out mels/ --format npy\n\n\
    Parameters are named as in librosa and default to librosa's values (40 MFCC, sr 22050).")]
pub struct FeaturesArgs {
    /// Audio files, or folders to search for audio files.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Which features: mfcc, logmel, pitch (pYIN f0/voiced flag/probability) or all
    /// [default: mfcc, or the kind in --config].
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Output file (.csv, .npy, .json) or, for per-file NPY, a folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Output format; by default taken from the extension of --out.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Full extraction config as JSON (FeatureConfig); the flags below override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Target sample rate in Hz; 0 keeps each file's native rate.
    #[arg(long)]
    pub sr: Option<u32>,
    #[arg(long)]
    pub n_mfcc: Option<usize>,
    #[arg(long)]
    pub n_mels: Option<usize>,
    #[arg(long)]
    pub n_fft: Option<usize>,
    #[arg(long)]
    pub hop_length: Option<usize>,
    #[arg(long)]
    pub win_length: Option<usize>,
    /// Lowest mel frequency (Hz).
    #[arg(long)]
    pub fmin: Option<f64>,
    /// Highest mel frequency (Hz).
    #[arg(long)]
    pub fmax: Option<f64>,
    /// HTK mel scale instead of Slaney.
    #[arg(long)]
    pub htk: bool,
    /// Cepstral lifter (0 = none).
    #[arg(long)]
    pub lifter: Option<f64>,
    /// Append deltas (1) or deltas and delta-deltas (2).
    #[arg(long)]
    pub delta_order: Option<usize>,
    /// Delta window (odd, librosa default 9).
    #[arg(long)]
    pub width: Option<usize>,
    /// Pool each file into one vector: comma list of mean, std, min, max, pNN (e.g. p50).
    #[arg(long, value_delimiter = ',', value_parser = str::parse::<Statistic>)]
    pub pool: Vec<Statistic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    Mfcc,
    Logmel,
    Pitch,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Csv,
    Npy,
    Json,
}

impl FeaturesArgs {
    fn feature_config(&self) -> anyhow::Result<FeatureConfig> {
        let mut config = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("{}: cannot read", path.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("{}: not a valid feature config", path.display()))?
            }
            None => FeatureConfig::default(),
        };
        if let Some(kind) = self.kind {
            config.kind = match kind {
                KindArg::Mfcc => FeatureKind::Mfcc,
                KindArg::Logmel => FeatureKind::LogMel,
                KindArg::Pitch => FeatureKind::Pitch,
                KindArg::All => FeatureKind::All,
            };
        }
        if let Some(sr) = self.sr {
            config.audio.sample_rate = (sr != 0).then_some(sr);
        }
        let set = |target: &mut usize, value: Option<usize>| {
            if let Some(value) = value {
                *target = value;
            }
        };
        set(&mut config.mfcc.n_mfcc, self.n_mfcc);
        set(&mut config.mel.n_mels, self.n_mels);
        set(&mut config.stft.n_fft, self.n_fft);
        set(&mut config.stft.hop_length, self.hop_length);
        set(&mut config.deltas.order, self.delta_order);
        set(&mut config.deltas.width, self.width);
        if self.win_length.is_some() {
            config.stft.win_length = self.win_length;
        }
        if let Some(fmin) = self.fmin {
            config.mel.fmin = fmin;
        }
        if self.fmax.is_some() {
            config.mel.fmax = self.fmax;
        }
        if let Some(lifter) = self.lifter {
            config.mfcc.lifter = lifter;
        }
        config.mel.htk |= self.htk;
        Ok(config)
    }

    fn output_format(&self) -> anyhow::Result<FormatArg> {
        if let Some(format) = self.format {
            return Ok(format);
        }
        match self
            .out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(FormatArg::Csv),
            Some("npy") => Ok(FormatArg::Npy),
            Some("json") => Ok(FormatArg::Json),
            _ => bail!(
                "{}: cannot tell the output format from the name: use .csv, .npy, .json or --format",
                self.out.display()
            ),
        }
    }
}

/// One input's result, in input order.
struct FileFeatures {
    file: PathBuf,
    matrix: FeatureMatrix,
}

pub fn run(args: FeaturesArgs, verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    let config = args.feature_config()?;
    let format = args.output_format()?;
    let files = super::info::expand_inputs(&args.inputs)?;
    if files.is_empty() {
        bail!("no audio files found in the given inputs");
    }
    let bar = if verbosity.progress_bars() && files.len() > 1 {
        ProgressBar::new(files.len() as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} files  {per_sec}  eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let results: Vec<Result<FileFeatures, String>> = files
        .par_iter()
        .progress_with(bar.clone())
        .map(|file| {
            ser_audio::isolate(file, || config.extract_file(file))
                .map(|matrix| FileFeatures {
                    file: file.clone(),
                    matrix,
                })
                .map_err(|error| error.to_string())
        })
        .collect();
    bar.finish_and_clear();
    let mut done = Vec::with_capacity(results.len());
    let mut failures = 0usize;
    for result in results {
        match result {
            Ok(features) => done.push(features),
            Err(message) => {
                failures += 1;
                eprintln!("error: {message}");
            }
        }
    }
    if done.is_empty() {
        bail!("no file could be processed");
    }
    write_output(&args.out, format, &config, &args.pool, &done)?;
    if verbosity != Verbosity::Quiet {
        eprintln!(
            "wrote {} ({} files, {} features{}) to {}",
            format_name(format),
            done.len(),
            config.n_features(),
            if args.pool.is_empty() { "" } else { ", pooled" },
            args.out.display()
        );
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn format_name(format: FormatArg) -> &'static str {
    match format {
        FormatArg::Csv => "CSV",
        FormatArg::Npy => "NPY",
        FormatArg::Json => "JSON",
    }
}

fn write_output(
    out: &Path,
    format: FormatArg,
    config: &FeatureConfig,
    pool: &[Statistic],
    done: &[FileFeatures],
) -> anyhow::Result<()> {
    let names = config.feature_names();
    let pooled: Option<(Vec<String>, Vec<Vec<f32>>)> = (!pool.is_empty()).then(|| {
        let vectors = done
            .iter()
            .map(|f| pool_statistics(&f.matrix, pool))
            .collect();
        (pooled_names(&names, pool), vectors)
    });
    match format {
        FormatArg::Csv => write_csv(out, &names, pooled.as_ref(), done),
        FormatArg::Json => write_json(out, config, &names, pooled.as_ref(), done),
        FormatArg::Npy => write_npy_outputs(out, pooled.as_ref(), done),
    }
}

fn create(path: &Path) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("{}: cannot create", path.display()))?;
    Ok(std::io::BufWriter::new(file))
}

fn write_csv(
    out: &Path,
    names: &[String],
    pooled: Option<&(Vec<String>, Vec<Vec<f32>>)>,
    done: &[FileFeatures],
) -> anyhow::Result<()> {
    let mut writer = create(out)?;
    let csv_field = |text: String| {
        if text.contains([',', '"', '\n']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    };
    match pooled {
        Some((columns, vectors)) => {
            writeln!(writer, "file,{}", columns.join(","))?;
            for (features, vector) in done.iter().zip(vectors) {
                let values: Vec<String> = vector.iter().map(f32::to_string).collect();
                writeln!(
                    writer,
                    "{},{}",
                    csv_field(features.file.display().to_string()),
                    values.join(",")
                )?;
            }
        }
        None => {
            writeln!(writer, "file,frame,{}", names.join(","))?;
            for features in done {
                let file = csv_field(features.file.display().to_string());
                let matrix = &features.matrix;
                for frame in 0..matrix.n_frames {
                    let values: Vec<String> = (0..matrix.n_features)
                        .map(|f| matrix.data[f * matrix.n_frames + frame].to_string())
                        .collect();
                    writeln!(writer, "{file},{frame},{}", values.join(","))?;
                }
            }
        }
    }
    writer
        .flush()
        .with_context(|| format!("{}: cannot write", out.display()))
}

fn write_json(
    out: &Path,
    config: &FeatureConfig,
    names: &[String],
    pooled: Option<&(Vec<String>, Vec<Vec<f32>>)>,
    done: &[FileFeatures],
) -> anyhow::Result<()> {
    let files: Vec<serde_json::Value> = match pooled {
        Some((_, vectors)) => done
            .iter()
            .zip(vectors)
            .map(|(features, vector)| serde_json::json!({"file": features.file, "vector": vector}))
            .collect(),
        None => done
            .iter()
            .map(|features| {
                let rows: Vec<&[f32]> = (0..features.matrix.n_features).map(|f| features.matrix.row(f)).collect();
                serde_json::json!({"file": features.file, "n_frames": features.matrix.n_frames, "features": rows})
            })
            .collect(),
    };
    let document = serde_json::json!({
        "config": config,
        "feature_names": pooled.map_or(names, |(columns, _)| columns.as_slice()),
        "files": files,
    });
    let mut writer = create(out)?;
    serde_json::to_writer(&mut writer, &document)?;
    writer
        .flush()
        .with_context(|| format!("{}: cannot write", out.display()))
}

fn write_npy_outputs(
    out: &Path,
    pooled: Option<&(Vec<String>, Vec<Vec<f32>>)>,
    done: &[FileFeatures],
) -> anyhow::Result<()> {
    if let Some((columns, vectors)) = pooled {
        let data: Vec<f32> = vectors.concat();
        write_npy(out, vectors.len(), columns.len(), &data)?;
        let list: String = done
            .iter()
            .map(|f| format!("{}\n", f.file.display()))
            .collect();
        let list_path = PathBuf::from(format!("{}.files.txt", out.display()));
        return std::fs::write(&list_path, list)
            .with_context(|| format!("{}: cannot write", list_path.display()));
    }
    if let [single] = done {
        return write_npy(
            out,
            single.matrix.n_features,
            single.matrix.n_frames,
            &single.matrix.data,
        );
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("{}: cannot create folder", out.display()))?;
    for features in done {
        let stem = features
            .file
            .file_stem()
            .map_or_else(|| "audio".into(), |s| s.to_string_lossy().into_owned());
        let parent = features
            .file
            .parent()
            .and_then(Path::file_name)
            .map_or_else(String::new, |p| format!("{}_", p.to_string_lossy()));
        let matrix = &features.matrix;
        write_npy(
            &out.join(format!("{parent}{stem}.npy")),
            matrix.n_features,
            matrix.n_frames,
            &matrix.data,
        )?;
    }
    Ok(())
}

/// A 2-D little-endian float32 array in NPY format version 1.0.
fn write_npy(path: &Path, rows: usize, cols: usize, data: &[f32]) -> anyhow::Result<()> {
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + length (2) + header must be a multiple of 64, ending in '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut writer = create(path)?;
    writer.write_all(b"\x93NUMPY\x01\x00")?;
    writer.write_all(
        &u16::try_from(header.len())
            .context("NPY header too long")?
            .to_le_bytes(),
    )?;
    writer.write_all(header.as_bytes())?;
    for value in data {
        writer.write_all(&value.to_le_bytes())?;
    }
    writer
        .flush()
        .with_context(|| format!("{}: cannot write", path.display()))
}
