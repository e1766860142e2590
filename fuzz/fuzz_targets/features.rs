//! Feature extraction on arbitrary sample arrays and arbitrary feature configurations:
//! `FeatureConfig::extract` returns a matrix of `n_features()` rows or a `FeatureError`.
//!
//! Sizes are bounded so that one input is cheap: at most 2^15 samples (the input's samples
//! repeated), FFT and frame lengths up to 16384, and inputs whose frame count x FFT size (or
//! x pYIN pitch states) exceeds a budget are skipped (a tiny hop on a long clip is slow, not
//! wrong).
#![no_main]
// The configuration is drawn field by field from the input, in a fixed order.
#![allow(clippy::field_reassign_with_default)]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use ser_audio::{Audio, Normalization, TrimConfig};
use ser_features::{
    DbReference, FeatureConfig, FeatureKind, MelNorm, PadMode, PitchMethod, Window,
};

const SPECIAL_F64: [f64; 12] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1e-10,
    1e12,
    -1e12,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MIN_POSITIVE,
];

fn size(u: &mut Unstructured, default: usize, max: usize) -> Result<usize> {
    Ok(match u.int_in_range(0..=3)? {
        0 => default,
        1 => *u
            .choose(&[0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 1023, 1024, 2048])?
            .min(&max),
        _ => u.int_in_range(0..=max)?,
    })
}

fn real(u: &mut Unstructured, default: f64, low: f64, high: f64) -> Result<f64> {
    Ok(match u.int_in_range(0..=3)? {
        0 => default,
        1 => *u.choose(&SPECIAL_F64)?,
        _ => low + (high - low) * f64::from(u.int_in_range(0..=u16::MAX)?) / f64::from(u16::MAX),
    })
}

fn config(u: &mut Unstructured) -> Result<FeatureConfig> {
    let mut c = FeatureConfig::default();
    c.kind = *u.choose(&[
        FeatureKind::Mfcc,
        FeatureKind::LogMel,
        FeatureKind::Pitch,
        FeatureKind::All,
    ])?;
    c.audio.sample_rate = match u.int_in_range(0..=3)? {
        0 => c.audio.sample_rate,
        1 => None,
        2 => Some(*u.choose(&[
            0, 1, 999, 1_000, 8_000, 16_000, 22_050, 48_000, 768_000, 768_001,
        ])?),
        _ => Some(u.int_in_range(1_000..=96_000)?),
    };
    if u.arbitrary()? {
        c.audio.trim = Some(TrimConfig {
            top_db: real(u, 60.0, -10.0, 120.0)? as f32,
            frame_length: size(u, 2048, 16_384)?,
            hop_length: size(u, 512, 8_192)?,
        });
    }
    c.audio.normalize = match u.int_in_range(0..=2)? {
        0 => None,
        1 => Some(Normalization::Peak {
            peak: real(u, 1.0, -2.0, 2.0)? as f32,
        }),
        _ => Some(Normalization::Rms {
            target_dbfs: real(u, -20.0, -100.0, 10.0)? as f32,
        }),
    };
    if u.arbitrary()? {
        c.audio.duration_seconds = Some(real(u, 3.0, -1.0, 4.0)? as f32);
    }
    if u.arbitrary()? {
        c.audio.preemphasis = Some(real(u, 0.97, -1.5, 1.5)? as f32);
    }
    c.stft.n_fft = size(u, c.stft.n_fft, 16_384)?;
    c.stft.hop_length = size(u, c.stft.hop_length, 8_192)?;
    c.stft.win_length = if u.arbitrary()? {
        Some(size(u, c.stft.n_fft, 16_384)?)
    } else {
        None
    };
    c.stft.window = *u.choose(&[
        Window::Hann,
        Window::Hamming,
        Window::Blackman,
        Window::Rectangular,
    ])?;
    c.stft.center = u.arbitrary()?;
    c.stft.pad_mode = *u.choose(&[PadMode::Constant, PadMode::Edge, PadMode::Reflect])?;
    c.mel.n_mels = size(u, c.mel.n_mels, 512)?;
    c.mel.fmin = real(u, c.mel.fmin, -100.0, 20_000.0)?;
    c.mel.fmax = if u.arbitrary()? {
        Some(real(u, 8_000.0, -100.0, 50_000.0)?)
    } else {
        None
    };
    c.mel.htk = u.arbitrary()?;
    c.mel.norm = match u.int_in_range(0..=2)? {
        0 => MelNorm::Slaney,
        1 => MelNorm::None,
        _ => MelNorm::Lp(real(u, 2.0, -1.0, 8.0)?),
    };
    c.mel.power = real(u, c.mel.power, -1.0, 4.0)?;
    c.db.reference = if u.arbitrary()? {
        DbReference::Max
    } else {
        DbReference::Value(real(u, 1.0, -1.0, 10.0)?)
    };
    c.db.amin = real(u, c.db.amin, -1.0, 1.0)?;
    c.db.top_db = if u.arbitrary()? {
        Some(real(u, 80.0, -10.0, 200.0)?)
    } else {
        None
    };
    c.mfcc.n_mfcc = size(u, c.mfcc.n_mfcc, 256)?;
    c.mfcc.lifter = real(u, c.mfcc.lifter, -10.0, 100.0)?;
    c.deltas.order = size(u, c.deltas.order, 4)?;
    c.deltas.width = size(u, c.deltas.width, 64)?;
    c.pitch.method = *u.choose(&[PitchMethod::Pyin, PitchMethod::Yin])?;
    c.pitch.fmin = real(u, c.pitch.fmin, -10.0, 2_000.0)?;
    c.pitch.fmax = real(u, c.pitch.fmax, -10.0, 30_000.0)?;
    c.pitch.frame_length = size(u, c.pitch.frame_length, 16_384)?;
    c.pitch.trough_threshold = real(u, c.pitch.trough_threshold, -1.0, 2.0)?;
    c.pitch.pyin.n_thresholds = size(u, c.pitch.pyin.n_thresholds, 200)?;
    c.pitch.pyin.beta_parameters = (
        real(u, c.pitch.pyin.beta_parameters.0, -1.0, 50.0)?,
        real(u, c.pitch.pyin.beta_parameters.1, -1.0, 50.0)?,
    );
    c.pitch.pyin.boltzmann_parameter = real(u, c.pitch.pyin.boltzmann_parameter, -1.0, 10.0)?;
    c.pitch.pyin.resolution = real(u, c.pitch.pyin.resolution, -0.1, 1.0)?;
    c.pitch.pyin.max_transition_rate = real(u, c.pitch.pyin.max_transition_rate, -1.0, 100.0)?;
    c.pitch.pyin.switch_prob = real(u, c.pitch.pyin.switch_prob, -0.5, 1.5)?;
    c.pitch.pyin.no_trough_prob = real(u, c.pitch.pyin.no_trough_prob, -0.5, 1.5)?;
    c.spectral.roll_percent = real(u, c.spectral.roll_percent, -0.5, 1.5)?;
    c.spectral.contrast.fmin = real(u, c.spectral.contrast.fmin, -10.0, 5_000.0)?;
    c.spectral.contrast.n_bands = size(u, c.spectral.contrast.n_bands, 12)?;
    c.spectral.contrast.quantile = real(u, c.spectral.contrast.quantile, -0.5, 1.5)?;
    c.spectral.contrast.linear = u.arbitrary()?;
    c.spectral.n_chroma = size(u, c.spectral.n_chroma, 48)?;
    Ok(c)
}

