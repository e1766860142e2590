use std::path::Path;
use std::sync::Arc;

use ser_audio::{Audio, PreprocessConfig};
use serde::{Deserialize, Serialize};

use crate::db::{DbConfig, power_to_db};
use crate::delta::delta;
use crate::mel::{MelConfig, cached_mel_filterbank, melspectrogram};
use crate::mfcc::{MfccConfig, mfcc_from_db};
use crate::pitch::{PyinConfig, YinConfig, pyin, yin};
use crate::spectral::{
    ContrastConfig, Framing, rms, spectral_bandwidth, spectral_centroid, spectral_contrast,
    spectral_flatness, spectral_rolloff, zero_crossing_rate,
};
use crate::stft::{StftConfig, spectrogram};
use crate::voice::{
    alpha_ratio, hammarberg_index, harmonics_to_noise, spectral_flux, spectral_slope,
};
use crate::whisper::{EncoderPass, WhisperEncoder, log_mel};
use crate::{FeatureError, FeatureMatrix, Matrix};

/// The analysis window and hop of Whisper's encoder vectors in samples at 16 kHz (25 ms read
/// every 20 ms), by which kind `whisper` tells its silent frames.
const WHISPER_WINDOW: usize = 400;
const WHISPER_HOP: usize = 320;

/// Which frame-level features [`FeatureConfig::extract`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// `n_mfcc` MFCCs (+ deltas as configured).
    Mfcc,
    /// `n_mels` log-power mel bands in dB (+ deltas as configured).
    LogMel,
    /// Pitch track: f0 (0 where unvoiced), voiced flag and voiced probability for pYIN; f0
    /// alone for YIN.
    Pitch,
    /// Everything frame-aligned on the STFT hop: MFCC (+ deltas), rms, zero-crossing rate,
    /// spectral centroid/bandwidth/rolloff/flatness, spectral contrast, chroma, pitch.
    All,
    /// The hidden states of Whisper's encoder ([`crate::whisper`]), one vector every 20 ms
    /// (512 rows for Whisper base), of audio at 16 kHz; `[features.whisper]` names the weights.
    Whisper,
}

/// Local derivatives appended after the base features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeltaConfig {
    /// 0 = none, 1 = deltas, 2 = deltas and delta-deltas.
    pub order: usize,
    /// Savitzky-Golay window (librosa default 9). Shorter signals use the largest odd window
    /// that fits (and zeros below 3 frames), where librosa would refuse.
    pub width: usize,
}

impl Default for DeltaConfig {
    fn default() -> Self {
        Self { order: 0, width: 9 }
    }
}

/// F0 estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PitchMethod {
    Pyin,
    Yin,
}

/// Pitch tracking; its hop and centring follow [`StftConfig`] so frames line up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PitchConfig {
    pub method: PitchMethod,
    pub fmin: f64,
    pub fmax: f64,
    pub frame_length: usize,
    /// YIN only.
    pub trough_threshold: f64,
    pub pyin: PyinConfig,
    /// The unit of the F0 row. Left out of the serialised form when `hz`, so earlier
    /// configurations keep their bytes (and feature cache keys).
    #[serde(skip_serializing_if = "PitchUnit::is_hz")]
    pub unit: PitchUnit,
}

/// How the F0 row expresses pitch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PitchUnit {
    /// Hz as the tracker gives it (pYIN: 0 where unvoiced; YIN: an estimate in every frame).
    #[default]
    Hz,
    /// Semitones above 27.5 Hz (eGeMAPS's F0 scale): a register change of one interval moves
    /// every voice alike, where in Hz it moves high voices more. With pYIN the unvoiced frames
    /// are filled by linear interpolation between their voiced neighbours (held at the ends;
    /// the middle of the pitch range when no frame is voiced), so statistics over frames
    /// describe the intonation contour instead of the share of unvoiced frames.
    Semitones,
}

impl PitchUnit {
    fn is_hz(&self) -> bool {
        *self == Self::Hz
    }
}

impl Default for PitchConfig {
    fn default() -> Self {
        let yin = YinConfig::default();
        Self {
            method: PitchMethod::Pyin,
            fmin: yin.fmin,
            fmax: yin.fmax,
            frame_length: yin.frame_length,
            trough_threshold: 0.1,
            pyin: PyinConfig::default(),
            unit: PitchUnit::Hz,
        }
    }
}

