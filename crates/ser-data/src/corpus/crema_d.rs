//! CREMA-D: `<actor 1001..1091>_<sentence code>_<emotion ANG|DIS|FEA|HAP|NEU|SAD>_<level>.wav`.

use std::path::Path;

use super::{Parsed, clip, file_stem, misnamed, unmappable};
use crate::{CorpusKind, Emotion};

const SCHEME: &str = "CREMA-D <actor>_<sentence>_<emotion>_<level>";

/// The twelve CREMA-D sentences by their three-letter codes.
const SENTENCES: [(&str, &str); 12] = [
    ("IEO", "It's eleven o'clock"),
    ("TIE", "That is exactly what happened"),
    ("IOM", "I'm on my way to the meeting"),
    ("IWW", "I wonder what this is about"),
    ("TAI", "The airplane is almost full"),
    ("MTI", "Maybe tomorrow it will be cold"),
    ("IWL", "I would like a new alarm clock"),
    ("ITH", "I think I have a doctor's appointment"),
    ("DFA", "Don't forget a jacket"),
    ("ITS", "I think I've seen this before"),
    ("TSI", "The surface is slick"),
    ("WSI", "We'll stop in a couple of minutes"),
];

pub(super) fn parse(path: &Path) -> Parsed {
    let fields: Vec<&str> = file_stem(path).unwrap_or_default().split('_').collect();
    let [actor, sentence, emotion_code, _level] = fields.as_slice() else {
        return Err(misnamed(path, SCHEME));
    };
    if actor.is_empty() || !actor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(misnamed(path, SCHEME));
    }
    let emotion = Emotion::from_corpus_code(CorpusKind::CremaD, emotion_code)
        .map_err(|error| unmappable(path, emotion_code, error))?;
    let text = SENTENCES
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(sentence))
        .map(|(_, text)| text.to_string());
    Ok(clip(path, *actor, emotion, text))
}
