//! The result schema shared by every output: JSON lines, CSV, the table and the HTTP API.
//! Field names are part of the public interface; `tests/schema.rs` pins them.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The result for one recording. Every field is always present; on failure `error` holds the
/// reason and the prediction fields are `null` / empty, so consumers see one stable shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The input as the user named it (path, `-` for stdin, or the uploaded file name).
    pub file: String,
    pub duration_seconds: Option<f64>,
    /// The most probable label overall.
    pub emotion: Option<String>,
    /// The probability of `emotion`.
    pub confidence: Option<f32>,
    /// Probability per label, in the model's label order. For segmented recordings this is the
    /// duration-weighted mean over the segments.
    pub probabilities: Probabilities,
    /// Speech segments with their own prediction; empty when the recording was not split.
    pub segments: Vec<SegmentPrediction>,
    pub error: Option<String>,
}

/// The prediction for one speech segment of a longer recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentPrediction {
    pub start_seconds: f64,
    pub end_seconds: f64,
    pub emotion: String,
    pub confidence: f32,
    pub probabilities: Probabilities,
}

impl Prediction {
    /// A successful prediction from an overall probability vector.
    pub fn new(
        file: String,
        duration_seconds: f64,
        probabilities: Probabilities,
        segments: Vec<SegmentPrediction>,
    ) -> Self {
        let top = probabilities.top();
        Self {
            file,
            duration_seconds: Some(duration_seconds),
            emotion: top.map(|(label, _)| label.to_owned()),
            confidence: top.map(|(_, p)| p),
            probabilities,
            segments,
            error: None,
        }
    }

    /// The record for a recording that could not be predicted.
    pub fn failed(file: String, error: String) -> Self {
        Self {
            file,
            duration_seconds: None,
            emotion: None,
            confidence: None,
            probabilities: Probabilities::default(),
            segments: Vec::new(),
            error: Some(error),
        }
    }
}

impl SegmentPrediction {
    pub fn new(start_seconds: f64, end_seconds: f64, probabilities: Probabilities) -> Self {
        let (emotion, confidence) = probabilities
            .top()
            .map(|(label, p)| (label.to_owned(), p))
            .unwrap_or_default();
        Self {
            start_seconds,
            end_seconds,
            emotion,
            confidence,
            probabilities,
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
    fn top_prefers_first_label_on_ties() {
        let probabilities = Probabilities::from_labels(&labels(), &[0.4, 0.4, 0.2]);
        assert_eq!(probabilities.top(), Some(("b", 0.4)));
        assert_eq!(Probabilities::default().top(), None);
    }
}
