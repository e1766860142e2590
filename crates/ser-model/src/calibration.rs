//! Temperature scaling (Guo et al., 2017): calibrated probabilities are
//! `softmax(logits / temperature)`, with the one temperature that minimises the negative
//! log-likelihood of held-out (out-of-fold) predictions. It never changes which class wins,
//! only how sure the model says it is.

use serde::{Deserialize, Serialize};

/// The calibration a bundle carries; inference divides the logits by `temperature`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub temperature: f32,
    /// What the temperature was fitted on, e.g. "out-of-fold predictions of 5 speaker folds".
    pub fitted_on: String,
    /// Number of held-out predictions it was fitted on.
    pub clips: usize,
}

impl Calibration {
    /// Temperature 1: the raw softmax.
    pub fn none() -> Self {
        Self {
            temperature: 1.0,
            fitted_on: "nothing (raw softmax)".into(),
            clips: 0,
        }
    }
}

/// Temperatures searched: far beyond any sensible value on both sides.
const LOG_T_RANGE: (f64, f64) = (-3.0, 4.0);

/// The temperature minimising the mean negative log-likelihood of `labels` under
/// `softmax(log_probabilities / T)`. Log-probabilities serve as logits: softmax does not
/// change when a constant is added to every logit. Golden-section search on log T (the
/// NLL is convex in 1/T). Returns 1 for no data.
pub fn fit_temperature(log_probabilities: &[Vec<f32>], labels: &[usize]) -> f32 {
    if log_probabilities.is_empty() || log_probabilities.len() != labels.len() {
        return 1.0;
    }
    let nll = |log_t: f64| mean_nll(log_probabilities, labels, log_t.exp());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut low, mut high) = LOG_T_RANGE;
    let mut inner_low = high - ratio * (high - low);
    let mut inner_high = low + ratio * (high - low);
    let (mut nll_low, mut nll_high) = (nll(inner_low), nll(inner_high));
    while high - low > 1e-5 {
        if nll_low <= nll_high {
            high = inner_high;
            inner_high = inner_low;
            nll_high = nll_low;
            inner_low = high - ratio * (high - low);
            nll_low = nll(inner_low);
        } else {
            low = inner_low;
            inner_low = inner_high;
            nll_low = nll_high;
            inner_high = low + ratio * (high - low);
            nll_high = nll(inner_high);
        }
    }
    (0.5 * (low + high)).exp() as f32
}

/// Mean negative log-likelihood of `labels` under `softmax(logits / temperature)`.
pub fn mean_nll(logits: &[Vec<f32>], labels: &[usize], temperature: f64) -> f64 {
    let total: f64 = logits
        .iter()
        .zip(labels)
        .map(|(row, &label)| {
            let scaled: Vec<f64> = row.iter().map(|&z| f64::from(z) / temperature).collect();
            log_sum_exp(&scaled) - scaled.get(label).copied().unwrap_or(f64::NEG_INFINITY)
        })
        .sum();
    total / logits.len().max(1) as f64
}

/// `softmax(logits / temperature)`, computed stably.
pub fn softmax_with_temperature(logits: &[f32], temperature: f32) -> Vec<f32> {
    let scaled: Vec<f64> = logits
        .iter()
        .map(|&z| f64::from(z) / f64::from(temperature))
        .collect();
    let normaliser = log_sum_exp(&scaled);
    scaled
        .iter()
        .map(|&z| (z - normaliser).exp() as f32)
        .collect()
}

/// Re-tempers probabilities that came out of `softmax(logits)`: their logarithms are the
/// logits up to a constant. Zero probabilities stay (almost) zero.
pub fn retemper(probabilities: &[f32], temperature: f32) -> Vec<f32> {
    softmax_with_temperature(&log_probabilities(probabilities), temperature)
}

/// Natural logarithms, floored so that a zero probability stays finite.
pub fn log_probabilities(probabilities: &[f32]) -> Vec<f32> {
    probabilities.iter().map(|&p| p.max(1e-30).ln()).collect()
}

fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + values.iter().map(|&v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_temperature_that_generated_the_labels() {
        // Logits whose true calibration is softmax(z / 2): labels drawn in exact proportion.
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for scale in [1.0f32, 2.0, 4.0, 6.0] {
            let row = vec![scale, 0.0, -scale];
            let p = softmax_with_temperature(&row, 2.0);
            for (class, &share) in p.iter().enumerate() {
                for _ in 0..(share * 1000.0).round() as usize {
                    logits.push(row.clone());
                    labels.push(class);
                }
            }
        }
        let temperature = fit_temperature(&logits, &labels);
        assert!((temperature - 2.0).abs() < 0.02, "{temperature}");
    }

    #[test]
    fn overconfident_wrong_answers_need_a_high_temperature() {
        let logits = vec![vec![10.0, 0.0], vec![10.0, 0.0], vec![0.0, 10.0]];
        // Two of three right at confidence ~1: the best temperature softens to ~2/3.
        let temperature = fit_temperature(&logits, &[0, 1, 1]);
        let p = softmax_with_temperature(&logits[0], temperature);
        assert!(
            (p[0] - 2.0 / 3.0).abs() < 1e-3,
            "{p:?} at T = {temperature}"
        );
    }

    #[test]
    fn softmax_and_retempering() {
        let p = softmax_with_temperature(&[0.0, (3.0f32).ln()], 1.0);
        assert!((p[1] - 0.75).abs() < 1e-6);
        let flatter = retemper(&p, 2.0);
        // (1 : 3) at T = 2 becomes (1 : sqrt 3).
        let expected = 3f32.sqrt() / (1.0 + 3f32.sqrt());
        assert!((flatter[1] - expected).abs() < 1e-6, "{flatter:?}");
        assert_eq!(retemper(&[1.0, 0.0], 1.0)[0], 1.0);
        assert_eq!(fit_temperature(&[], &[]), 1.0);
    }
}