fn audio(u: &mut Unstructured) -> Result<Audio> {
    let sample_rate = match u.int_in_range(0..=2)? {
        0 => *u.choose(&[
            1_000, 8_000, 16_000, 22_050, 24_414, 44_100, 48_000, 96_000, 768_000,
        ])?,
        1 => *u.choose(&[0, 1, 999, 768_001, u32::MAX])?,
        _ => u.int_in_range(1_000..=96_000)?,
    };
    // Mostly what a decoder produces (16-bit values); sometimes raw f32 bit patterns.
    let raw = u.ratio(1, 8)?;
    let len = u.int_in_range(0..=1usize << 15)?;
    let mut samples = Vec::with_capacity(len);
    while samples.len() < len && !u.is_empty() {
        samples.push(if raw {
            f32::from_bits(u.arbitrary()?)
        } else {
            f32::from(u.arbitrary::<i16>()?) / 32_768.0
        });
    }
    // Inputs are short (a few kB): repeat what they hold up to the drawn length, so clips of
    // up to 2^15 samples are analysed too.
    if !samples.is_empty() {
        let period = samples.len();
        for i in period..len {
            samples.push(samples[i % period]);
        }
    }
    Ok(Audio::new(samples, sample_rate))
}

/// Skip inputs whose analysis would be slow only because of their size (see the module doc).
fn too_much_work(config: &FeatureConfig, audio: &Audio) -> bool {
    let rate = config.audio.sample_rate.unwrap_or(audio.sample_rate).max(1) as f64;
    let seconds = match config.audio.duration_seconds {
        Some(d) if d.is_finite() && d > 0.0 => d as f64,
        _ => audio.samples.len() as f64 / audio.sample_rate.max(1) as f64,
    };
    let samples = (seconds * rate).min(1e9);
    let hop = config.stft.hop_length.max(1) as f64;
    let frames = samples / hop + 2.0;
    let window = config.stft.n_fft.max(config.pitch.frame_length).max(1) as f64;
    // pYIN's pitch states: 12 log2(fmax / fmin) semitones / resolution.
    let pitch_states = if config.pitch.fmin > 0.0 && config.pitch.fmax > config.pitch.fmin {
        12.0 * (config.pitch.fmax / config.pitch.fmin).log2() / config.pitch.pyin.resolution
    } else {
        0.0
    };
    // Found by the first run: a legal but heavy configuration (n_fft 16265, a Bluestein FFT,
    // on 3.6 s at 70 kHz) takes ~10 s under coverage instrumentation. Such inputs are
    // skipped; the budget leaves ordinary and edge-case configurations in.
    samples > 262_144.0
        || frames * window > 4e6
        || pitch_states.is_nan()
        || frames * pitch_states > 2e6
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(config), Ok(audio)) = (config(&mut u), audio(&mut u)) else {
        return;
    };
    if too_much_work(&config, &audio) {
        return;
    }
    if std::env::var_os("SER_FUZZ_DEBUG").is_some() {
        eprintln!(
            "{config:#?}\n{} samples at {} Hz",
            audio.samples.len(),
            audio.sample_rate
        );
    }
    if let Ok(matrix) = config.extract(&audio) {
        assert_eq!(
            matrix.n_features,
            config.n_features(),
            "extract returned another number of rows than n_features() says"
        );
        assert_eq!(matrix.data.len(), matrix.n_features * matrix.n_frames);
    }
});
