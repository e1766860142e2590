//! Mel-frequency cepstral coefficients (`librosa.feature.mfcc`).

use std::cell::RefCell;
use std::f64::consts::PI;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::db::{DbConfig, power_to_db};
use crate::mel::{MelConfig, melspectrogram};
use crate::stft::StftConfig;
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

/// Orthonormal DCT-II basis (`scipy.fftpack.dct(type=2, norm="ortho")`), first `n_out` rows.
pub fn dct_ortho_basis(n_out: usize, n_in: usize) -> Matrix {
    let mut basis = Matrix::zeros(n_out, n_in);
    for k in 0..n_out {
        let scale = if k == 0 {
            (1.0 / n_in as f64).sqrt()
        } else {
            (2.0 / n_in as f64).sqrt()
        };
        for (n, value) in basis.row_mut(k).iter_mut().enumerate() {
            *value = scale * (PI * k as f64 * (2 * n + 1) as f64 / (2 * n_in) as f64).cos();
        }
    }
    basis
}

/// (n_out, n_in) and the basis of that shape.
type DctCacheEntry = ((usize, usize), Rc<Matrix>);

thread_local! {
    static DCT_CACHE: RefCell<Option<DctCacheEntry>> = const { RefCell::new(None) };
}

/// [`dct_ortho_basis`] memoised per thread for the most recent shape.
fn cached_dct_basis(n_out: usize, n_in: usize) -> Rc<Matrix> {
    DCT_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        match cache.as_ref() {
            Some((shape, basis)) if *shape == (n_out, n_in) => Rc::clone(basis),
            _ => {
                let basis = Rc::new(dct_ortho_basis(n_out, n_in));
                *cache = Some(((n_out, n_in), Rc::clone(&basis)));
                basis
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
    let basis = cached_dct_basis(n_mfcc, log_mel.rows);
    let mut out = Matrix::zeros(n_mfcc, log_mel.cols);
    for k in 0..n_mfcc {
        let gain = if lifter > 0.0 {
            1.0 + (lifter / 2.0) * (PI * (k + 1) as f64 / lifter).sin()
        } else {
            1.0
        };
        let row = out.row_mut(k);
        for (n, weight) in basis.row(k).iter().enumerate() {
            for (acc, value) in row.iter_mut().zip(log_mel.row(n)) {
                *acc += weight * value;
            }
        }
        row.iter_mut().for_each(|v| *v *= gain);
    }
    Ok(out)
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
