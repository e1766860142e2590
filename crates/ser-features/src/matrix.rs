/// A feature matrix in librosa's layout: `n_features` rows by `n_frames` columns,
/// stored row-major (`data[feature * n_frames + frame]`).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    pub n_features: usize,
    pub n_frames: usize,
    pub data: Vec<f32>,
}

impl FeatureMatrix {
    pub fn new(n_features: usize, n_frames: usize, data: Vec<f32>) -> Self {
        assert_eq!(
            data.len(),
            n_features * n_frames,
            "feature matrix shape mismatch"
        );
        Self {
            n_features,
            n_frames,
            data,
        }
    }

    /// One feature's values over time.
    pub fn row(&self, feature: usize) -> &[f32] {
        &self.data[feature * self.n_frames..(feature + 1) * self.n_frames]
    }
}

/// Double-precision working matrix (rows x columns, row-major) used between DSP stages, so
/// chains such as melspectrogram -> power_to_db -> DCT keep librosa's float64 accuracy.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    /// `data[row * cols + col]`.
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    pub fn row(&self, row: usize) -> &[f64] {
        &self.data[row * self.cols..(row + 1) * self.cols]
    }

    pub fn row_mut(&mut self, row: usize) -> &mut [f64] {
        &mut self.data[row * self.cols..(row + 1) * self.cols]
    }

    pub fn get(&self, row: usize, col: usize) -> f64 {
        self.data[row * self.cols + col]
    }

    /// One column (all rows at one frame) copied out.
    pub fn column(&self, col: usize) -> Vec<f64> {
        (0..self.rows).map(|row| self.get(row, col)).collect()
    }

    /// Rows stacked below each other (all must have the same column count).
    pub fn stack(parts: &[Matrix]) -> Matrix {
        let cols = parts.first().map_or(0, |part| part.cols);
        let rows = parts.iter().map(|part| part.rows).sum();
        let mut data = Vec::with_capacity(rows * cols);
        for part in parts {
            data.extend_from_slice(&part.data);
        }
        Matrix { rows, cols, data }
    }

    /// The first `cols` columns.
    pub fn truncate_columns(&self, cols: usize) -> Matrix {
        let cols = cols.min(self.cols);
        let mut data = Vec::with_capacity(self.rows * cols);
        for row in 0..self.rows {
            data.extend_from_slice(&self.row(row)[..cols]);
        }
        Matrix {
            rows: self.rows,
            cols,
            data,
        }
    }

    pub fn to_features(&self) -> FeatureMatrix {
        FeatureMatrix::new(
            self.rows,
            self.cols,
            self.data.iter().map(|&v| v as f32).collect(),
        )
    }
}
