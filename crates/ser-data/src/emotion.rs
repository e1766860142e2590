use serde::{Deserialize, Serialize};

use crate::CorpusKind;

/// The seven emotions of TESS, the label set every corpus is mapped onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Emotion {
    Angry,
    Disgust,
    Fear,
    Happy,
    Neutral,
    PleasantSurprise,
    Sad,
}

/// Why a corpus label could not be mapped onto the seven TESS emotions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("unknown emotion label '{0}'")]
    Unknown(String),
    #[error("emotion '{0}' has no counterpart among the seven TESS emotions")]
    NoCounterpart(String),
}

impl Emotion {
    /// All emotions in label-index order.
    pub const ALL: [Emotion; 7] = [
        Emotion::Angry,
        Emotion::Disgust,
        Emotion::Fear,
        Emotion::Happy,
        Emotion::Neutral,
        Emotion::PleasantSurprise,
        Emotion::Sad,
    ];

    /// Stable machine name, as used in bundles, JSON and CSV output.
    pub fn as_str(self) -> &'static str {
        match self {
            Emotion::Angry => "angry",
            Emotion::Disgust => "disgust",
            Emotion::Fear => "fear",
            Emotion::Happy => "happy",
            Emotion::Neutral => "neutral",
            Emotion::PleasantSurprise => "pleasant_surprise",
            Emotion::Sad => "sad",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The emotion with this label index, if any.
    pub fn from_index(index: usize) -> Option<Emotion> {
        Emotion::ALL.get(index).copied()
    }

    /// Maps an emotion *name* from any supported corpus onto the TESS taxonomy,
    /// case-insensitively; spaces and hyphens count as underscores.
    ///
    /// Accepts the TESS tokens and folder words (`ps`, `pleasant_surprised`, ...), the
    /// English names and adjectives used by RAVDESS/SAVEE/manifests (`anger`, `fearful`,
    /// `surprised`, `calm`, ...) and the CREMA-D codes (`ANG`, `DIS`, `FEA`, `HAP`, `NEU`,
    /// `SAD`). Calm counts as neutral and surprise as pleasant surprise. Boredom is a known
    /// emotion without a counterpart and yields [`LabelError::NoCounterpart`].
    /// Single-letter or numeric codes are corpus-specific (SAVEE `a` is anger, EmoDB `A` is
    /// fear): map those with [`Emotion::from_corpus_code`].
    pub fn parse(label: &str) -> Result<Emotion, LabelError> {
        let normalized = label.trim().to_lowercase().replace([' ', '-'], "_");
        let emotion = match normalized.as_str() {
            "angry" | "anger" | "ang" => Emotion::Angry,
            "disgust" | "disgusted" | "dis" => Emotion::Disgust,
            "fear" | "fearful" | "fea" | "afraid" => Emotion::Fear,
            "happy" | "happiness" | "hap" | "joy" => Emotion::Happy,
            "neutral" | "neu" | "calm" => Emotion::Neutral,
            "ps" | "pleasant_surprise" | "pleasant_surprised" | "surprise" | "surprised"
            | "sur" => Emotion::PleasantSurprise,
            "sad" | "sadness" => Emotion::Sad,
            "boredom" | "bored" => return Err(LabelError::NoCounterpart(label.to_string())),
            _ => return Err(LabelError::Unknown(label.to_string())),
        };
        Ok(emotion)
    }

    /// Maps the emotion code found in a corpus' file names onto the TESS taxonomy
    /// (case-insensitive):
    /// - RAVDESS `01`..`08`: neutral, calm (-> neutral), happy, sad, angry, fearful,
    ///   disgust, surprised (-> pleasant surprise);
    /// - CREMA-D `ANG`, `DIS`, `FEA`, `HAP`, `NEU`, `SAD`;
    /// - SAVEE `a`, `d`, `f`, `h`, `n`, `sa`, `su`;
    /// - EmoDB (German initials) `W` anger, `L` boredom (no counterpart), `E` disgust,
    ///   `A` fear, `F` happiness, `T` sadness, `N` neutral;
    /// - TESS and manifests: any name [`Emotion::parse`] accepts.
    pub fn from_corpus_code(kind: CorpusKind, code: &str) -> Result<Emotion, LabelError> {
        let unknown = || LabelError::Unknown(format!("{} code '{code}'", kind.as_str()));
        let lower = code.trim().to_lowercase();
        let emotion = match kind {
            CorpusKind::Tess | CorpusKind::CremaD | CorpusKind::Manifest => {
                return Emotion::parse(code);
            }
            CorpusKind::Ravdess => match lower.as_str() {
                "01" | "02" => Emotion::Neutral,
                "03" => Emotion::Happy,
                "04" => Emotion::Sad,
                "05" => Emotion::Angry,
                "06" => Emotion::Fear,
                "07" => Emotion::Disgust,
                "08" => Emotion::PleasantSurprise,
                _ => return Err(unknown()),
            },
            CorpusKind::Savee => match lower.as_str() {
                "a" => Emotion::Angry,
                "d" => Emotion::Disgust,
                "f" => Emotion::Fear,
                "h" => Emotion::Happy,
                "n" => Emotion::Neutral,
                "sa" => Emotion::Sad,
                "su" => Emotion::PleasantSurprise,
                _ => return Err(unknown()),
            },
            CorpusKind::EmoDb => match lower.as_str() {
                "w" => Emotion::Angry,
                "e" => Emotion::Disgust,
                "a" => Emotion::Fear,
                "f" => Emotion::Happy,
                "n" => Emotion::Neutral,
                "t" => Emotion::Sad,
                "l" => return Err(LabelError::NoCounterpart(format!("{code} (boredom)"))),
                _ => return Err(unknown()),
            },
        };
        Ok(emotion)
    }
}

impl std::fmt::Display for Emotion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Emotion {
    type Err = LabelError;

