//! Training-time augmentation. Every random choice comes from an explicit seed, so an
//! augmented data set is reproducible bit for bit on any machine and across releases
//! (the generator is defined here, not borrowed from a crate whose streams may change).

use crate::resample::resample_between;
use crate::{Audio, AudioError, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};

/// Add white Gaussian noise so that signal power / noise power = `snr_db` dB.
/// Silence stays silent (an SNR relative to no signal is meaningless).
pub fn add_noise_snr(samples: &mut [f32], snr_db: f32, seed: u64) -> Result<(), AudioError> {
    if !snr_db.is_finite() {
        return Err(AudioError::InvalidParameter(format!(
            "snr_db must be finite, got {snr_db}"
        )));
    }
    let signal_power: f64 = crate::preprocess::rms(samples).powi(2);
    if signal_power == 0.0 {
        return Ok(());
    }
    let noise_std = (signal_power / 10f64.powf(f64::from(snr_db) / 10.0)).sqrt();
    let mut rng = SplitMix64::new(seed);
    for sample in samples.iter_mut() {
        *sample = (f64::from(*sample) + noise_std * rng.next_gaussian()) as f32;
    }
    Ok(())
}

/// Move the content by `offset` samples (positive = later), filling the gap with zeros.
/// Content shifted past either end is dropped; nothing wraps around.
pub fn shift(samples: &mut [f32], offset: isize) {
    let len = samples.len();
    let distance = offset.unsigned_abs().min(len);
    if offset >= 0 {
        samples.copy_within(..len - distance, distance);
        samples[..distance].fill(0.0);
    } else {
        samples.copy_within(distance.., 0);
        samples[len - distance..].fill(0.0);
    }
}

/// Shift by a seeded uniform offset in `-max_shift..=max_shift` samples (see [`shift`]).
/// Returns the offset used.
pub fn time_shift(samples: &mut [f32], max_shift: usize, seed: u64) -> isize {
    let span = max_shift.min(isize::MAX as usize / 2);
    let draw = SplitMix64::new(seed).next_below(2 * span as u64 + 1);
    let offset = draw as isize - span as isize;
    shift(samples, offset);
    offset
}

/// Play `factor` times faster (0.9 = slower and lower, 1.1 = faster and higher), as Kaldi's
/// speed perturbation does: resample from `rate * factor` to `rate` and keep `rate`.
/// The result has about `len / factor` samples.
pub fn speed_perturb(audio: &Audio, factor: f32) -> Result<Audio, AudioError> {
    if !(factor.is_finite() && (0.25..=4.0).contains(&factor)) {
        return Err(AudioError::InvalidParameter(format!(
            "speed factor must be in [0.25, 4], got {factor}"
        )));
    }
    let virtual_rate = (f64::from(audio.sample_rate) * f64::from(factor)).round();
    let virtual_rate = virtual_rate.clamp(f64::from(MIN_SAMPLE_RATE), f64::from(MAX_SAMPLE_RATE));
    let samples = resample_between(&audio.samples, virtual_rate as u32, audio.sample_rate)?;
    Ok(Audio::new(samples, audio.sample_rate))
}

/// Largest pitch shift [`pitch_shift`] accepts, in semitones (an octave either way).
pub const MAX_PITCH_SEMITONES: f32 = 12.0;

/// Raise the voice by `semitones` (negative = lower) at the same tempo and length: the
/// clip is played `2^(semitones/12)` times faster ([`speed_perturb`]: pitch and formants
/// move together, as for a smaller or larger speaker) and stretched back to its duration
/// with WSOLA, which keeps the new pitch. Separates a speaker's register from speaking rate,
/// an emotion cue that speed perturbation changes too.
pub fn pitch_shift(audio: &Audio, semitones: f32) -> Result<Audio, AudioError> {
    if !(semitones.is_finite() && semitones.abs() <= MAX_PITCH_SEMITONES) {
        return Err(AudioError::InvalidParameter(format!(
            "pitch shift must be within ±{MAX_PITCH_SEMITONES} semitones, got {semitones}"
        )));
    }
    if semitones == 0.0 || audio.samples.is_empty() {
        return Ok(audio.clone());
    }
    let factor = 2f32.powf(semitones / 12.0);
    let faster = speed_perturb(audio, factor)?;
    let rate = std::num::NonZeroU32::new(audio.sample_rate)
        .ok_or_else(|| AudioError::InvalidParameter("sample rate 0".into()))?;
    let mono = std::num::NonZeroU16::MIN;
    let mut samples = wsola::stretch(&faster.samples, rate, mono, 1.0 / factor)
        .map_err(|error| AudioError::InvalidParameter(format!("time stretch: {error}")))?;
    samples.resize(audio.samples.len(), 0.0);
    Ok(Audio::new(samples, audio.sample_rate))
}

/// Multiply by `gain_db` decibels (no clipping: samples are floats).
pub fn apply_gain(samples: &mut [f32], gain_db: f32) {
    let factor = 10f32.powf(gain_db / 20.0);
    samples.iter_mut().for_each(|sample| *sample *= factor);
}