/// Parameters of the spectral descriptors used by [`FeatureKind::All`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpectralConfig {
    pub roll_percent: f64,
    pub contrast: ContrastConfig,
    /// Chroma bins; 0 leaves chroma out (pitch classes say little of emotion in speech).
    pub n_chroma: usize,
}

impl Default for SpectralConfig {
    fn default() -> Self {
        Self {
            roll_percent: 0.85,
            contrast: ContrastConfig::default(),
            n_chroma: 12,
        }
    }
}

/// A complete, serialisable description of one feature extraction: audio preprocessing plus
/// every analysis parameter. Stored in model bundles so inference can never use features
/// different from training. The default is 40 MFCCs at 22050 Hz (n_fft 2048, hop 512,
/// 128 Slaney mel bands), no deltas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    pub audio: PreprocessConfig,
    pub kind: FeatureKind,
    pub stft: StftConfig,
    pub mel: MelConfig,
    /// dB conversion of mel power (MFCC input and log-mel output).
    pub db: DbConfig,
    pub mfcc: MfccConfig,
    pub deltas: DeltaConfig,
    pub pitch: PitchConfig,
    pub spectral: SpectralConfig,
    /// Drop the silent frames (pauses, leading and trailing silence) from the features.
    /// Left out of the serialised form when off, so older configurations keep their bytes
    /// (and feature cache keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silence: Option<SilenceConfig>,
    /// Kind `all` only: append the eGeMAPS voice-quality descriptors ([`crate::voice`]: alpha
    /// ratio, Hammarberg index, spectral slopes 0-500 and 500-1500 Hz, spectral flux,
    /// harmonics-to-noise ratio). Left out of the serialised form when off, as `silence`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub voice_quality: bool,
    /// Kind `all` only: a second pitch track appended last, its rows named `intonation_*`
    /// (e.g. pYIN's semitone contour beside YIN's F0 in Hz). Left out of the serialised form
    /// when off, as `silence`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intonation: Option<PitchConfig>,
    /// Kind `whisper` only: which encoder, how deep. Left out of the serialised form when
    /// absent, as `silence`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whisper: Option<WhisperConfig>,
}

/// The Whisper encoder of kind `whisper`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhisperConfig {
    /// A CTranslate2 Whisper model file (faster-whisper's `model.bin`, or the encoder alone as
    /// `models/whisper-base-encoder.bin` holds it), relative to the working directory; in a
    /// model bundle, the id of the weights it carries (`sha256:...`, see
    /// [`FeatureConfig::with_weight_ids`]).
    pub weights: String,
    /// The hidden states after this many transformer blocks; all of them (the encoder's output)
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<usize>,
}

impl WhisperConfig {
    fn encoder(&self) -> Result<Arc<WhisperEncoder>, FeatureError> {
        crate::whisper::shared_encoder(&self.weights)
    }
}

/// Row names of the voice-quality descriptors, in the order [`FeatureConfig::extract`] appends
/// them.
const VOICE_QUALITY_NAMES: [&str; 6] = [
    "alpha_ratio",
    "hammarberg_index",
    "spectral_slope_0_500",
    "spectral_slope_500_1500",
    "spectral_flux",
    "hnr",
];

/// Which frames count as silent: librosa.effects.split's criterion (frame RMS more than
/// `top_db` below the clip's loudest frame) on the feature frames (frame length n_fft, the
/// STFT hop, centred). Features are computed on the whole signal first, so deltas near a
/// pause see their real neighbours; then the silent frames are dropped. Statistics over a
/// clip then describe its speech alone, whatever the length of its pauses. With `edges_only`
/// only the silence before the first and after the last loud frame goes (the pauses stay):
/// the features of a recording then do not depend on how much silence surrounds it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SilenceConfig {
    pub top_db: f32,
    /// Left out of the serialised form when off, so earlier configurations keep their bytes
    /// (and feature cache keys).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub edges_only: bool,
}

