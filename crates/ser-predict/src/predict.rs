//! One recording in, one [`Prediction`] out: whole-clip for short recordings, per speech
//! segment (plus a duration-weighted overall result) for long ones. The model only hears
//! audio that holds enough speech (`ser_audio::voice`); the rest is answered with
//! `no_speech` or `too_short`.

use ser_audio::segment::{Segment, SegmentConfig, split_speech};
use ser_audio::voice::{SpeechVerdict, VoiceActivity, VoiceConfig, detect_speech};
use ser_audio::{Audio, AudioError};
use ser_model::VoiceProfile;

use crate::schema::Outcome;
use crate::{EmotionModel, PredictError, Prediction, Probabilities, SegmentPrediction};

/// Default of [`PredictOptions::uncertain_below`].
pub const DEFAULT_UNCERTAIN_BELOW: f32 = 0.5;

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

/// Which recordings of a batch a model that normalises speakers hears as one speaker: their
/// voice is estimated from all of them together (a first pass over the audio), so each is
/// judged against that speaker's own habit rather than an average voice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeakerGrouping {
    /// Every recording is a speaker of its own (its segments are heard together).
    #[default]
    Recording,
    /// Recordings in the same folder are one speaker.
    Folder,
    /// All recordings are one speaker.
    All,
}

impl std::str::FromStr for SpeakerGrouping {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "recording" => Ok(Self::Recording),
            "folder" => Ok(Self::Folder),
            "all" => Ok(Self::All),
            other => Err(format!(
                "speakers must be 'recording', 'folder' or 'all', got {other:?}"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PredictOptions {
    pub segment_mode: SegmentMode,
    /// Which recordings are one speaker (files only: stdin and in-memory recordings are
    /// always their own speaker).
    pub speakers: SpeakerGrouping,
    pub segment: SegmentConfig,
    /// In [`SegmentMode::Auto`], recordings longer than this are split. Defaults to the longest
    /// segment allowed, so anything that would fit in one segment is predicted whole.
    pub auto_segment_above_seconds: f64,
    /// The speech decision, made for every recording and every segment.
    pub voice: VoiceConfig,
    /// Emotions whose probability is below this are marked `uncertain`.
    pub uncertain_below: f32,
}

impl Default for PredictOptions {
    fn default() -> Self {
        let segment = SegmentConfig::default();
        Self {
            segment_mode: SegmentMode::Auto,
            speakers: SpeakerGrouping::Recording,
            auto_segment_above_seconds: f64::from(segment.max_segment_seconds),
            segment,
            voice: VoiceConfig::default(),
            uncertain_below: DEFAULT_UNCERTAIN_BELOW,
        }
    }
}

impl std::str::FromStr for SegmentMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(Self::Auto),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            other => Err(format!(
                "segment must be 'auto', 'always' or 'never', got {other:?}"
            )),
        }
    }
}

/// The settings a user gives a prediction run (the flags of `ser predict`, the arguments of
/// the Python `Model.predict*`), `None` meaning the default. [`PredictSettings::options`]
/// checks them and builds the [`PredictOptions`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PredictSettings {
    pub segment_mode: SegmentMode,
    pub speakers: SpeakerGrouping,
    pub min_segment_seconds: Option<f32>,
    pub max_segment_seconds: Option<f32>,
    pub min_silence_seconds: Option<f32>,
    pub min_speech_seconds: Option<f32>,
    pub uncertain_below: Option<f32>,
}

