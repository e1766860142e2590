//! Decibel conversion (`librosa.power_to_db`).

use serde::{Deserialize, Serialize};

use crate::{FeatureError, Matrix};

/// The 0 dB reference of [`power_to_db`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbReference {
    /// A fixed power (librosa's default is 1.0).
    Value(f64),
    /// The matrix maximum (`ref=np.max`).
    Max,
}

/// `power_to_db` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbConfig {
    #[serde(rename = "ref")]
    pub reference: DbReference,
    pub amin: f64,
    /// Clip everything more than `top_db` below the peak; `None` = no clipping.
    pub top_db: Option<f64>,
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            reference: DbReference::Value(1.0),
            amin: 1e-10,
            top_db: Some(80.0),
        }
    }
}

/// `librosa.power_to_db(S, ref, amin, top_db)`: 10 log10(max(amin, S) / max(amin, ref)),
/// then (with top_db) floored at `max - top_db` over the whole matrix.
pub fn power_to_db(power: &Matrix, config: &DbConfig) -> Result<Matrix, FeatureError> {
    if !crate::error::is_positive(config.amin) {
        return Err(FeatureError::invalid("amin must be strictly positive"));
    }
    if config.top_db.is_some_and(|top_db| top_db < 0.0) {
        return Err(FeatureError::invalid("top_db must be non-negative"));
    }
    let reference = match config.reference {
        DbReference::Value(value) => value.abs(),
        DbReference::Max => power
            .data
            .iter()
            .fold(f64::NEG_INFINITY, |acc, v| acc.max(v.abs())),
    };
    let offset = 10.0 * config.amin.max(reference).log10();
    // 10 log10(x) as (10 / ln 10) ln(x): glibc's log10 costs ln and then some.
    const DB_PER_LN: f64 = 10.0 / std::f64::consts::LN_10;
    let mut db = power.clone();
    db.data
        .iter_mut()
        .for_each(|v| *v = DB_PER_LN * config.amin.max(*v).ln() - offset);
    if let Some(top_db) = config.top_db {
        let floor = db.data.iter().fold(f64::NEG_INFINITY, |acc, v| acc.max(*v)) - top_db;
        db.data.iter_mut().for_each(|v| *v = v.max(floor));
    }
    Ok(db)
}
