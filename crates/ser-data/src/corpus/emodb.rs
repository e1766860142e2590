//! Berlin EmoDB: `<speaker 2 digits><text code a01..b10><emotion letter><version>.wav`,
//! e.g. `03a01Fa.wav`. Boredom (`L`) has no TESS counterpart and is reported as unmapped.

use std::path::Path;

use super::{Parsed, clip, file_stem, misnamed, unmappable};
use crate::{CorpusKind, Emotion};

const SCHEME: &str = "EmoDB <speaker><text><emotion><version> (e.g. 03a01Fa)";

/// The ten EmoDB sentences by their text codes.
const SENTENCES: [(&str, &str); 10] = [
    ("a01", "Der Lappen liegt auf dem Eisschrank."),
    ("a02", "Das will sie am Mittwoch abgeben."),
    ("a04", "Heute abend könnte ich es ihm sagen."),
    (
        "a05",
        "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    ),
    ("a07", "In sieben Stunden wird es soweit sein."),
    (
        "b01",
        "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    ),
    (
        "b02",
        "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    ),
    (
        "b03",
        "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    ),
    (
        "b09",
        "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    ),
    (
        "b10",
        "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
    ),
];

pub(super) fn parse(path: &Path) -> Parsed {
    let stem = file_stem(path).unwrap_or_default();
    let well_formed = stem.len() == 7
        && stem.is_ascii()
        && stem[..2].bytes().all(|b| b.is_ascii_digit())
        && stem[3..5].bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(misnamed(path, SCHEME));
    }
    let (speaker, text_code, emotion_code) = (&stem[..2], &stem[2..5], &stem[5..6]);
    let emotion = Emotion::from_corpus_code(CorpusKind::EmoDb, emotion_code)
        .map_err(|error| unmappable(path, emotion_code, error))?;
    let text = SENTENCES
        .iter()
        .find(|(code, _)| *code == text_code)
        .map(|(_, text)| text.to_string());
    Ok(clip(path, speaker, emotion, text))
}
