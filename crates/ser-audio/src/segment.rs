//! Energy-based speech segmentation for long recordings: find the stretches loud enough to
//! be speech, bridge short pauses, drop blips, and cut over-long stretches into pieces a
//! model can take.

use serde::{Deserialize, Serialize};

use crate::Audio;
use crate::energy::non_silent_intervals;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentConfig {
    /// Frames more than this many dB below the loudest frame are silence
    /// (`librosa.effects.split` semantics).
    pub top_db: f32,
    /// Frames quieter than this (dB relative to full scale) are silence whatever the peak,
    /// so a silent or hum-only recording yields no segments.
    pub floor_dbfs: f32,
    pub frame_length: usize,
    pub hop_length: usize,
    /// Speech shorter than this (after bridging pauses) is dropped as a click or breath.
    pub min_speech_seconds: f32,
    /// Pauses shorter than this do not split a segment.
    pub min_silence_seconds: f32,
    /// Longer segments are cut into equal pieces no longer than this.
    pub max_segment_seconds: f32,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        Self {
            top_db: 40.0,
            floor_dbfs: -60.0,
            frame_length: 2048,
            hop_length: 512,
            min_speech_seconds: 0.3,
            min_silence_seconds: 0.3,
            max_segment_seconds: 10.0,
        }
    }
}

impl SegmentConfig {
    /// Checks the lengths: finite and >= 0 seconds, the longest segment positive and at least
    /// the shortest. The error names the offending field.
    pub fn validate(&self) -> Result<(), crate::AudioError> {
        let invalid = |what: String| Err(crate::AudioError::InvalidParameter(what));
        for (name, seconds) in [
            ("min_speech_seconds", self.min_speech_seconds),
            ("min_silence_seconds", self.min_silence_seconds),
            ("max_segment_seconds", self.max_segment_seconds),
        ] {
            if !(seconds.is_finite() && seconds >= 0.0) {
                return invalid(format!("{name} must be >= 0 seconds, got {seconds}"));
            }
        }
        if !(self.max_segment_seconds > 0.0 && self.max_segment_seconds >= self.min_speech_seconds)
        {
            return invalid(format!(
                "max_segment_seconds must be positive and at least min_speech_seconds, got {} and {}",
                self.max_segment_seconds, self.min_speech_seconds
            ));
        }
        if self.frame_length == 0 || self.hop_length == 0 {
            return invalid("frame_length and hop_length must be positive".into());
        }
        Ok(())
    }
}

/// A speech segment: samples `start..end` of the audio it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub start: usize,
    pub end: usize,
}

impl Segment {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Speech segments of `audio`, in order, non-overlapping. Returns none for silence or for a
/// config whose lengths are not positive.
pub fn split_speech(audio: &Audio, cfg: &SegmentConfig) -> Vec<Segment> {
    let rate = f64::from(audio.sample_rate);
    let to_samples = |seconds: f32| (f64::from(seconds).max(0.0) * rate).round() as usize;
    let min_speech = to_samples(cfg.min_speech_seconds);
    let min_silence = to_samples(cfg.min_silence_seconds);
    let max_segment = to_samples(cfg.max_segment_seconds);
    if max_segment == 0 || !cfg.top_db.is_finite() || cfg.floor_dbfs.is_nan() {
        return Vec::new();
    }
    let mut merged: Vec<Segment> = Vec::new();
    for interval in non_silent_intervals(
        &audio.samples,
        cfg.frame_length,
        cfg.hop_length,
        cfg.top_db,
        Some(cfg.floor_dbfs),
    ) {
        match merged.last_mut() {
            Some(last) if interval.start - last.end < min_silence => last.end = interval.end,
            _ => merged.push(Segment {
                start: interval.start,
                end: interval.end,
            }),
        }
    }
    merged
        .into_iter()
        .filter(|segment| segment.len() >= min_speech.max(1))
        .flat_map(|segment| split_evenly(segment, max_segment))
        .collect()
}

/// Cut `segment` into the fewest equal pieces no longer than `max_len`.
fn split_evenly(segment: Segment, max_len: usize) -> impl Iterator<Item = Segment> {
    let pieces = segment.len().div_ceil(max_len).max(1);
    (0..pieces).map(move |piece| Segment {
        start: segment.start + segment.len() * piece / pieces,
        end: segment.start + segment.len() * (piece + 1) / pieces,
    })
}