/// Longest synthetic room response: later reflections of a living room or office are
/// ~60 dB down by then.
const MAX_REVERB_SECONDS: f32 = 1.0;

/// Convolve with a synthetic room impulse response: a direct path and an exponentially
/// decaying Gaussian tail (the Sabine model behind most synthetic-RIR augmentation) that
/// decays by 60 dB in `rt60_s` seconds, with `direct_to_reverberant_db` between the energy
/// of the direct path and of the tail. The result keeps the input's length and RMS level,
/// so only the room changes, not the loudness.
pub fn add_reverb(
    audio: &Audio,
    rt60_s: f32,
    direct_to_reverberant_db: f32,
    seed: u64,
) -> Result<Audio, AudioError> {
    if !(rt60_s.is_finite() && rt60_s > 0.0 && rt60_s <= 10.0) {
        return Err(AudioError::InvalidParameter(format!(
            "rt60_s must be in (0, 10] seconds, got {rt60_s}"
        )));
    }
    if !direct_to_reverberant_db.is_finite() {
        return Err(AudioError::InvalidParameter(format!(
            "direct_to_reverberant_db must be finite, got {direct_to_reverberant_db}"
        )));
    }
    let rate = audio.sample_rate as f32;
    let tail_len = (rt60_s.min(MAX_REVERB_SECONDS) * rate).ceil() as usize;
    // 60 dB of energy decay over rt60: amplitude envelope exp(-3 ln(10) n / (rt60 rate)).
    let decay = 3.0 * std::f64::consts::LN_10 / f64::from(rt60_s * rate);
    let mut rng = SplitMix64::new(seed);
    let mut response: Vec<f64> = (0..=tail_len)
        .map(|n| {
            if n == 0 {
                0.0
            } else {
                rng.next_gaussian() * (-decay * n as f64).exp()
            }
        })
        .collect();
    let tail_energy: f64 = response.iter().map(|value| value * value).sum();
    let tail_scale = if tail_energy > 0.0 {
        (10f64.powf(-f64::from(direct_to_reverberant_db) / 10.0) / tail_energy).sqrt()
    } else {
        0.0
    };
    response.iter_mut().for_each(|value| *value *= tail_scale);
    response[0] = 1.0;
    let mut samples = convolve_same_length(&audio.samples, &response);
    match_level(&mut samples, crate::preprocess::rms(&audio.samples));
    Ok(Audio::new(samples, audio.sample_rate))
}

/// The narrowband telephone channel: resampled to 8 kHz, band-limited to 300-3400 Hz (the
/// ITU-T G.712 passband) and coded as 8-bit G.711 mu-law, whose quantisation noise follows
/// the signal level as a codec's does. The result stays at 8 kHz (or the input's rate if
/// that is lower); feature extraction resamples it like any other recording.
pub fn telephone(audio: &Audio) -> Result<Audio, AudioError> {
    const RATE: u32 = 8_000;
    let mut audio = if audio.sample_rate > RATE {
        crate::resample(audio, RATE)?
    } else {
        audio.clone()
    };
    band_pass(&mut audio.samples, audio.sample_rate, 300.0, 3_400.0);
    audio
        .samples
        .iter_mut()
        .for_each(|sample| *sample = mu_law_round_trip(*sample));
    Ok(audio)
}

/// The wideband channel of speech apps, video calls and most emotion corpora (CREMA-D,
/// EMO-DB, IEMOCAP): resampled to 16 kHz, so nothing above 8 kHz is left. A recording at 16 kHz
/// or less passes unchanged.
pub const WIDEBAND_RATE: u32 = 16_000;

/// One degraded copy of a clip: what a user's recording does to a clean studio clip, in the
/// order it happens (voice, room, background noise, phone line, recording level).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Degradation {
    /// Speed factor (see [`speed_perturb`]); 1 leaves the voice as it is.
    pub speed: Option<f32>,
    /// Pitch shift in semitones at the same tempo (see [`pitch_shift`]).
    pub pitch_semitones: Option<f32>,
    /// Room: reverberation time in seconds, direct-to-reverberant ratio in dB, seed.
    pub reverb: Option<(f32, f32, u64)>,
    /// White noise: signal-to-noise ratio in dB and seed.
    pub noise: Option<(f32, u64)>,
    /// The wideband channel: resampled to [`WIDEBAND_RATE`] when recorded above it.
    pub wideband: bool,
    /// The narrowband telephone channel (see [`telephone`]).
    pub telephone: bool,
    /// Recording level change in dB.
    pub gain_db: f32,
}