impl Default for SilenceConfig {
    fn default() -> Self {
        Self {
            top_db: 30.0,
            edges_only: false,
        }
    }
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            audio: PreprocessConfig::default(),
            kind: FeatureKind::Mfcc,
            stft: StftConfig::default(),
            mel: MelConfig::default(),
            db: DbConfig::default(),
            mfcc: MfccConfig::default(),
            deltas: DeltaConfig::default(),
            pitch: PitchConfig::default(),
            spectral: SpectralConfig::default(),
            silence: None,
            voice_quality: false,
            intonation: None,
            whisper: None,
        }
    }
}

impl FeatureConfig {
    /// Preprocesses `audio` (resampling etc. per `self.audio`) and extracts the features.
    pub fn extract(&self, audio: &Audio) -> Result<FeatureMatrix, FeatureError> {
        let audio = self.audio.apply(audio.clone())?;
        Ok(self
            .extract_prepared(&audio.samples, f64::from(audio.sample_rate))?
            .to_features())
    }

    /// Every configuration's features of one recording, each equal to [`Self::extract`]'s:
    /// configurations that prepare the audio alike (rate, trimming, ...) prepare it once, and
    /// share the spectrograms and pitch tracks they have in common ([`SharedAnalysis`]).
    pub fn extract_each(
        configs: &[FeatureConfig],
        audio: &Audio,
    ) -> Result<Vec<FeatureMatrix>, FeatureError> {
        let mut prepared: Vec<(&PreprocessConfig, Audio)> = Vec::new();
        let mut prepared_for = Vec::with_capacity(configs.len());
        for config in configs {
            let index = match prepared.iter().position(|(done, _)| **done == config.audio) {
                Some(index) => index,
                None => {
                    prepared.push((&config.audio, config.audio.apply(audio.clone())?));
                    prepared.len() - 1
                }
            };
            prepared_for.push(index);
        }
        let mut analyses: Vec<SharedAnalysis<'_>> = prepared
            .iter()
            .map(|(_, audio)| SharedAnalysis::new(&audio.samples, f64::from(audio.sample_rate)))
            .collect();
        configs
            .iter()
            .zip(prepared_for)
            .map(|(config, index)| Ok(config.extract_shared(&mut analyses[index])?.to_features()))
            .collect()
    }

    /// Decodes `path` and extracts its features; errors name the file.
    pub fn extract_file(&self, path: &Path) -> Result<FeatureMatrix, FeatureError> {
        let decoded = ser_audio::decode_file(path)?;
        self.extract_named(&decoded.audio, path)
    }

    /// Decodes an in-memory audio file and extracts its features; errors carry `name`.
    pub fn extract_bytes(&self, bytes: Vec<u8>, name: &str) -> Result<FeatureMatrix, FeatureError> {
        let decoded = ser_audio::decode_bytes(bytes, name)?;
        self.extract_named(&decoded.audio, Path::new(name))
    }

    /// [`FeatureConfig::extract`] with errors naming `path`.
    fn extract_named(&self, audio: &Audio, path: &Path) -> Result<FeatureMatrix, FeatureError> {
        self.extract(audio).map_err(|error| match error {
            // Audio errors already carry the file name.
            FeatureError::Audio(_) => error,
            other => FeatureError::File {
                path: path.to_path_buf(),
                source: Box::new(other),
            },
        })
    }

    /// A short human description, e.g. "40 MFCC + deltas" or "log-mel (64 bands)".
    pub fn describe(&self) -> String {
        let deltas = match self.deltas.order {
            0 => "",
            1 => " + deltas",
            _ => " + deltas and delta-deltas",
        };
        let pitch = pitch_description(&self.pitch);
        let speech = match &self.silence {
            Some(silence) if silence.edges_only => format!(
                ", leading and trailing frames more than {} dB below the loudest dropped",
                silence.top_db
            ),
            Some(silence) => format!(", frames within {} dB of the loudest", silence.top_db),
            None => String::new(),
        };
        let chroma = if self.spectral.n_chroma > 0 {
            ", chroma"
        } else {
            ""
        };
        let voice = if self.voice_quality && self.kind == FeatureKind::All {
            ", voice quality"
        } else {
            ""
        };
        let intonation = match (&self.intonation, self.kind) {
            (Some(intonation), FeatureKind::All) => {
                format!(", intonation by {}", pitch_description(intonation))
            }
            _ => String::new(),
        };
        let what = match self.kind {
            FeatureKind::Mfcc => format!("{} MFCC{deltas}", self.mfcc.n_mfcc),
            FeatureKind::LogMel => format!("log-mel ({} bands){deltas}", self.mel.n_mels),
            FeatureKind::Pitch => pitch.to_string(),
            FeatureKind::All => format!(
                "{} MFCC{deltas}, RMS, zero-crossing rate, spectral shape{chroma}{voice} and {pitch}{intonation}",
                self.mfcc.n_mfcc
            ),
            FeatureKind::Whisper => match &self.whisper {
                Some(whisper) => match whisper.blocks {
                    Some(blocks) => format!(
                        "Whisper encoder after {blocks} blocks ({})",
                        whisper.weights
                    ),
                    None => format!("Whisper encoder output ({})", whisper.weights),
                },
                None => "Whisper encoder (no weights given)".into(),
            },
        };
        format!("{what}{speech}")
    }

