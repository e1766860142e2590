//! Turning command-line arguments into the recordings to predict.

use std::fmt;
use std::path::{Path, PathBuf};

/// File extensions (lower case) picked up when a folder is given. Files named explicitly are
/// always tried, whatever their extension: the decoder sniffs the content.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "mp3", "ogg", "oga", "aif", "aiff", "aifc", "m4a", "mp4", "caf", "mka",
    "mkv", "webm",
];

/// One recording to predict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    /// The bytes on standard input (`-`).
    Stdin,
}

impl Input {
    /// The name shown in results: the path as found, or `-`.
    pub fn name(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Stdin => "-".to_owned(),
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// An argument that names no recording (missing path, empty folder, pattern without matches).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{argument}: {reason}")]
pub struct InputError {
    pub argument: String,
    pub reason: String,
}

/// Expands arguments in order: `-` is stdin, a folder gives its audio files (recursively,
/// sorted), an existing file is itself, anything else with `*`, `?` or `[` is a glob pattern.
/// Arguments that name nothing become errors in place, so the caller can report them among
/// the results and carry on with the rest.
pub fn expand_inputs(arguments: &[PathBuf]) -> Vec<Result<Input, InputError>> {
    let mut inputs = Vec::new();
    for argument in arguments {
        if argument.as_os_str() == "-" {
            inputs.push(Ok(Input::Stdin));
        } else if argument.is_dir() {
            push_folder(argument, &mut inputs);
        } else if argument.exists() {
            inputs.push(Ok(Input::File(argument.clone())));
        } else if let Some(pattern) = argument.to_str().filter(|s| is_glob(s)) {
            push_glob(pattern, &mut inputs);
        } else {
            inputs.push(Err(error(argument, "no such file or directory")));
        }
    }
    inputs
}

fn is_glob(argument: &str) -> bool {
    argument.contains(['*', '?', '['])
}

fn error(argument: &Path, reason: impl Into<String>) -> InputError {
    InputError {
        argument: argument.display().to_string(),
        reason: reason.into(),
    }
}

fn push_folder(folder: &Path, inputs: &mut Vec<Result<Input, InputError>>) {
    let mut files = Vec::new();
    match collect_audio_files(folder, &mut files) {
        Err(e) => inputs.push(Err(error(folder, format!("cannot list folder: {e}")))),
        Ok(()) if files.is_empty() => inputs.push(Err(error(folder, "no audio files in folder"))),
        Ok(()) => {
            files.sort();
            inputs.extend(files.into_iter().map(|path| Ok(Input::File(path))));
        }
    }
}

fn collect_audio_files(folder: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_audio_files(&path, files)?;
        } else if has_audio_extension(&path) {
            files.push(path);
        }
    }
    Ok(())
}

fn has_audio_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn push_glob(pattern: &str, inputs: &mut Vec<Result<Input, InputError>>) {
    let paths = match glob::glob(pattern) {
        Ok(paths) => paths,
        Err(e) => {
            inputs.push(Err(error(Path::new(pattern), format!("bad pattern: {e}"))));
            return;
        }
    };
    let before = inputs.len();
    for path in paths {
        match path {
            Ok(path) if path.is_dir() => push_folder(&path, inputs),
            Ok(path) => inputs.push(Ok(Input::File(path))),
            Err(e) => inputs.push(Err(error(e.path(), e.error().to_string()))),
        }
    }
    if inputs.len() == before {
        inputs.push(Err(error(Path::new(pattern), "pattern matched no files")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    #[test]
    fn folders_globs_stdin_and_missing_paths_expand_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("set/b.wav"));
        touch(&root.join("set/a.FLAC"));
        touch(&root.join("set/deep/c.mp3"));
        touch(&root.join("set/notes.txt"));
        touch(&root.join("x1.wav"));
        touch(&root.join("x2.wav"));
        std::fs::create_dir_all(root.join("empty")).unwrap();

        let arguments = [
            root.join("set"),
            PathBuf::from("-"),
            root.join("x*.wav"),
            root.join("set/notes.txt"),
            root.join("missing.wav"),
            root.join("none*.wav"),
            root.join("empty"),
        ];
        let expanded = expand_inputs(&arguments);
        let file = |p: &str| Ok(Input::File(root.join(p)));
        let failed = |p: &str, reason: &str| Err(error(&root.join(p), reason));
        assert_eq!(
            expanded,
            vec![
                file("set/a.FLAC"),
                file("set/b.wav"),
                file("set/deep/c.mp3"),
                Ok(Input::Stdin),
                file("x1.wav"),
                file("x2.wav"),
                file("set/notes.txt"),
                failed("missing.wav", "no such file or directory"),
                failed("none*.wav", "pattern matched no files"),
                failed("empty", "no audio files in folder"),
            ]
        );
    }
}