impl Degradation {
    pub fn apply(&self, audio: &Audio) -> Result<Audio, AudioError> {
        let mut audio = match self.speed {
            Some(factor) => speed_perturb(audio, factor)?,
            None => audio.clone(),
        };
        if let Some(semitones) = self.pitch_semitones {
            audio = pitch_shift(&audio, semitones)?;
        }
        if let Some((rt60_s, direct_to_reverberant_db, seed)) = self.reverb {
            audio = add_reverb(&audio, rt60_s, direct_to_reverberant_db, seed)?;
        }
        if let Some((snr_db, seed)) = self.noise {
            add_noise_snr(&mut audio.samples, snr_db, seed)?;
        }
        if self.wideband && audio.sample_rate > WIDEBAND_RATE {
            audio = crate::resample(&audio, WIDEBAND_RATE)?;
        }
        if self.telephone {
            audio = telephone(&audio)?;
        }
        apply_gain(&mut audio.samples, self.gain_db);
        Ok(audio)
    }
}

/// `signal` convolved with `response`, cut to the length of `signal` (FFT convolution: a
/// second-long response on a 48 kHz clip is 10^9 multiply-adds done directly).
fn convolve_same_length(signal: &[f32], response: &[f64]) -> Vec<f32> {
    if signal.is_empty() {
        return Vec::new();
    }
    let size = (signal.len() + response.len() - 1).next_power_of_two();
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(size);
    let inverse = planner.plan_fft_inverse(size);
    let spectrum_of = |values: &mut Vec<f64>| {
        values.resize(size, 0.0);
        let mut spectrum = forward.make_output_vec();
        forward
            .process(values, &mut spectrum)
            .expect("buffer sizes come from the plan");
        spectrum
    };
    let mut signal_spectrum = spectrum_of(&mut signal.iter().map(|&s| f64::from(s)).collect());
    let response_spectrum = spectrum_of(&mut response.to_vec());
    for (value, filter) in signal_spectrum.iter_mut().zip(&response_spectrum) {
        *value *= filter / size as f64;
    }
    let mut output = inverse.make_output_vec();
    inverse
        .process(&mut signal_spectrum, &mut output)
        .expect("buffer sizes come from the plan");
    output[..signal.len()].iter().map(|&s| s as f32).collect()
}

/// Keep only `low..high` Hz, with 100 Hz raised-cosine edges (a brick wall would ring).
fn band_pass(samples: &mut [f32], sample_rate: u32, low: f64, high: f64) {
    if samples.is_empty() {
        return;
    }
    const EDGE_HZ: f64 = 100.0;
    let size = samples.len();
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(size);
    let inverse = planner.plan_fft_inverse(size);
    let mut input: Vec<f64> = samples.iter().map(|&s| f64::from(s)).collect();
    let mut spectrum = forward.make_output_vec();
    forward
        .process(&mut input, &mut spectrum)
        .expect("buffer sizes come from the plan");
    let bin_hz = f64::from(sample_rate) / size as f64;
    let raised_cosine = |distance: f64| 0.5 - 0.5 * (std::f64::consts::PI * distance).cos();
    for (bin, value) in spectrum.iter_mut().enumerate() {
        let frequency = bin as f64 * bin_hz;
        let gain = if frequency <= low - EDGE_HZ || frequency >= high + EDGE_HZ {
            0.0
        } else if frequency < low {
            raised_cosine((frequency - (low - EDGE_HZ)) / EDGE_HZ)
        } else if frequency > high {
            raised_cosine(((high + EDGE_HZ) - frequency) / EDGE_HZ)
        } else {
            1.0
        };
        *value *= gain / size as f64;
    }
    // A real signal's DC and Nyquist bins must stay real; both are outside the band.
    spectrum[0].im = 0.0;
    if let Some(last) = spectrum.last_mut() {
        last.im = 0.0;
    }
    inverse
        .process(&mut spectrum, &mut input)
        .expect("buffer sizes come from the plan");
    for (sample, value) in samples.iter_mut().zip(&input) {
        *sample = *value as f32;
    }
}

/// Encode to 8-bit G.711 mu-law (mu = 255) and decode again, clipping at full scale.
fn mu_law_round_trip(sample: f32) -> f32 {
    const MU: f32 = 255.0;
    let clipped = sample.clamp(-1.0, 1.0);
    let companded = clipped.signum() * (1.0 + MU * clipped.abs()).ln() / (1.0 + MU).ln();
    let code = (companded * 127.0).round() / 127.0;
    code.signum() * ((1.0 + MU).powf(code.abs()) - 1.0) / MU
}

/// Scale `samples` to `target_rms` (nothing to do for silence).
fn match_level(samples: &mut [f32], target_rms: f64) {
    let current = crate::preprocess::rms(samples);
    if current > 0.0 {
        let factor = (target_rms / current) as f32;
        samples.iter_mut().for_each(|sample| *sample *= factor);
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and fully specified, so seeded
/// streams never change.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so its logarithm is finite.
    fn next_unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..bound` (bound > 0), by multiply-shift.
    fn next_below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Standard normal (Box-Muller; one value per call keeps the stream simple).
    fn next_gaussian(&mut self) -> f64 {
        let radius = (-2.0 * self.next_unit().ln()).sqrt();
        let angle = std::f64::consts::TAU * self.next_unit();
        radius * angle.cos()
    }
}