    /// This configuration with every weights file named by its id (`sha256:...` of the weights
    /// themselves, loading them if need be; of a Whisper encoder cut to the blocks it reads), as
    /// bundles and feature caches keep it: the same features whatever path the weights were
    /// read from, and other weights never mistaken for them.
    pub fn with_weight_ids(&self) -> Result<FeatureConfig, FeatureError> {
        let mut config = self.clone();
        if let Some(whisper) = &mut config.whisper {
            whisper.weights = crate::whisper::weights_file(&whisper.weights, whisper.blocks)?.0;
        }
        Ok(config)
    }

    /// Number of rows [`FeatureConfig::extract`] yields.
    pub fn n_features(&self) -> usize {
        self.feature_names().len()
    }

    /// Row names, e.g. "mfcc_0", ..., "d_mfcc_0", ..., "dd_mfcc_0".
    pub fn feature_names(&self) -> Vec<String> {
        let numbered = |prefix: &str, count: usize| -> Vec<String> {
            (0..count).map(|i| format!("{prefix}_{i}")).collect()
        };
        let with_deltas = |prefix: &str, count: usize| -> Vec<String> {
            let mut names = numbered(prefix, count);
            for order in 1..=self.deltas.order.min(2) {
                let marker = "d".repeat(order);
                names.extend(numbered(&format!("{marker}_{prefix}"), count));
            }
            names
        };
        let pitch_names = |pitch: &PitchConfig| -> Vec<String> {
            let f0 = match pitch.unit {
                PitchUnit::Hz => "f0",
                PitchUnit::Semitones => "f0_semitones",
            };
            match pitch.method {
                PitchMethod::Pyin => vec![f0.into(), "voiced_flag".into(), "voiced_prob".into()],
                PitchMethod::Yin => vec![f0.into()],
            }
        };
        match self.kind {
            FeatureKind::Mfcc => with_deltas("mfcc", self.mfcc.n_mfcc),
            FeatureKind::LogMel => with_deltas("logmel", self.mel.n_mels),
            FeatureKind::Pitch => pitch_names(&self.pitch),
            FeatureKind::All => {
                let mut names = with_deltas("mfcc", self.mfcc.n_mfcc);
                for name in [
                    "rms",
                    "zero_crossing_rate",
                    "spectral_centroid",
                    "spectral_bandwidth",
                    "spectral_rolloff",
                    "spectral_flatness",
                ] {
                    names.push(name.into());
                }
                names.extend(numbered(
                    "spectral_contrast",
                    self.spectral.contrast.n_bands + 1,
                ));
                names.extend(numbered("chroma", self.spectral.n_chroma));
                names.extend(pitch_names(&self.pitch));
                if self.voice_quality {
                    names.extend(VOICE_QUALITY_NAMES.map(String::from));
                }
                if let Some(intonation) = &self.intonation {
                    names.extend(
                        pitch_names(intonation)
                            .into_iter()
                            .map(|name| format!("intonation_{name}")),
                    );
                }
                names
            }
            FeatureKind::Whisper => {
                // An encoder that cannot be loaded has no rows; extraction says why.
                let width = self
                    .whisper
                    .as_ref()
                    .and_then(|whisper| whisper.encoder().ok())
                    .map_or(0, |encoder| encoder.width());
                numbered("whisper", width)
            }
        }
    }

