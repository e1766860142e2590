//! TESS: `<SPK>_<emotion folder>/<SPK>_<word>_<emotion>.wav|flac`, as in the widely used
//! release, including its inconsistent folder names (`OAF_Fear`, `YAF_pleasant_surprised`)
//! and the `OA_bite_neutral` file whose speaker prefix lost its last letter.

use std::path::Path;

use super::{Parsed, clip, file_stem, misnamed, unmappable};
use crate::{CorpusKind, Emotion};

const SCHEME: &str = "TESS <speaker>_<word>_<emotion>";

pub(super) fn parse(path: &Path) -> Parsed {
    let Some(stem) = file_stem(path) else {
        return Err(misnamed(path, SCHEME));
    };
    let tokens: Vec<&str> = stem.split('_').collect();
    let [speaker_token, word_tokens @ .., emotion_token] = tokens.as_slice() else {
        return Err(misnamed(path, SCHEME));
    };
    if word_tokens.is_empty() || speaker_token.is_empty() {
        return Err(misnamed(path, SCHEME));
    }
    let folder = FolderLabel::of(path);
    // The file name is authoritative; the folder only fills in what the name lacks.
    let emotion = match Emotion::from_corpus_code(CorpusKind::Tess, emotion_token) {
        Ok(emotion) => emotion,
        Err(error) => match folder.as_ref().and_then(|f| f.emotion) {
            Some(emotion) => emotion,
            None => return Err(unmappable(path, emotion_token, error)),
        },
    };
    let speaker_token = speaker_token.to_uppercase();
    // `OA_bite_neutral` sits in `OAF_neutral`: a speaker token that is a prefix of the
    // folder's speaker is that speaker.
    let speaker = match folder {
        Some(folder) if folder.speaker.starts_with(&speaker_token) => folder.speaker,
        _ => speaker_token,
    };
    Ok(clip(path, speaker, emotion, Some(word_tokens.join("_"))))
}

/// What a `<SPK>_<emotion words>` folder name says.
struct FolderLabel {
    speaker: String,
    emotion: Option<Emotion>,
}

impl FolderLabel {
    fn of(path: &Path) -> Option<FolderLabel> {
        let name = path.parent()?.file_name()?.to_str()?;
        let (speaker, emotion_words) = name.split_once('_')?;
        Some(FolderLabel {
            speaker: speaker.to_uppercase(),
            emotion: Emotion::parse(emotion_words).ok(),
        })
    }
}
