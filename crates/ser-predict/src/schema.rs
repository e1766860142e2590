//! The result schema shared by every output: JSON lines, CSV, the table and the HTTP API.
//! Field names are part of the public interface; `tests/schema.rs` pins them.

use std::fmt;

use ser_audio::voice::SpeechVerdict;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The result for one recording. Every field is always present; on failure `error` holds the
/// reason and the prediction fields are `null` / empty, so consumers see one stable shape.
///
/// A recording without speech (`no_speech`) or with too little of it (`too_short`) is an
/// answer, not a failure: `emotion`, `confidence` are `null` and `probabilities` is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The input as the user named it (path, `-` for stdin, or the uploaded file name).
    pub file: String,
    pub duration_seconds: Option<f64>,
    /// Seconds of speech found (see `ser_audio::voice`); for segmented recordings the sum over
    /// the segments.
    pub speech_seconds: Option<f64>,
    /// No speech at all: silence, noise, hum, tones, clicks.
    pub no_speech: bool,
    /// Speech, but less than the minimum needed to judge an emotion (or a recording shorter
    /// than that minimum).
    pub too_short: bool,
    /// The most probable label overall.
    pub emotion: Option<String>,
    /// The probability of `emotion`.
    pub confidence: Option<f32>,
    /// `confidence` is below the uncertainty threshold: read `emotion` as a guess.
    pub uncertain: bool,
    /// Probability per label, in the model's label order. For segmented recordings this is the
    /// duration-weighted mean over the segments with speech.
    pub probabilities: Probabilities,
    /// Speech segments with their own prediction; empty when the recording was not split.
    pub segments: Vec<SegmentPrediction>,
    pub error: Option<String>,
}

/// The prediction for one speech segment of a longer recording, with the same flags as a
/// whole recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentPrediction {
    pub start_seconds: f64,
    pub end_seconds: f64,
    pub speech_seconds: f64,
    pub no_speech: bool,
    pub too_short: bool,
    pub emotion: Option<String>,
    pub confidence: Option<f32>,
    pub uncertain: bool,
    pub probabilities: Probabilities,
}

/// What is said about one stretch of audio: an emotion with its probabilities, or why there
/// is none.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    no_speech: bool,
    too_short: bool,
    emotion: Option<String>,
    confidence: Option<f32>,
    uncertain: bool,
    probabilities: Probabilities,
}

impl Outcome {
    /// The emotion of `probabilities`, uncertain when its probability is below
    /// `uncertain_below`.
    pub(crate) fn emotion(probabilities: Probabilities, uncertain_below: f32) -> Self {
        let top = probabilities.top().map(|(label, p)| (label.to_owned(), p));
        Self {
            no_speech: false,
            too_short: false,
            uncertain: top.as_ref().is_some_and(|(_, p)| *p < uncertain_below),
            emotion: top.as_ref().map(|(label, _)| label.clone()),
            confidence: top.map(|(_, p)| p),
            probabilities,
        }
    }

    /// No emotion: no speech, or too little of it.
    pub(crate) fn without_emotion(verdict: SpeechVerdict) -> Self {
        Self {
            no_speech: verdict == SpeechVerdict::NoSpeech,
            too_short: verdict == SpeechVerdict::TooShort,
            emotion: None,
            confidence: None,
            uncertain: false,
            probabilities: Probabilities::default(),
        }
    }
}

impl Prediction {
    pub(crate) fn new(
        file: String,
        duration_seconds: f64,
        speech_seconds: f64,
        outcome: Outcome,
        segments: Vec<SegmentPrediction>,
    ) -> Self {
        Self {
            file,
            duration_seconds: Some(duration_seconds),
            speech_seconds: Some(speech_seconds),
            no_speech: outcome.no_speech,
            too_short: outcome.too_short,
            emotion: outcome.emotion,
            confidence: outcome.confidence,
            uncertain: outcome.uncertain,
            probabilities: outcome.probabilities,
            segments,
            error: None,
        }
    }