    /// Features of samples that are already preprocessed, in f64 (bins x frames layout).
    pub fn extract_prepared(&self, samples: &[f32], sr: f64) -> Result<Matrix, FeatureError> {
        self.extract_shared(&mut SharedAnalysis::new(samples, sr))
    }

    /// [`Self::extract_prepared`] of `shared`'s signal, reusing the analyses that other
    /// configurations already made of it (the same result as without sharing).
    pub fn extract_shared(&self, shared: &mut SharedAnalysis<'_>) -> Result<Matrix, FeatureError> {
        let (samples, sr) = (shared.samples, shared.sr);
        if self.deltas.order > 2 {
            return Err(FeatureError::invalid("deltas.order must be 0, 1 or 2"));
        }
        if let Some(silence) = &self.silence
            && !(silence.top_db.is_finite() && silence.top_db > 0.0)
        {
            return Err(FeatureError::invalid(format!(
                "silence.top_db must be a positive number of dB, got {}",
                silence.top_db
            )));
        }
        if self.whisper.is_some() != (self.kind == FeatureKind::Whisper) {
            return Err(FeatureError::invalid(
                "kind \"whisper\" needs [features.whisper] (its weights), and only it",
            ));
        }
        if self.voice_quality && self.kind != FeatureKind::All {
            return Err(FeatureError::invalid(
                "voice_quality adds to the features of kind \"all\" only",
            ));
        }
        let features = match self.kind {
            FeatureKind::Mfcc | FeatureKind::LogMel => {
                let mel = melspectrogram(samples, sr, &self.stft, &self.mel)?;
                let base = self.log_mel_or_mfcc(&mel)?;
                self.append_deltas(base)?
            }
            FeatureKind::Pitch => shared.pitch(self, &self.pitch)?,
            FeatureKind::All => self.all(shared)?,
            FeatureKind::Whisper => self.whisper_states(shared)?,
        };
        Ok(match &self.silence {
            Some(silence) => self.drop_silent_frames(features, samples, silence),
            None => features,
        })
    }

    /// `features` without the columns of silent frames (with `edges_only`, of those before the
    /// first and after the last loud frame); all of them when every frame is
    /// silent by the criterion (digital silence: every frame equals the loudest).
    fn drop_silent_frames(
        &self,
        features: Matrix,
        samples: &[f32],
        silence: &SilenceConfig,
    ) -> Matrix {
        // Whisper's vectors are 20 ms apart, each reading a 25 ms window of its own.
        let (frame_length, hop) = match self.kind {
            FeatureKind::Whisper => (WHISPER_WINDOW, WHISPER_HOP),
            _ => (self.stft.n_fft, self.stft.hop_length),
        };
        let loud = ser_audio::non_silent_frames(samples, frame_length, hop, silence.top_db, None);
        // A frame past the loudness frames (a non-centred STFT's count) is kept.
        let is_loud = |col: usize| loud.get(col).copied().unwrap_or(true);
        let kept: Vec<usize> = if silence.edges_only {
            match (0..features.cols).find(|&col| is_loud(col)) {
                Some(first) => {
                    let last = (first..features.cols).rfind(|&col| is_loud(col));
                    (first..=last.unwrap_or(first)).collect()
                }
                None => Vec::new(),
            }
        } else {
            (0..features.cols).filter(|&col| is_loud(col)).collect()
        };
        if kept.len() == features.cols || kept.is_empty() {
            return features;
        }
        let data = (0..features.rows)
            .flat_map(|row| kept.iter().map(move |&col| (row, col)))
            .map(|(row, col)| features.data[row * features.cols + col])
            .collect();
        Matrix {
            rows: features.rows,
            cols: kept.len(),
            data,
        }
    }

    /// Log-mel bands in dB, or MFCCs from them, of a mel spectrogram.
    fn log_mel_or_mfcc(&self, mel: &Matrix) -> Result<Matrix, FeatureError> {
        let log_mel = power_to_db(mel, &self.db)?;
        match self.kind {
            FeatureKind::LogMel => Ok(log_mel),
            _ => mfcc_from_db(&log_mel, self.mfcc.n_mfcc, self.mfcc.lifter),
        }
    }

