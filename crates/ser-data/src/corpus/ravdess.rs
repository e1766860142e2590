//! RAVDESS: `MM-VV-EE-II-SS-RR-AA.wav`, seven two-digit fields: modality, vocal channel
//! (speech/song), emotion (01..08), intensity, statement (01/02), repetition, actor (01..24).

use std::path::Path;

use super::{Parsed, clip, file_stem, misnamed, unmappable};
use crate::{CorpusKind, Emotion};

const SCHEME: &str = "RAVDESS MM-VV-EE-II-SS-RR-AA";

pub(super) fn parse(path: &Path) -> Parsed {
    let fields: Vec<&str> = file_stem(path).unwrap_or_default().split('-').collect();
    let is_two_digits =
        |field: &&str| field.len() == 2 && field.bytes().all(|b| b.is_ascii_digit());
    if fields.len() != 7 || !fields.iter().all(is_two_digits) {
        return Err(misnamed(path, SCHEME));
    }
    let emotion = Emotion::from_corpus_code(CorpusKind::Ravdess, fields[2])
        .map_err(|error| unmappable(path, fields[2], error))?;
    let text = match fields[4] {
        "01" => Some("Kids are talking by the door".to_string()),
        "02" => Some("Dogs are sitting by the door".to_string()),
        _ => None,
    };
    Ok(clip(path, format!("Actor_{}", fields[6]), emotion, text))
}
