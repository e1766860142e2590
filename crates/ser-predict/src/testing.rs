//! A deterministic stand-in model for tests (feature `testing`): it "hears" the pitch of a
//! tone, so tests can check which audio reached the model without a trained bundle; and
//! [`voice`], a tone the speech detector takes for voice.

use ser_audio::Audio;

use crate::{EmotionModel, ModelFailure};

/// Labels of the stand-in model: the seven TESS emotions in label order.
pub const LABELS: [&str; 7] = [
    "angry",
    "disgust",
    "fear",
    "happy",
    "neutral",
    "pleasant_surprise",
    "sad",
];

/// Predicts label `round(f / 100 Hz) mod 7` for a tone of frequency `f` (estimated from zero
/// crossings) with probability 0.7, and 0.05 for each other label.
#[derive(Debug, Clone)]
pub struct ToneModel {
    labels: Vec<String>,
}

impl ToneModel {
    pub fn new() -> Self {
        Self {
            labels: LABELS.map(String::from).to_vec(),
        }
    }

    /// The label this model gives a tone of `frequency` Hz.
    pub fn label_for(&self, frequency: f64) -> &str {
        &self.labels[self.class_of(frequency)]
    }

    fn class_of(&self, frequency: f64) -> usize {
        (frequency / 100.0).round() as usize % self.labels.len()
    }
}

impl Default for ToneModel {
    fn default() -> Self {
        Self::new()
    }
}

impl EmotionModel for ToneModel {
    fn labels(&self) -> &[String] {
        &self.labels
    }

    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Vec<f32>>, ModelFailure> {
        clips
            .iter()
            .map(|clip| {
                if clip.samples.is_empty() {
                    return Err("empty clip".into());
                }
                let mut probabilities = vec![0.05; self.labels.len()];
                probabilities[self.class_of(zero_crossing_frequency(clip))] = 0.7;
                Ok(probabilities)
            })
            .collect()
    }

    fn info_json(&self) -> serde_json::Value {
        serde_json::json!({ "name": "tone-test-model", "labels": self.labels })
    }
}

fn zero_crossing_frequency(clip: &Audio) -> f64 {
    let crossings = clip
        .samples
        .windows(2)
        .filter(|pair| (pair[0] < 0.0) != (pair[1] < 0.0))
        .count();
    crossings as f64 / 2.0 / clip.duration_seconds()
}

/// A sine of amplitude 0.5 whose pitch glides a semitone up and down around `frequency`
/// three times a second, as intonation does: periodic, with a moving pitch, so the speech
/// detector takes it for voice (a steady tone is no speech), while [`ToneModel`] still hears
/// `frequency`.
pub fn voice(frequency: f64, seconds: f64, sample_rate: u32) -> Audio {
    const GLIDE_HZ: f64 = 3.0;
    const GLIDE_SEMITONES: f64 = 1.0;
    let rate = f64::from(sample_rate);
    let mut phase = 0.0f64;
    let samples = (0..(seconds * rate).round() as usize)
        .map(|i| {
            let t = i as f64 / rate;
            let semitones = GLIDE_SEMITONES * (std::f64::consts::TAU * GLIDE_HZ * t).sin();
            phase += std::f64::consts::TAU * frequency * 2f64.powf(semitones / 12.0) / rate;
            (0.5 * phase.sin()) as f32
        })
        .collect();
    Audio::new(samples, sample_rate)
}

/// 16-bit PCM WAV bytes of `audio`, as a client would upload them.
pub fn wav_bytes(audio: &Audio) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(44 + audio.samples.len() * 2);
    let data_len = (audio.samples.len() * 2) as u32;
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&audio.sample_rate.to_le_bytes());
    bytes.extend_from_slice(&(audio.sample_rate * 2).to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for &sample in &audio.samples {
        let value = (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes
}

/// The tone model, except that it panics with `message` on audio at 8 kHz, as a buggy decoder
/// or DSP library would on a malformed file: for tests of panic isolation.
pub struct PanicsOn8kHz {
    pub model: ToneModel,
    pub message: &'static str,
}

impl EmotionModel for PanicsOn8kHz {
    fn labels(&self) -> &[String] {
        self.model.labels()
    }
    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Vec<f32>>, ModelFailure> {
        assert!(
            clips.iter().all(|clip| clip.sample_rate != 8_000),
            "{}",
            self.message
        );
        self.model.predict_batch(clips)
    }
    fn info_json(&self) -> serde_json::Value {
        self.model.info_json()
    }
}