impl PredictSettings {
    /// The options these settings describe, or `AudioError::InvalidParameter` naming the
    /// setting that is out of range.
    pub fn options(&self) -> Result<PredictOptions, AudioError> {
        let defaults = PredictOptions::default();
        let segment = SegmentConfig {
            min_speech_seconds: self
                .min_segment_seconds
                .unwrap_or(defaults.segment.min_speech_seconds),
            max_segment_seconds: self
                .max_segment_seconds
                .unwrap_or(defaults.segment.max_segment_seconds),
            min_silence_seconds: self
                .min_silence_seconds
                .unwrap_or(defaults.segment.min_silence_seconds),
            ..defaults.segment
        };
        segment.validate()?;
        let voice = VoiceConfig {
            min_speech_seconds: self
                .min_speech_seconds
                .unwrap_or(defaults.voice.min_speech_seconds),
            ..defaults.voice
        };
        if !(voice.min_speech_seconds.is_finite() && voice.min_speech_seconds >= 0.0) {
            return Err(AudioError::InvalidParameter(format!(
                "min_speech must be >= 0 seconds, got {}",
                voice.min_speech_seconds
            )));
        }
        let uncertain_below = self.uncertain_below.unwrap_or(defaults.uncertain_below);
        if !(0.0..=1.0).contains(&uncertain_below) {
            return Err(AudioError::InvalidParameter(format!(
                "uncertain_below must be a probability in [0, 1], got {uncertain_below}"
            )));
        }
        Ok(PredictOptions {
            segment_mode: self.segment_mode,
            speakers: self.speakers,
            auto_segment_above_seconds: f64::from(segment.max_segment_seconds),
            segment,
            voice,
            uncertain_below,
        })
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

/// What the model hears of a recording: the whole recording, or its speech segments with
/// each one's speech decision and place among the clips sent to the model.
enum Heard {
    Whole(VoiceActivity),
    Segments {
        judged: Vec<(Segment, VoiceActivity, Option<usize>)>,
        spoken: Vec<Audio>,
    },
}

impl Heard {
    /// Segments with speech are heard one by one; a recording in which no segment is found
    /// is heard whole.
    fn of(audio: &Audio, options: &PredictOptions) -> Self {
        let segments = if options.splits(audio) {
            split_speech(audio, &options.segment)
        } else {
            Vec::new()
        };
        if segments.is_empty() {
            return Self::Whole(detect_speech(audio, &options.voice));
        }
        let mut spoken = Vec::new();
        let judged = segments
            .into_iter()
            .map(|segment| {
                let clip = segment_audio(audio, &segment);
                let speech = detect_speech(&clip, &options.voice);
                let batch_index = (speech.verdict == SpeechVerdict::Speech).then(|| {
                    spoken.push(clip);
                    spoken.len() - 1
                });
                (segment, speech, batch_index)
            })
            .collect();
        Self::Segments { judged, spoken }
    }

    /// The clips the model judges.
    fn clips<'a>(&'a self, audio: &'a Audio) -> &'a [Audio] {
        match self {
            Self::Whole(speech) if speech.verdict == SpeechVerdict::Speech => {
                std::slice::from_ref(audio)
            }
            Self::Whole(_) => &[],
            Self::Segments { spoken, .. } => spoken,
        }
    }
}

/// Predicts one decoded recording named `file`. Segments with speech are predicted as one
/// batch (one speaker); a recording in which no segment is found is judged whole.
pub fn predict_audio(
    model: &dyn EmotionModel,
    file: &str,
    audio: &Audio,
    options: &PredictOptions,
) -> Result<Prediction, PredictError> {
    predict_audio_in_voice(model, file, audio, options, None)
}

/// What a model that normalises speakers learns of the speaker's voice from the speech of
/// this recording (`None` for other models); see [`predict_audio_in_voice`].
pub fn voice_profile(
    model: &dyn EmotionModel,
    file: &str,
    audio: &Audio,
    options: &PredictOptions,
) -> Result<Option<VoiceProfile>, PredictError> {
    let heard = Heard::of(audio, options);
    let clips = heard.clips(audio);
    if clips.is_empty() {
        return Ok(None);
    }
    model
        .voice_profile(clips)
        .map_err(|source| PredictError::Model {
            file: file.to_owned(),
            source,
        })
}

/// [`predict_audio`] for a recording of a speaker whose voice is known from `voice` (the
/// merged [`voice_profile`]s of all of their recordings) rather than from this one alone.
pub fn predict_audio_in_voice(
    model: &dyn EmotionModel,
    file: &str,
    audio: &Audio,
    options: &PredictOptions,
    voice: Option<&VoiceProfile>,
) -> Result<Prediction, PredictError> {
    let labels = model.labels();
    let duration = audio.duration_seconds();
    let heard = Heard::of(audio, options);
    let clips = heard.clips(audio);
    let per_clip = if clips.is_empty() {
        Vec::new()
    } else {
        // run_model checks there is one result per clip, so every batch index is valid.
        run_model(model, file, clips, voice)?
    };
    let (judged, spoken) = match &heard {
        Heard::Whole(speech) => {
            let outcome = match per_clip.first() {
                Some(probabilities) => Outcome::emotion(
                    Probabilities::from_labels(labels, probabilities),
                    options.uncertain_below,
                ),
                None => Outcome::without_emotion(speech.verdict),
            };
            return Ok(Prediction::new(
                file.to_owned(),
                duration,
                speech.speech_seconds,
                outcome,
                Vec::new(),
            ));
        }
        Heard::Segments { judged, spoken } => (judged, spoken),
    };
    let overall = if per_clip.is_empty() {
        // Not one segment with enough speech: say why, as for a whole recording.
        let some_speech = judged
            .iter()
            .any(|(_, speech, _)| speech.verdict == SpeechVerdict::TooShort);
        Outcome::without_emotion(if some_speech {
            SpeechVerdict::TooShort
        } else {
            SpeechVerdict::NoSpeech
        })
    } else {
        let weights: Vec<f64> = spoken
            .iter()
            .map(|clip| clip.samples.len() as f64)
            .collect();
        Outcome::emotion(
            Probabilities::from_labels(labels, &weighted_mean(&per_clip, &weights)),
            options.uncertain_below,
        )
    };
    let seconds = |sample: usize| sample as f64 / f64::from(audio.sample_rate);
    let segments = judged
        .iter()
        .map(|(segment, speech, batch_index)| {
            let outcome = match batch_index {
                Some(index) => Outcome::emotion(
                    Probabilities::from_labels(labels, &per_clip[*index]),
                    options.uncertain_below,
                ),
                None => Outcome::without_emotion(speech.verdict),
            };
            SegmentPrediction::new(
                seconds(segment.start),
                seconds(segment.end),
                speech.speech_seconds,
                outcome,
            )
        })
        .collect();
    Ok(Prediction::new(
        file.to_owned(),
        duration,
        judged
            .iter()
            .map(|(_, speech, _)| speech.speech_seconds)
            .sum(),
        overall,
        segments,
    ))
}

/// Runs the model and checks it returned one full probability vector per clip.
fn run_model(
    model: &dyn EmotionModel,
    file: &str,
    clips: &[Audio],
    voice: Option<&VoiceProfile>,
) -> Result<Vec<Vec<f32>>, PredictError> {
    let output = match voice {
        Some(voice) => model.predict_batch_in_voice(clips, voice),
        None => model.predict_batch(clips),
    }
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
    use crate::testing::{ToneModel, voice};

    #[test]
    fn settings_default_to_the_default_options_and_reject_out_of_range_values() {
        let options = PredictSettings::default().options().unwrap();
        let defaults = PredictOptions::default();
        assert_eq!(options.segment, defaults.segment);
        assert_eq!(options.voice, defaults.voice);
        assert_eq!(options.uncertain_below, defaults.uncertain_below);
        assert_eq!(
            options.auto_segment_above_seconds,
            defaults.auto_segment_above_seconds
        );

        let chosen = PredictSettings {
            segment_mode: "always".parse().unwrap(),
            max_segment_seconds: Some(4.0),
            min_speech_seconds: Some(1.5),
            uncertain_below: Some(0.8),
            ..PredictSettings::default()
        }
        .options()
        .unwrap();
        assert_eq!(chosen.segment_mode, SegmentMode::Always);
        assert_eq!(chosen.segment.max_segment_seconds, 4.0);
        assert_eq!(chosen.auto_segment_above_seconds, 4.0);
        assert_eq!(chosen.voice.min_speech_seconds, 1.5);
        assert_eq!(chosen.uncertain_below, 0.8);

        for (settings, message) in [
            (
                PredictSettings {
                    min_segment_seconds: Some(-1.0),
                    ..PredictSettings::default()
                },
                "min_speech_seconds must be >= 0 seconds",
            ),
            (
                PredictSettings {
                    min_speech_seconds: Some(f32::NAN),
                    ..PredictSettings::default()
                },
                "min_speech must be >= 0 seconds",
            ),
            (
                PredictSettings {
                    uncertain_below: Some(1.5),
                    ..PredictSettings::default()
                },
                "uncertain_below must be a probability in [0, 1]",
            ),
        ] {
            let error = settings.options().unwrap_err().to_string();
            assert!(error.contains(message), "{error}");
        }
        let error = "sometimes".parse::<SegmentMode>().unwrap_err();
        assert!(error.contains("'auto', 'always' or 'never'"), "{error}");
    }

    #[test]
    fn weighted_mean_weights_by_duration() {
        let mean = weighted_mean(&[vec![1.0, 0.0], vec![0.0, 1.0]], &[3.0, 1.0]);
        assert_eq!(mean, vec![0.75, 0.25]);
    }

    #[test]
    fn short_clip_is_predicted_whole() {
        let model = ToneModel::new();
        let audio = voice(440.0, 1.0, 16_000);
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
            &voice(200.0, 3.0, rate),
            &silence,
            &voice(300.0, 1.0, rate),
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
            .map(|s| {
                (
                    s.start_seconds,
                    s.end_seconds,
                    s.emotion.as_deref().unwrap_or(""),
                )
            })
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
        // The overall probability of fear is 0.54: certain at the default threshold.
        assert!(!prediction.uncertain && !prediction.no_speech && !prediction.too_short);
        assert!((prediction.speech_seconds.unwrap() - 4.0).abs() < 0.15);
    }

    #[test]
    fn no_speech_and_too_little_speech_get_no_emotion_and_never_reach_the_model() {
        // ToneModel fails on an empty clip; a model that always fails proves it is not called.
        struct Unreachable(ToneModel);
        impl EmotionModel for Unreachable {
            fn labels(&self) -> &[String] {
                self.0.labels()
            }
            fn predict_batch(&self, _: &[Audio]) -> Result<Vec<Vec<f32>>, crate::ModelFailure> {
                Err("the model must not hear this".into())
            }
            fn info_json(&self) -> serde_json::Value {
                self.0.info_json()
            }
        }
        let model = Unreachable(ToneModel::new());
        let options = PredictOptions::default();
        let steady = ser_audio::signals::tone(16_000, 2.0, 440.0, -20.0);
        let silence = ser_audio::signals::silence(16_000, 2.0);
        let tiny = voice(440.0, 0.004, 16_000);
        for (name, audio, no_speech, too_short) in [
            ("steady", &steady, true, false),
            ("silence", &silence, true, false),
            ("tiny", &tiny, false, true),
        ] {
            let p = predict_audio(&model, name, audio, &options).unwrap();
            assert_eq!((p.no_speech, p.too_short), (no_speech, too_short), "{name}");
            assert_eq!((p.emotion, p.confidence), (None, None), "{name}");
            assert!(p.probabilities.is_empty() && !p.uncertain && p.error.is_none());
        }
        // The minimum of speech is a setting: a 1-s voice under a 2-s minimum.
        let demanding = PredictOptions {
            voice: VoiceConfig {
                min_speech_seconds: 2.0,
                ..VoiceConfig::default()
            },
            ..PredictOptions::default()
        };
        let p = predict_audio(&model, "short", &voice(200.0, 1.0, 16_000), &demanding).unwrap();
        assert!(p.too_short && p.emotion.is_none());
        assert!((p.speech_seconds.unwrap() - 1.0).abs() < 0.1, "{p:?}");
    }

    #[test]
    fn segments_without_speech_are_flagged_and_left_out_of_the_overall_result() {
        let model = ToneModel::new();
        let rate = 16_000;
        let mut samples = voice(200.0, 3.0, rate).samples;
        samples.extend(vec![0.0; rate as usize]);
        samples.extend(ser_audio::signals::tone(rate, 3.0, 300.0, -10.0).samples);
        let options = PredictOptions {
            segment_mode: SegmentMode::Always,
            ..PredictOptions::default()
        };
        let p = predict_audio(&model, "mixed", &Audio::new(samples, rate), &options).unwrap();
        let flags: Vec<(Option<&str>, bool)> = p
            .segments
            .iter()
            .map(|s| (s.emotion.as_deref(), s.no_speech))
            .collect();
        assert_eq!(flags, [(Some("fear"), false), (None, true)]);
        // Only the spoken segment counts: fear with its own probability.
        assert_eq!(
            (p.emotion.as_deref(), p.confidence),
            (Some("fear"), Some(0.7))
        );
    }

    #[test]
    fn emotions_below_the_threshold_are_uncertain() {
        let model = ToneModel::new();
        let audio = voice(440.0, 1.0, 16_000);
        let strict = PredictOptions {
            uncertain_below: 0.8,
            ..PredictOptions::default()
        };
        let p = predict_audio(&model, "a", &audio, &strict).unwrap();
        assert!(p.uncertain && p.emotion.is_some() && p.confidence == Some(0.7));
        let p = predict_audio(&model, "a", &audio, &PredictOptions::default()).unwrap();
        assert!(!p.uncertain);
    }
}