    fn append_deltas(&self, base: Matrix) -> Result<Matrix, FeatureError> {
        if self.deltas.order == 0 {
            return Ok(base);
        }
        let frames = base.cols;
        let width = if frames >= self.deltas.width {
            self.deltas.width
        } else if frames % 2 == 1 {
            frames
        } else {
            frames.saturating_sub(1)
        };
        let mut parts = vec![base];
        for order in 1..=self.deltas.order {
            let derivative = if width >= 3 && order < width {
                delta(&parts[0], width, order)?
            } else {
                Matrix::zeros(parts[0].rows, frames)
            };
            parts.push(derivative);
        }
        Ok(Matrix::stack(&parts))
    }

    /// The pitch range and frames of a pitch track (and of the harmonics-to-noise ratio),
    /// on the STFT's hop and centring.
    fn pitch_framing(&self, pitch: &PitchConfig) -> YinConfig {
        YinConfig {
            fmin: pitch.fmin,
            fmax: pitch.fmax,
            frame_length: pitch.frame_length,
            hop_length: Some(self.stft.hop_length),
            center: self.stft.center,
        }
    }

    fn pitch_rows(
        &self,
        pitch: &PitchConfig,
        samples: &[f32],
        sr: f64,
    ) -> Result<Matrix, FeatureError> {
        let yin_config = self.pitch_framing(pitch);
        let rows: Vec<Vec<f64>> = match pitch.method {
            PitchMethod::Yin => {
                let f0 = yin(samples, sr, &yin_config, pitch.trough_threshold)?;
                vec![match pitch.unit {
                    PitchUnit::Hz => f0,
                    PitchUnit::Semitones => f0.into_iter().map(semitones_above_a0).collect(),
                }]
            }
            PitchMethod::Pyin => {
                let track = pyin(samples, sr, &yin_config, &pitch.pyin)?;
                let f0 = match pitch.unit {
                    PitchUnit::Hz => track
                        .f0
                        .iter()
                        .map(|f| if f.is_nan() { 0.0 } else { *f })
                        .collect(),
                    PitchUnit::Semitones => semitone_contour(
                        &track.f0,
                        semitones_above_a0((pitch.fmin * pitch.fmax).sqrt()),
                    ),
                };
                vec![
                    f0,
                    track
                        .voiced_flag
                        .iter()
                        .map(|&v| f64::from(u8::from(v)))
                        .collect(),
                    track.voiced_prob,
                ]
            }
        };
        let cols = rows[0].len();
        Ok(Matrix {
            rows: rows.len(),
            cols,
            data: rows.concat(),
        })
    }

    /// Kind `whisper`: the encoder's hidden states, one column per 20 ms.
    fn whisper_states(&self, shared: &mut SharedAnalysis<'_>) -> Result<Matrix, FeatureError> {
        let whisper = self.whisper.as_ref().expect("checked in extract_shared");
        let sr = shared.sr;
        if sr != f64::from(crate::whisper::SAMPLE_RATE) {
            return Err(FeatureError::invalid(format!(
                "Whisper's encoder reads audio at {} Hz (set [features.audio] sample_rate), got {sr} Hz",
                crate::whisper::SAMPLE_RATE
            )));
        }
        let encoder = whisper.encoder()?;
        let blocks = whisper.blocks.unwrap_or(encoder.n_blocks());
        let states = shared.whisper_states(encoder, blocks)?;
        let (frames, width) = states.dim();
        let mut matrix = Matrix::zeros(width, frames);
        for ((frame, row), &value) in states.indexed_iter() {
            matrix.data[row * frames + frame] = f64::from(value);
        }
        Ok(matrix)
    }

