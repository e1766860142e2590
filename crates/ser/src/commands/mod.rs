//! One module per subcommand: its clap arguments and its `run`.

pub mod bench;
pub mod bench_predict;
pub mod bench_serve;
pub mod bench_train;
pub mod eval;
pub mod experiment;
pub mod features;
pub mod info;
pub mod model;
pub mod predict;
pub mod serve;
pub mod train;

/// How chatty the command line is, from `-v`/`--quiet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose(u8),
}

impl Verbosity {
    pub fn from_flags(verbose: u8, quiet: bool) -> Self {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, n) => Verbosity::Verbose(n),
        }
    }

    /// Progress bars are shown unless quiet or stderr is not a terminal.
    pub fn progress_bars(self) -> bool {
        self != Verbosity::Quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())
    }
}

pub fn init_logging(verbosity: Verbosity) {
    let level = match verbosity {
        Verbosity::Quiet => "error",
        Verbosity::Normal => "warn",
        Verbosity::Verbose(1) => "info",
        Verbosity::Verbose(_) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SER_LOG")
        // symphonia logs every failed probe as an ERROR; ser-audio already reports it typed.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!("{level},symphonia_core=off"))
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The corpora a command reads: `--corpus KIND[=PATH]` (repeatable) and, for one corpus,
/// `--data PATH`.
#[derive(clap::Args)]
pub struct CorpusArgs {
    /// Corpus to read, as KIND or KIND=PATH (kinds: tess, ravdess, crema-d, savee, emodb,
    /// manifest); repeat it to use several corpora at once. Without a path: TESS from
    /// <data dir>/tess, any other kind from <data dir>/<kind> (SER_DATA_DIR).
    #[arg(long = "corpus", value_name = "KIND[=PATH]", default_value = "tess")]
    pub corpora: Vec<ser_data::CorpusSource>,
    /// Folder (or manifest CSV) of a single --corpus given without a path.
    #[arg(long)]
    pub data: Option<std::path::PathBuf>,
}

impl CorpusArgs {
    pub fn sources(&self) -> anyhow::Result<Vec<ser_data::CorpusSource>> {
        let mut sources = self.corpora.clone();
        if let Some(data) = &self.data {
            match sources.as_mut_slice() {
                [only] if only.path.is_none() => only.path = Some(data.clone()),
                _ => anyhow::bail!(
                    "--data names the folder of a single corpus; with several, write --corpus KIND=PATH"
                ),
            }
        }
        Ok(sources)
    }
}

/// Clips a run left out because their files cannot be used, one line each on stderr (even
/// with --quiet: they are problems with the user's data).
pub fn report_skipped(clips: &[ser_data::SkippedClip]) {
    for clip in clips {
        eprintln!("warning: clip left out: {}", clip.reason);
    }
}
