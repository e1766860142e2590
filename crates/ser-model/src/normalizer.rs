//! Per-feature standardisation fitted on the training split, and fixed-length model input.

use ser_features::FeatureMatrix;
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Mean and standard deviation of every feature row over all training frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// Standard deviations below this count as constant features (left unscaled).
const MIN_STD: f64 = 1e-8;

impl Normalizer {
    /// Fit on the given (training) matrices; all must have the same number of features.
    pub fn fit<'a>(
        matrices: impl IntoIterator<Item = &'a FeatureMatrix>,
    ) -> Result<Self, ModelError> {
        let mut sums: Vec<f64> = Vec::new();
        let mut squares: Vec<f64> = Vec::new();
        let mut frames = 0usize;
        for matrix in matrices {
            if sums.is_empty() {
                sums = vec![0.0; matrix.n_features];
                squares = vec![0.0; matrix.n_features];
            }
            if matrix.n_features != sums.len() {
                return Err(ModelError::InputShape {
                    found: matrix.n_features,
                    expected: sums.len(),
                });
            }
            for (feature, (sum, square)) in sums.iter_mut().zip(&mut squares).enumerate() {
                for &value in matrix.row(feature) {
                    *sum += f64::from(value);
                    *square += f64::from(value) * f64::from(value);
                }
            }
            frames += matrix.n_frames;
        }
        if frames == 0 {
            return Err(ModelError::Training(
                "cannot fit the normaliser: no training frames".into(),
            ));
        }
        let count = frames as f64;
        let mean: Vec<f64> = sums.iter().map(|sum| sum / count).collect();
        let std = squares
            .iter()
            .zip(&mean)
            .map(|(square, mean)| {
                let std = (square / count - mean * mean).max(0.0).sqrt();
                if std < MIN_STD { 1.0 } else { std as f32 }
            })
            .collect();
        Ok(Self {
            mean: mean.into_iter().map(|mean| mean as f32).collect(),
            std,
        })
    }

    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Standardise `matrix` and write it into `out` as `[n_features, frames]`: longer inputs
    /// are cropped at the end, shorter ones padded with zeros (the training mean).
    pub fn write_input(
        &self,
        matrix: &FeatureMatrix,
        frames: usize,
        out: &mut [f32],
    ) -> Result<(), ModelError> {
        if matrix.n_features != self.n_features() {
            return Err(ModelError::InputShape {
                found: matrix.n_features,
                expected: self.n_features(),
            });
        }
        debug_assert_eq!(out.len(), self.n_features() * frames);
        let kept = matrix.n_frames.min(frames);
        for (feature, row_out) in out.chunks_exact_mut(frames).enumerate() {
            let (mean, std) = (self.mean[feature], self.std[feature]);
            let row = matrix.row(feature);
            for (target, &value) in row_out[..kept].iter_mut().zip(&row[..kept]) {
                *target = (value - mean) / std;
            }
            row_out[kept..].fill(0.0);
        }
        Ok(())
    }

    /// [`Self::write_input`] for many matrices: one flat `[count, n_features, frames]` buffer.
    pub fn batch_input(
        &self,
        matrices: &[&FeatureMatrix],
        frames: usize,
    ) -> Result<Vec<f32>, ModelError> {
        let size = self.n_features() * frames;
        let mut out = vec![0.0; matrices.len() * size];
        for (matrix, chunk) in matrices.iter().zip(out.chunks_exact_mut(size.max(1))) {
            self.write_input(matrix, frames, chunk)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_pads_and_crops() {
        let train = FeatureMatrix::new(2, 4, vec![1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0]);
        let normalizer = Normalizer::fit([&train]).unwrap();
        assert_eq!(normalizer.mean, vec![2.5, 5.0]);
        assert!((normalizer.std[0] - 1.118_034).abs() < 1e-5);
        assert_eq!(normalizer.std[1], 1.0, "constant feature stays unscaled");
        let mut padded = vec![9.0; 2 * 6];
        normalizer.write_input(&train, 6, &mut padded).unwrap();
        assert_eq!(&padded[4..6], &[0.0, 0.0]);
        assert_eq!(&padded[6..12], &[0.0; 6]);
        let mut cropped = vec![0.0; 2 * 2];
        normalizer.write_input(&train, 2, &mut cropped).unwrap();
        assert!((cropped[0] + 1.341_641).abs() < 1e-5);
    }
}