    fn all(&self, shared: &mut SharedAnalysis<'_>) -> Result<Matrix, FeatureError> {
        let (samples, sr) = (shared.samples, shared.sr);
        let n_fft = self.stft.n_fft;
        let magnitude = shared.magnitude(&self.stft)?;
        let mut power = magnitude.clone();
        power.data.iter_mut().for_each(|v| *v *= *v);
        let mel_input = if self.mel.power == 2.0 {
            power.clone()
        } else {
            spectrogram(samples, &self.stft, self.mel.power)?
        };
        let framing = Framing {
            frame_length: n_fft,
            hop_length: self.stft.hop_length,
            center: self.stft.center,
        };
        let spectral = &self.spectral;
        let mut parts = vec![
            self.append_deltas(self.log_mel_or_mfcc(
                &cached_mel_filterbank(sr, n_fft, &self.mel)?.apply(&mel_input)?,
            )?)?,
            rms(samples, &framing)?,
            zero_crossing_rate(samples, &framing)?,
            spectral_centroid(&magnitude, sr, n_fft)?,
            spectral_bandwidth(&magnitude, sr, n_fft, true, 2.0)?,
            spectral_rolloff(&magnitude, sr, n_fft, spectral.roll_percent)?,
            spectral_flatness(&magnitude, 1e-10, 2.0)?,
            spectral_contrast(&magnitude, sr, n_fft, &spectral.contrast)?,
        ];
        if spectral.n_chroma > 0 {
            parts.push(crate::chroma::chroma_stft(
                &power,
                sr,
                n_fft,
                None,
                spectral.n_chroma,
                Some(f64::INFINITY),
            )?);
        }
        parts.push(shared.pitch(self, &self.pitch)?);
        if self.voice_quality {
            let hnr = harmonics_to_noise(samples, sr, &self.pitch_framing(&self.pitch))?;
            parts.extend([
                alpha_ratio(&magnitude, sr, n_fft)?,
                hammarberg_index(&magnitude, sr, n_fft)?,
                spectral_slope(&magnitude, sr, n_fft, 0.0, 500.0)?,
                spectral_slope(&magnitude, sr, n_fft, 500.0, 1500.0)?,
                spectral_flux(&magnitude),
                Matrix {
                    rows: 1,
                    cols: hnr.len(),
                    data: hnr,
                },
            ]);
        }
        if let Some(intonation) = &self.intonation {
            parts.push(shared.pitch(self, intonation)?);
        }
        // Different frame lengths can differ by a frame when not centred: keep the common span.
        let frames = parts.iter().map(|part| part.cols).min().unwrap_or(0);
        let aligned: Vec<Matrix> = parts
            .iter()
            .map(|part| part.truncate_columns(frames))
            .collect();
        Ok(Matrix::stack(&aligned))
    }
}

/// E.g. "pYIN pitch in semitones".
fn pitch_description(pitch: &PitchConfig) -> &'static str {
    match (pitch.method, pitch.unit) {
        (PitchMethod::Pyin, PitchUnit::Hz) => "pYIN pitch",
        (PitchMethod::Pyin, PitchUnit::Semitones) => "pYIN pitch in semitones",
        (PitchMethod::Yin, PitchUnit::Hz) => "YIN pitch",
        (PitchMethod::Yin, PitchUnit::Semitones) => "YIN pitch in semitones",
    }
}

/// Semitones above A0 (27.5 Hz), the F0 scale of eGeMAPS.
fn semitones_above_a0(hz: f64) -> f64 {
    12.0 * (hz / 27.5).log2()
}

/// A pYIN track (NaN where unvoiced) in semitones, its unvoiced frames filled by linear
/// interpolation between the voiced frames around them and held beyond the first and last;
/// `unvoiced` everywhere when no frame is voiced.
fn semitone_contour(f0: &[f64], unvoiced: f64) -> Vec<f64> {
    let voiced: Vec<(usize, f64)> = f0
        .iter()
        .enumerate()
        .filter(|(_, hz)| hz.is_finite() && **hz > 0.0)
        .map(|(frame, &hz)| (frame, semitones_above_a0(hz)))
        .collect();
    let (Some(&first), Some(&last)) = (voiced.first(), voiced.last()) else {
        return vec![unvoiced; f0.len()];
    };
    let mut contour = vec![first.1; f0.len()];
    for pair in voiced.windows(2) {
        let ((start, from), (end, to)) = (pair[0], pair[1]);
        for (step, value) in contour[start..end].iter_mut().enumerate() {
            *value = from + step as f64 / (end - start) as f64 * (to - from);
        }
    }
    contour[last.0..].fill(last.1);
    contour
}