    /// A made-up prediction with every field set (one segment, probabilities over `labels`,
    /// only `error` null), for consumers that derive column types from a record, such as the
    /// Parquet schema of the Python package's Ray job.
    pub fn example(labels: &[String]) -> Self {
        let mut values = vec![0.5 / labels.len().max(1) as f32; labels.len()];
        if let Some(first) = values.first_mut() {
            *first += 0.5;
        }
        let outcome = Outcome::emotion(Probabilities::from_labels(labels, &values), 0.5);
        let segment = SegmentPrediction::new(0.0, 1.0, 1.0, outcome.clone());
        Self::new("example.wav".into(), 1.0, 1.0, outcome, vec![segment])
    }

    /// The record for a recording that could not be predicted.
    pub fn failed(file: String, error: String) -> Self {
        Self {
            file,
            duration_seconds: None,
            speech_seconds: None,
            no_speech: false,
            too_short: false,
            emotion: None,
            confidence: None,
            uncertain: false,
            probabilities: Probabilities::default(),
            segments: Vec::new(),
            error: Some(error),
        }
    }
}

impl SegmentPrediction {
    pub(crate) fn new(
        start_seconds: f64,
        end_seconds: f64,
        speech_seconds: f64,
        outcome: Outcome,
    ) -> Self {
        Self {
            start_seconds,
            end_seconds,
            speech_seconds,
            no_speech: outcome.no_speech,
            too_short: outcome.too_short,
            emotion: outcome.emotion,
            confidence: outcome.confidence,
            uncertain: outcome.uncertain,
            probabilities: outcome.probabilities,
        }
    }
}

/// Probability per label, kept in label order (a JSON object whose keys follow the model's
/// label order, not alphabetical order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probabilities(Vec<(String, f32)>);

impl Probabilities {
    /// Pairs `labels` with `values`; both come from the same model, so their lengths match.
    pub fn from_labels(labels: &[String], values: &[f32]) -> Self {
        Self(labels.iter().cloned().zip(values.iter().copied()).collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, f32)> {
        self.0.iter().map(|(label, p)| (label.as_str(), *p))
    }

    pub fn get(&self, label: &str) -> Option<f32> {
        self.iter().find(|(l, _)| *l == label).map(|(_, p)| p)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The most probable label; the first one wins a tie, so results are deterministic.
    pub fn top(&self) -> Option<(&str, f32)> {
        self.iter()
            .fold(None, |best: Option<(&str, f32)>, (label, p)| match best {
                Some((_, best_p)) if best_p >= p => best,
                _ => Some((label, p)),
            })
    }
}

impl Serialize for Probabilities {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (label, p) in &self.0 {
            map.serialize_entry(label, p)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Probabilities {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Probabilities;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object mapping labels to probabilities")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Probabilities, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(pair) = map.next_entry::<String, f32>()? {
                    pairs.push(pair);
                }
                Ok(Probabilities(pairs))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        ["b", "a", "c"].map(String::from).to_vec()
    }

    #[test]
    fn probabilities_keep_label_order_through_json() {
        let probabilities = Probabilities::from_labels(&labels(), &[0.2, 0.5, 0.3]);
        let json = serde_json::to_string(&probabilities).unwrap();
        assert_eq!(json, r#"{"b":0.2,"a":0.5,"c":0.3}"#);
        let back: Probabilities = serde_json::from_str(&json).unwrap();
        assert_eq!(back, probabilities);
    }

    #[test]
    fn example_sets_every_field_but_error() {
        let example = serde_json::to_value(Prediction::example(&labels())).unwrap();
        let segment = &example["segments"][0];
        for field in [
            "duration_seconds",
            "speech_seconds",
            "emotion",
            "confidence",
        ] {
            assert!(!example[field].is_null(), "{field}");
        }
        assert!(example["error"].is_null());
        assert_eq!(example["emotion"], "b");
        assert_eq!(example["probabilities"].as_object().unwrap().len(), 3);
        assert_eq!(segment["probabilities"], example["probabilities"]);
        assert!(segment["end_seconds"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn top_prefers_first_label_on_ties() {
        let probabilities = Probabilities::from_labels(&labels(), &[0.4, 0.4, 0.2]);
        assert_eq!(probabilities.top(), Some(("b", 0.4)));
        assert_eq!(Probabilities::default().top(), None);
    }
}
