//! Shared walk for corpora whose labels live in their file and folder names.

use std::path::{Path, PathBuf};

use super::Parsed;
use crate::{Clip, DataError, UnmappedClip};

/// Extensions of the audio files the loaders pick up (case-insensitive).
pub(super) const AUDIO_EXTENSIONS: [&str; 2] = ["wav", "flac"];

/// Walks `root` recursively and labels every audio file with `parse`, sorted by path.
pub(super) fn load(
    root: &Path,
    parse: fn(&Path) -> Parsed,
) -> Result<(Vec<Clip>, Vec<UnmappedClip>), DataError> {
    let mut files = Vec::new();
    collect_audio_files(root, &mut files)?;
    files.sort();
    let mut clips = Vec::new();
    let mut unmapped = Vec::new();
    for file in files {
        match parse(&file) {
            Ok(clip) => clips.push(clip),
            Err(reason) => unmapped.push(reason),
        }
    }
    Ok((clips, unmapped))
}

fn collect_audio_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let path = entry.path();
        // Hidden files include macOS "._name.wav" resource forks, which are not audio.
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_audio_files(&path, files)?;
        } else if is_audio_file(&path) {
            files.push(path);
        }
    }
    Ok(())
}

fn is_audio_file(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| {
            AUDIO_EXTENSIONS
                .iter()
                .any(|known| ext.eq_ignore_ascii_case(known))
        })
}