/// What several feature configurations can share of one prepared signal: its magnitude
/// spectrograms and pitch tracks, the costly parts of kind `all`, each computed once per
/// STFT / pitch setting (an ensemble whose models read different features of the same audio).
pub struct SharedAnalysis<'a> {
    samples: &'a [f32],
    sr: f64,
    magnitudes: Vec<(StftConfig, Matrix)>,
    /// Keyed by the pitch settings and the STFT's hop and centring, which frame the track.
    pitch_tracks: Vec<((PitchConfig, usize, bool), Matrix)>,
    /// Passes through Whisper encoders, as deep as the configurations so far read them.
    whisper_passes: Vec<(Arc<WhisperEncoder>, EncoderPass)>,
}

impl<'a> SharedAnalysis<'a> {
    /// Nothing analysed yet of `samples` (already preprocessed) at `sr` Hz.
    pub fn new(samples: &'a [f32], sr: f64) -> Self {
        Self {
            samples,
            sr,
            magnitudes: Vec::new(),
            pitch_tracks: Vec::new(),
            whisper_passes: Vec::new(),
        }
    }

    /// `encoder`'s states after its first `blocks` blocks: a pass of the same encoder that
    /// stopped at fewer blocks goes on from there (Whisper after 2 and after 3 blocks cost 3).
    fn whisper_states(
        &mut self,
        encoder: Arc<WhisperEncoder>,
        blocks: usize,
    ) -> Result<ndarray::Array2<f32>, FeatureError> {
        let reusable = self
            .whisper_passes
            .iter()
            .position(|(done, pass)| Arc::ptr_eq(done, &encoder) && pass.blocks() <= blocks);
        let index = match reusable {
            Some(index) => index,
            None => {
                let pass = encoder.start(&log_mel(self.samples)?)?;
                self.whisper_passes.push((encoder, pass));
                self.whisper_passes.len() - 1
            }
        };
        let (encoder, pass) = &mut self.whisper_passes[index];
        encoder.advance(pass, blocks)?;
        Ok(encoder.states(pass))
    }

    fn magnitude(&mut self, stft: &StftConfig) -> Result<Matrix, FeatureError> {
        if let Some((_, magnitude)) = self.magnitudes.iter().find(|(done, _)| done == stft) {
            return Ok(magnitude.clone());
        }
        let magnitude = spectrogram(self.samples, stft, 1.0)?;
        self.magnitudes.push((*stft, magnitude.clone()));
        Ok(magnitude)
    }

    /// `config`'s track of `pitch` (its own pitch or its intonation track).
    fn pitch(
        &mut self,
        config: &FeatureConfig,
        pitch: &PitchConfig,
    ) -> Result<Matrix, FeatureError> {
        let key = (*pitch, config.stft.hop_length, config.stft.center);
        if let Some((_, track)) = self.pitch_tracks.iter().find(|(done, _)| *done == key) {
            return Ok(track.clone());
        }
        let track = config.pitch_rows(pitch, self.samples, self.sr)?;
        self.pitch_tracks.push((key, track.clone()));
        Ok(track)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semitone_contour_interpolates_unvoiced_frames_and_holds_the_ends() {
        let nan = f64::NAN;
        // 110 Hz is 24 semitones above 27.5 Hz, 220 Hz 36.
        let contour = semitone_contour(&[nan, 110.0, nan, nan, 220.0, nan], 0.0);
        let expected = [24.0, 24.0, 28.0, 32.0, 36.0, 36.0];
        for (got, want) in contour.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{contour:?}");
        }
        assert_eq!(semitone_contour(&[nan, nan], 7.0), vec![7.0, 7.0]);
        assert!(semitone_contour(&[], 7.0).is_empty());
    }

    #[test]
    fn semitone_unit_names_its_row_and_keeps_hz_configs_bytes() {
        let mut config = FeatureConfig {
            kind: FeatureKind::Pitch,
            ..FeatureConfig::default()
        };
        let hz = serde_json::to_string(&config).unwrap();
        assert!(!hz.contains("unit"), "{hz}");
        config.pitch.unit = PitchUnit::Semitones;
        assert_eq!(config.feature_names()[0], "f0_semitones");
        let semitones = serde_json::to_string(&config).unwrap();
        let back: FeatureConfig = serde_json::from_str(&semitones).unwrap();
        assert_eq!(back.pitch.unit, PitchUnit::Semitones);
    }
}
