//! Statistics pooling over time: one fixed-length vector per utterance.

use serde::{Deserialize, Serialize};

use crate::FeatureMatrix;

/// One summary statistic of a feature's trajectory. Written as its label ("mean", "std",
/// "min", "max", "p50") on the command line and in configuration files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Statistic {
    Mean,
    /// Population standard deviation (numpy's default ddof=0).
    Std,
    Min,
    Max,
    /// Percentile 0..=100 with linear interpolation (numpy's default method).
    Percentile(u8),
}

impl Statistic {
    /// Short label used in column names: "mean", "std", "min", "max", "p50".
    pub fn label(self) -> String {
        match self {
            Statistic::Mean => "mean".into(),
            Statistic::Std => "std".into(),
            Statistic::Min => "min".into(),
            Statistic::Max => "max".into(),
            Statistic::Percentile(q) => format!("p{q}"),
        }
    }

    /// The statistic of `values`, computed in f64; 0 for an empty trajectory.
    pub fn compute(self, values: &[f32]) -> f32 {
        if values.is_empty() {
            return 0.0;
        }
        let n = values.len() as f64;
        let mean = || values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let result = match self {
            Statistic::Mean => mean(),
            Statistic::Std => {
                let mean = mean();
                (values
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(2))
                    .sum::<f64>()
                    / n)
                    .sqrt()
            }
            Statistic::Min => f64::from(values.iter().copied().fold(f32::INFINITY, f32::min)),
            Statistic::Max => f64::from(values.iter().copied().fold(f32::NEG_INFINITY, f32::max)),
            Statistic::Percentile(q) => {
                let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
                sorted.sort_by(f64::total_cmp);
                let position = f64::from(q.min(100)) / 100.0 * (sorted.len() - 1) as f64;
                let below = position.floor() as usize;
                let above = (below + 1).min(sorted.len() - 1);
                let fraction = position - below as f64;
                sorted[below] + (sorted[above] - sorted[below]) * fraction
            }
        };
        result as f32
    }
}

impl std::str::FromStr for Statistic {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "mean" => Ok(Statistic::Mean),
            "std" => Ok(Statistic::Std),
            "min" => Ok(Statistic::Min),
            "max" => Ok(Statistic::Max),
            other => other
                .strip_prefix('p')
                .and_then(|q| q.parse::<u8>().ok())
                .filter(|q| *q <= 100)
                .map(Statistic::Percentile)
                .ok_or_else(|| {
                    format!("unknown statistic {other:?}: use mean, std, min, max or p0..p100")
                }),
        }
    }
}

impl TryFrom<String> for Statistic {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<Statistic> for String {
    fn from(statistic: Statistic) -> String {
        statistic.label()
    }
}

/// The usual utterance-level summary: mean, std, min, max.
pub const DEFAULT_STATISTICS: [Statistic; 4] = [
    Statistic::Mean,
    Statistic::Std,
    Statistic::Min,
    Statistic::Max,
];

/// Pools a (features x frames) matrix into one vector, feature-major:
/// `[f0_stat0, f0_stat1, ..., f1_stat0, ...]`.
pub fn pool_statistics(matrix: &FeatureMatrix, stats: &[Statistic]) -> Vec<f32> {
    (0..matrix.n_features)
        .flat_map(|feature| {
            let row = matrix.row(feature);
            stats.iter().map(move |stat| stat.compute(row))
        })
        .collect()
}

/// Column names matching [`pool_statistics`]: "mfcc_0_mean", "mfcc_0_std", ...
pub fn pooled_names(feature_names: &[String], stats: &[Statistic]) -> Vec<String> {
    feature_names
        .iter()
        .flat_map(|name| {
            stats
                .iter()
                .map(move |stat| format!("{name}_{}", stat.label()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_read_and_write_their_labels() {
        for label in ["mean", "std", "min", "max", "p0", "p50", "p100"] {
            let statistic: Statistic = label.parse().unwrap();
            assert_eq!(statistic.label(), label);
            let json = serde_json::to_string(&statistic).unwrap();
            assert_eq!(json, format!("\"{label}\""));
            assert_eq!(serde_json::from_str::<Statistic>(&json).unwrap(), statistic);
        }
        assert_eq!("p25".parse(), Ok(Statistic::Percentile(25)));
        for bad in ["median", "p101", "p", "", "P50"] {
            assert!(bad.parse::<Statistic>().is_err(), "{bad:?}");
        }
    }
}
