//! `ser info`: what the decoder finds in each audio file (container, codec, rate, channels,
//! bits, frames, duration), found from the content rather than the file name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ser_audio::{AudioError, AudioInfo, AudioStream};

use super::Verbosity;

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  ser info clip.wav\n  ser info recordings/ --format json")]
pub struct InfoArgs {
    /// Audio files, or folders to search for audio files.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output format: an aligned table, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

pub fn run(args: InfoArgs, _verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    print_facts(&args.inputs, args.format)
}

/// Decode every input and print its facts. A broken file gets an error line naming it and the
/// run goes on; the exit code is non-zero if any file failed.
pub fn print_facts(inputs: &[PathBuf], format: OutputFormat) -> anyhow::Result<ExitCode> {
    let files = expand_inputs(inputs)?;
    let mut out = std::io::stdout().lock();
    // The file column fits the longest path, so the other columns line up.
    let width = files
        .iter()
        .map(|file| file.display().to_string().chars().count())
        .max()
        .unwrap_or(0)
        .max("file".len());
    if format == OutputFormat::Table {
        writeln!(
            out,
            "{:<width$} {:<9} {:<10} {:>7} {:>3} {:>4} {:>10} {:>9}",
            "file", "container", "codec", "rate", "ch", "bits", "frames", "seconds"
        )?;
    }
    let mut failures = 0usize;
    for file in &files {
        match ser_audio::isolate(file, || scan(file)) {
            Ok(info) => match format {
                OutputFormat::Table => writeln!(
                    out,
                    "{:<width$} {:<9} {:<10} {:>7} {:>3} {:>4} {:>10} {:>9.3}",
                    file.display(),
                    info.container,
                    info.codec,
                    info.sample_rate,
                    info.channels,
                    info.bits_per_sample
                        .map_or_else(|| "-".to_string(), |b| b.to_string()),
                    info.frames,
                    info.duration_seconds()
                )?,
                OutputFormat::Json => {
                    let line = FactsLine {
                        file,
                        duration_seconds: info.duration_seconds(),
                        info: &info,
                    };
                    writeln!(out, "{}", serde_json::to_string(&line)?)?;
                }
            },
            Err(error) => {
                failures += 1;
                match format {
                    OutputFormat::Table => {
                        out.flush()?;
                        eprintln!("error: {error}");
                    }
                    OutputFormat::Json => {
                        let line = ErrorLine {
                            file,
                            error: error.to_string(),
                        };
                        writeln!(out, "{}", serde_json::to_string(&line)?)?;
                    }
                }
            }
        }
    }
    out.flush()?;
    if failures > 0 {
        eprintln!("{failures} of {} files could not be decoded", files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct FactsLine<'a> {
    file: &'a Path,
    #[serde(flatten)]
    info: &'a AudioInfo,
    duration_seconds: f64,
}

#[derive(serde::Serialize)]
struct ErrorLine<'a> {
    file: &'a Path,
    error: String,
}

/// Decode the whole stream (so the frame count is the real one, not the header's claim)
/// without keeping the samples.
fn scan(path: &Path) -> Result<AudioInfo, AudioError> {
    let mut stream = AudioStream::open(path)?;
    for chunk in stream.by_ref() {
        chunk?;
    }
    Ok(stream.info().clone())
}

/// File extensions searched for inside folders (files named explicitly are always tried,
/// whatever their name: the format is found from the content).
const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "aif", "aiff", "aifc", "mp3", "ogg", "oga", "m4a", "mp4", "caf", "mka",
    "mkv", "webm",
];

/// Files as given, folders replaced by the audio files under them (sorted).
pub(crate) fn expand_inputs(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let start = files.len();
            collect_audio_files(input, &mut files)?;
            files[start..].sort();
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

fn collect_audio_files(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot list folder: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect_audio_files(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}
