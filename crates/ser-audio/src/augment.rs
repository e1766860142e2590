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
