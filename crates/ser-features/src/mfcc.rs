//! Mel-frequency cepstral coefficients (`librosa.feature.mfcc`).

use std::cell::RefCell;
use std::f64::consts::PI;
use std::rc::Rc;
use std::sync::Arc;

use realfft::RealToComplex;
use realfft::num_complex::Complex;

use serde::{Deserialize, Serialize};

use crate::db::{DbConfig, power_to_db};
use crate::mel::{MelConfig, melspectrogram};
use crate::stft::{StftConfig, forward_plan};
use crate::{FeatureError, Matrix};

/// MFCC parameters on top of the mel spectrogram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfccConfig {
    pub n_mfcc: usize,
    /// Cepstral liftering coefficient; 0 disables it (librosa's default).
    pub lifter: f64,
}

impl Default for MfccConfig {
    fn default() -> Self {
        Self {
            n_mfcc: 40,
            lifter: 0.0,
        }
    }
}

/// Orthonormal DCT-II (`scipy.fftpack.dct(type=2, norm="ortho")`) through one real FFT of
/// the same length (Makhoul, 1980): the even-indexed inputs in order followed by the
/// odd-indexed ones reversed, transformed, and each bin k rotated by e^(-i pi k / 2N).
/// O(N log N) per frame instead of the basis product's O(n_out N).
struct OrthoDct {
    n_in: usize,
    fft: Arc<dyn RealToComplex<f64>>,
    /// Output k is `Re(rotations[k] * X_k)`: the rotation with the ortho scale folded in.
    rotations: Vec<Complex<f64>>,
}

impl OrthoDct {
    fn new(n_out: usize, n_in: usize) -> Self {
        let rotations = (0..n_out)
            .map(|k| {
                let scale = if k == 0 {
                    (1.0 / n_in as f64).sqrt()
                } else {
                    (2.0 / n_in as f64).sqrt()
                };
                Complex::from_polar(scale, -PI * k as f64 / (2 * n_in) as f64)
            })
            .collect();
        Self {
            n_in,
            fft: forward_plan(n_in),
            rotations,
        }
    }

    /// The first `rotations.len()` DCT coefficients of each column of `input`, scaled by
    /// `gains`, as the rows of a new matrix.
    fn transform_columns(&self, input: &Matrix, gains: &[f64]) -> Result<Matrix, FeatureError> {
        let (n, frames) = (self.n_in, input.cols);
        let mut out = Matrix::zeros(self.rotations.len(), frames);
        let mut reordered = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        for frame in 0..frames {
            for (index, slot) in reordered.iter_mut().enumerate() {
                let source = if 2 * index < n {
                    2 * index
                } else {
                    2 * (n - 1 - index) + 1
                };
                *slot = input.data[source * frames + frame];
            }
            self.fft
                .process_with_scratch(&mut reordered, &mut spectrum, &mut scratch)
                .map_err(|error| FeatureError::invalid(format!("FFT failed: {error}")))?;
            for (k, (rotation, gain)) in self.rotations.iter().zip(gains).enumerate() {
                // The real FFT keeps bins 0..=n/2; the others are conjugates of those.
                let bin = if k <= n / 2 {
                    spectrum[k]
                } else {
                    spectrum[n - k].conj()
                };
                out.data[k * frames + frame] = (rotation * bin).re * gain;
            }
        }
        Ok(out)
    }
}

/// (n_out, n_in) and the transform of that shape.
type DctCacheEntry = ((usize, usize), Rc<OrthoDct>);

thread_local! {
    static DCT_CACHE: RefCell<Option<DctCacheEntry>> = const { RefCell::new(None) };
}

/// [`OrthoDct`] memoised per thread for the most recent shape.
fn cached_dct(n_out: usize, n_in: usize) -> Rc<OrthoDct> {
    DCT_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        match cache.as_ref() {
            Some((shape, dct)) if *shape == (n_out, n_in) => Rc::clone(dct),
            _ => {
                let dct = Rc::new(OrthoDct::new(n_out, n_in));
                *cache = Some(((n_out, n_in), Rc::clone(&dct)));
                dct
            }
        }
    })
}

/// MFCC from a log-power (dB) mel spectrogram: DCT-II ortho over mel bands, optional lifter.
pub fn mfcc_from_db(log_mel: &Matrix, n_mfcc: usize, lifter: f64) -> Result<Matrix, FeatureError> {
    if n_mfcc == 0 || n_mfcc > log_mel.rows {
        return Err(FeatureError::invalid(format!(
            "n_mfcc must lie in 1..={} (the number of mel bands)",
            log_mel.rows
        )));
    }
    if lifter < 0.0 {
        return Err(FeatureError::invalid("lifter must be non-negative"));
    }
    let gains: Vec<f64> = (0..n_mfcc)
        .map(|k| {
            if lifter > 0.0 {
                1.0 + (lifter / 2.0) * (PI * (k + 1) as f64 / lifter).sin()
            } else {
                1.0
            }
        })
        .collect();
    cached_dct(n_mfcc, log_mel.rows).transform_columns(log_mel, &gains)
}

/// `librosa.feature.mfcc(y, sr, n_mfcc, lifter, **melspectrogram kwargs)`; `db` is the
/// `power_to_db` step (librosa's defaults: ref 1, amin 1e-10, top_db 80).
pub fn mfcc(
    y: &[f32],
    sr: f64,
    stft: &StftConfig,
    mel: &MelConfig,
    db: &DbConfig,
    config: &MfccConfig,
) -> Result<Matrix, FeatureError> {
    let log_mel = power_to_db(&melspectrogram(y, sr, stft, mel)?, db)?;
    mfcc_from_db(&log_mel, config.n_mfcc, config.lifter)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DCT-II ortho definition, one coefficient at a time.
    fn direct_dct(column: &[f64], k: usize) -> f64 {
        let n = column.len() as f64;
        let scale = if k == 0 {
            (1.0 / n).sqrt()
        } else {
            (2.0 / n).sqrt()
        };
        let sum: f64 = column
            .iter()
            .enumerate()
            .map(|(i, x)| x * (PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n)).cos())
            .sum();
        scale * sum
    }

    #[test]
    fn fft_dct_matches_the_definition_for_even_and_odd_lengths() {
        for (n_in, n_out) in [(128, 40), (128, 128), (13, 13), (2, 1), (1, 1)] {
            let frames = 3;
            let data = (0..n_in * frames)
                .map(|i| ((i * 7919) % 101) as f64 - 50.0)
                .collect();
            let input = Matrix {
                rows: n_in,
                cols: frames,
                data,
            };
            let out = mfcc_from_db(&input, n_out, 0.0).unwrap();
            for frame in 0..frames {
                let column = input.column(frame);
                for k in 0..n_out {
                    let expected = direct_dct(&column, k);
                    let got = out.get(k, frame);
                    assert!(
                        (got - expected).abs() < 1e-9 * expected.abs().max(1.0),
                        "n={n_in} k={k}: {got} vs {expected}"
                    );
                }
            }
        }
    }
}
