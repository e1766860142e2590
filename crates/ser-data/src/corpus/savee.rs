//! SAVEE: speakers DC, JE, JK, KL; emotion code `a`, `d`, `f`, `h`, `n`, `sa`, `su` followed
//! by a sentence number. Both layouts are read: the original `AudioData/<SPK>/<code><nn>.wav`
//! and the flat `<SPK>_<code><nn>.wav` of common re-distributions.

use std::path::Path;

use super::{Parsed, clip, file_stem, misnamed, unmappable};
use crate::{CorpusKind, Emotion};

const SCHEME: &str = "SAVEE [<speaker>_]<emotion code><number>";

pub(super) fn parse(path: &Path) -> Parsed {
    let stem = file_stem(path).unwrap_or_default();
    let (speaker, utterance) = match stem.split_once('_') {
        Some((speaker, utterance)) => (speaker.to_string(), utterance),
        None => {
            let folder = path
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|name| name.to_str())
                .unwrap_or_default();
            (folder.to_string(), stem)
        }
    };
    let code_length = utterance
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(utterance.len());
    let (code, number) = utterance.split_at(code_length);
    if speaker.is_empty() || code.is_empty() || number.is_empty() {
        return Err(misnamed(path, SCHEME));
    }
    let emotion = Emotion::from_corpus_code(CorpusKind::Savee, code)
        .map_err(|error| unmappable(path, code, error))?;
    Ok(clip(path, speaker.to_uppercase(), emotion, None))
}
