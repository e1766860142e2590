//! One recording in, one [`Prediction`] out: whole-clip for short recordings, per speech
//! segment (plus a duration-weighted overall result) for long ones.

use ser_audio::Audio;
use ser_audio::segment::{Segment, SegmentConfig, split_speech};

use crate::{EmotionModel, PredictError, Prediction, Probabilities, SegmentPrediction};

/// When a recording is split into speech segments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentMode {
    /// Split recordings longer than [`PredictOptions::auto_segment_above_seconds`].
    #[default]
    Auto,
    Always,
    /// Predict every recording as one clip.
    Never,
}

#[derive(Debug, Clone)]
pub struct PredictOptions {
    pub segment_mode: SegmentMode,
    pub segment: SegmentConfig,
    /// In [`SegmentMode::Auto`], recordings longer than this are split. Defaults to the longest
    /// segment allowed, so anything that would fit in one segment is predicted whole.
    pub auto_segment_above_seconds: f64,
}

impl Default for PredictOptions {
    fn default() -> Self {
        let segment = SegmentConfig::default();
        Self {
            segment_mode: SegmentMode::Auto,
            auto_segment_above_seconds: f64::from(segment.max_segment_seconds),
            segment,
        }
    }
}

impl PredictOptions {
    fn splits(&self, audio: &Audio) -> bool {
        match self.segment_mode {
            SegmentMode::Auto => audio.duration_seconds() > self.auto_segment_above_seconds,
            SegmentMode::Always => true,
            SegmentMode::Never => false,
        }
    }
}

/// Predicts one decoded recording named `file`. Segments are predicted as one batch; a
/// recording in which no speech is found is predicted whole.
pub fn predict_audio(
    model: &dyn EmotionModel,
    file: &str,
    audio: &Audio,
    options: &PredictOptions,
) -> Result<Prediction, PredictError> {
    let labels = model.labels();
    let duration = audio.duration_seconds();
    let segments = if options.splits(audio) {
        split_speech(audio, &options.segment)
    } else {
        Vec::new()
    };
    if segments.is_empty() {
        let probabilities = run_model(model, file, std::slice::from_ref(audio))?;
        let overall = Probabilities::from_labels(labels, &probabilities[0]);
        return Ok(Prediction::new(
            file.to_owned(),
            duration,
            overall,
            Vec::new(),
        ));
    }

    let clips: Vec<Audio> = segments
        .iter()
        .map(|segment| segment_audio(audio, segment))
        .collect();
    let per_segment = run_model(model, file, &clips)?;
    let weights: Vec<f64> = segments.iter().map(|s| s.len() as f64).collect();
    let overall = weighted_mean(&per_segment, &weights);
    let seconds = |sample: usize| sample as f64 / f64::from(audio.sample_rate);
    let segments = segments
        .iter()
        .zip(&per_segment)
        .map(|(segment, p)| {
            SegmentPrediction::new(
                seconds(segment.start),
                seconds(segment.end),
                Probabilities::from_labels(labels, p),
            )
        })
        .collect();
    Ok(Prediction::new(
        file.to_owned(),
        duration,
        Probabilities::from_labels(labels, &overall),
        segments,
    ))
}

/// Runs the model and checks it returned one full probability vector per clip.
fn run_model(
    model: &dyn EmotionModel,
    file: &str,
    clips: &[Audio],
) -> Result<Vec<Vec<f32>>, PredictError> {
    let output = model
        .predict_batch(clips)
        .map_err(|source| PredictError::Model {
            file: file.to_owned(),
            source,
        })?;
    let expected = model.labels().len();
    if output.len() != clips.len() {
        return Err(PredictError::Model {
            file: file.to_owned(),
            source: format!("{} results for {} clips", output.len(), clips.len()).into(),
        });
    }
    if let Some(bad) = output.iter().find(|p| p.len() != expected) {
        return Err(PredictError::ModelOutput {
            file: file.to_owned(),
            expected,
            got: bad.len(),
        });
    }
    Ok(output)
}

fn segment_audio(audio: &Audio, segment: &Segment) -> Audio {
    let end = segment.end.min(audio.samples.len());
    let start = segment.start.min(end);
    Audio::new(audio.samples[start..end].to_vec(), audio.sample_rate)
}

/// Duration-weighted mean of the segment probability vectors (so the result still sums to 1).
fn weighted_mean(vectors: &[Vec<f32>], weights: &[f64]) -> Vec<f32> {
    let total: f64 = weights.iter().sum();
    let width = vectors.first().map_or(0, Vec::len);
    (0..width)
        .map(|class| {
            let sum: f64 = vectors
                .iter()
                .zip(weights)
                .map(|(v, w)| f64::from(v[class]) * w)
                .sum();
            if total > 0.0 {
                (sum / total) as f32
            } else {
                vectors.iter().map(|v| v[class]).sum::<f32>() / vectors.len() as f32
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ToneModel, tone};

    #[test]
    fn weighted_mean_weights_by_duration() {
        let mean = weighted_mean(&[vec![1.0, 0.0], vec![0.0, 1.0]], &[3.0, 1.0]);
        assert_eq!(mean, vec![0.75, 0.25]);
    }

    #[test]
    fn short_clip_is_predicted_whole() {
        let model = ToneModel::new();
        let audio = tone(440.0, 1.0, 16_000);
        let prediction =
            predict_audio(&model, "a.wav", &audio, &PredictOptions::default()).unwrap();
        assert!(prediction.segments.is_empty());
        assert_eq!(prediction.emotion.as_deref(), Some(model.label_for(440.0)));
        assert_eq!(prediction.duration_seconds, Some(1.0));
        let sum: f32 = prediction.probabilities.iter().map(|(_, p)| p).sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }

    #[test]
    fn long_recording_is_predicted_per_segment_and_weighted_by_duration() {
        let model = ToneModel::new();
        let rate = 16_000;
        let silence = Audio::new(vec![0.0; rate as usize], rate);
        let mut samples = Vec::new();
        for part in [
            &silence,
            &tone(200.0, 3.0, rate),
            &silence,
            &tone(300.0, 1.0, rate),
            &silence,
        ] {
            samples.extend_from_slice(&part.samples);
        }
        let audio = Audio::new(samples, rate);
        let options = PredictOptions {
            auto_segment_above_seconds: 2.0,
            ..PredictOptions::default()
        };
        let prediction = predict_audio(&model, "long.wav", &audio, &options).unwrap();

        let found: Vec<(f64, f64, &str)> = prediction
            .segments
            .iter()
            .map(|s| (s.start_seconds, s.end_seconds, s.emotion.as_str()))
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        for ((start, end, emotion), (true_start, true_end, frequency)) in
            found.iter().zip([(1.0, 4.0, 200.0), (5.0, 6.0, 300.0)])
        {
            assert!((start - true_start).abs() < 0.1, "{found:?}");
            assert!((end - true_end).abs() < 0.1, "{found:?}");
            assert_eq!(*emotion, model.label_for(frequency));
        }
        // 3 s of "fear" (200 Hz) and 1 s of "happy" (300 Hz): fear wins with weight 3/4.
        assert_eq!(prediction.emotion.as_deref(), Some(model.label_for(200.0)));
        let fear = prediction.probabilities.get("fear").unwrap();
        assert!((fear - (0.75 * 0.7 + 0.25 * 0.05)).abs() < 0.01, "{fear}");
    }
}
