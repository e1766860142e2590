use serde::{Deserialize, Serialize};

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
}

impl std::fmt::Display for Emotion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
