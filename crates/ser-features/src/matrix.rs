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
        assert_eq!(data.len(), n_features * n_frames, "feature matrix shape mismatch");
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