    fn from_str(label: &str) -> Result<Self, Self::Err> {
        Emotion::parse(label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_machine_name_round_trips() {
        for emotion in Emotion::ALL {
            assert_eq!(Emotion::parse(emotion.as_str()), Ok(emotion));
            assert_eq!(Emotion::from_index(emotion.index()), Some(emotion));
        }
        assert_eq!(Emotion::from_index(7), None);
    }

    #[test]
    fn names_from_every_corpus_map_case_insensitively() {
        let cases = [
            ("PS", Emotion::PleasantSurprise),
            ("Pleasant_surprise", Emotion::PleasantSurprise),
            ("pleasant surprised", Emotion::PleasantSurprise),
            ("Surprised", Emotion::PleasantSurprise),
            ("calm", Emotion::Neutral),
            ("Fearful", Emotion::Fear),
            ("ANG", Emotion::Angry),
            ("DIS", Emotion::Disgust),
            ("FEA", Emotion::Fear),
            ("HAP", Emotion::Happy),
            ("NEU", Emotion::Neutral),
            ("SAD", Emotion::Sad),
            ("sadness", Emotion::Sad),
        ];
        for (label, expected) in cases {
            assert_eq!(label.parse::<Emotion>(), Ok(expected), "label {label}");
        }
        assert!(matches!(
            Emotion::parse("boredom"),
            Err(LabelError::NoCounterpart(_))
        ));
        assert!(matches!(
            Emotion::parse("contempt"),
            Err(LabelError::Unknown(_))
        ));
    }

    #[test]
    fn corpus_codes_follow_the_published_schemes() {
        use CorpusKind::*;
        let ravdess: Vec<_> = (1..=8)
            .map(|code| Emotion::from_corpus_code(Ravdess, &format!("{code:02}")).unwrap())
            .collect();
        assert_eq!(
            ravdess,
            [
                Emotion::Neutral,
                Emotion::Neutral,
                Emotion::Happy,
                Emotion::Sad,
                Emotion::Angry,
                Emotion::Fear,
                Emotion::Disgust,
                Emotion::PleasantSurprise
            ]
        );
        assert!(Emotion::from_corpus_code(Ravdess, "09").is_err());
        let savee = ["a", "d", "f", "h", "n", "SA", "su"]
            .map(|code| Emotion::from_corpus_code(Savee, code).unwrap());
        assert_eq!(
            savee,
            [
                Emotion::Angry,
                Emotion::Disgust,
                Emotion::Fear,
                Emotion::Happy,
                Emotion::Neutral,
                Emotion::Sad,
                Emotion::PleasantSurprise
            ]
        );
        let emodb = ["W", "E", "A", "F", "N", "T"]
            .map(|code| Emotion::from_corpus_code(EmoDb, code).unwrap());
        assert_eq!(
            emodb,
            [
                Emotion::Angry,
                Emotion::Disgust,
                Emotion::Fear,
                Emotion::Happy,
                Emotion::Neutral,
                Emotion::Sad
            ]
        );
        assert!(matches!(
            Emotion::from_corpus_code(EmoDb, "L"),
            Err(LabelError::NoCounterpart(_))
        ));
        assert_eq!(Emotion::from_corpus_code(CremaD, "FEA"), Ok(Emotion::Fear));
    }
}
