//! Temperature scaling (Guo et al., 2017): calibrated probabilities are
//! `softmax(logits / temperature)`, with the one temperature that minimises the Brier score
//! of held-out (out-of-fold) predictions (see [`fit_temperature`] for why not the
//! log-likelihood). It never changes which class wins,
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
/// Grid points over [`LOG_T_RANGE`] before the refinement: steps of 0.1 in log T.
const GRID_STEPS: usize = 70;

/// The temperature minimising the weighted mean Brier score of `labels` under
/// `softmax(log_probabilities / T)` (`weights`, one per prediction, e.g. so that every
/// speaker counts the same however many clips it has). The Brier score is a proper scoring
/// rule like the log-likelihood, but bounded: a few clips answered wrong at probability
/// ~1 (a corpus of two speakers, held out) cannot drag the temperature for everyone, as they
/// do the log-likelihood, whose penalty grows without limit. Log-probabilities serve as
/// logits: softmax does not change when a constant is added to every logit. Golden-section
/// search on log T. Returns 1 for no data.
pub fn fit_temperature(log_probabilities: &[Vec<f32>], labels: &[usize], weights: &[f64]) -> f32 {
    let total_weight: f64 = weights.iter().sum();
    if log_probabilities.is_empty()
        || log_probabilities.len() != labels.len()
        || weights.len() != labels.len()
        || total_weight.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
    {
        return 1.0;
    }
    let brier = |log_t: f64| weighted_brier(log_probabilities, labels, weights, log_t.exp());
    // The Brier score of T need not be unimodal (a few far-off answers make a second dip at
    // high T): a grid over log T finds the best basin, golden-section search refines it.
    let (range_low, range_high) = LOG_T_RANGE;
    let step = (range_high - range_low) / GRID_STEPS as f64;
    let best_step = (0..=GRID_STEPS)
        .map(|i| (i, brier(range_low + step * i as f64)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(i, _)| i);
    let centre = range_low + step * best_step as f64;
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut low, mut high) = (
        (centre - step).max(range_low),
        (centre + step).min(range_high),
    );
    let mut inner_low = high - ratio * (high - low);
    let mut inner_high = low + ratio * (high - low);
    let (mut brier_low, mut brier_high) = (brier(inner_low), brier(inner_high));
    while high - low > 1e-5 {
        if brier_low <= brier_high {
            high = inner_high;
            inner_high = inner_low;
            brier_high = brier_low;
            inner_low = high - ratio * (high - low);
            brier_low = brier(inner_low);
        } else {
            low = inner_low;
            inner_low = inner_high;
            brier_low = brier_high;
            inner_high = low + ratio * (high - low);
            brier_high = brier(inner_high);
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

/// Weighted mean multi-class Brier score (sum over classes of (p - [class is the label])^2)
/// of `labels` under `softmax(logits / temperature)`.
fn weighted_brier(logits: &[Vec<f32>], labels: &[usize], weights: &[f64], temperature: f64) -> f64 {
    let (total, weight) = logits
        .iter()
        .zip(labels)
        .zip(weights)
        .map(|((row, &label), &weight)| {
            let scaled: Vec<f64> = row.iter().map(|&z| f64::from(z) / temperature).collect();
            let normaliser = log_sum_exp(&scaled);
            let brier: f64 = scaled
                .iter()
                .enumerate()
                .map(|(class, &z)| {
                    let target = if class == label { 1.0 } else { 0.0 };
                    ((z - normaliser).exp() - target).powi(2)
                })
                .sum();
            (weight * brier, weight)
        })
        .fold((0.0, 0.0), |(t, w), (b, v)| (t + b, w + v));
    total / weight.max(f64::MIN_POSITIVE)
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

/// A probability of exactly 0 (a softmax that underflowed) counts as this much in
/// [`geometric_mean`], so that one member's certainty cannot veto a class outright.
pub const PROBABILITY_FLOOR: f32 = 1e-12;

/// How an ensemble of different models combines their probabilities for one clip: the
/// normalised geometric mean (the softmax of their average log-probability, as an ensemble of
/// one network's seeds averages logits). All members must have the same number of classes.
pub fn geometric_mean(members: &[&[f32]]) -> Vec<f32> {
    let classes = members.first().map_or(0, |member| member.len());
    let mut log_mean = vec![0.0f64; classes];
    for member in members {
        for (sum, &p) in log_mean.iter_mut().zip(*member) {
            *sum += f64::from(p.max(PROBABILITY_FLOOR)).ln() / members.len() as f64;
        }
    }
    let peak = log_mean.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let unnormalised: Vec<f64> = log_mean.iter().map(|l| (l - peak).exp()).collect();
    let total: f64 = unnormalised.iter().sum();
    unnormalised.iter().map(|u| (u / total) as f32).collect()
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
        let temperature = fit_temperature(&logits, &labels, &vec![1.0; labels.len()]);
        assert!((temperature - 2.0).abs() < 0.02, "{temperature}");
    }

    #[test]
    fn overconfident_wrong_answers_need_a_high_temperature() {
        let logits = vec![vec![10.0, 0.0], vec![10.0, 0.0], vec![0.0, 10.0]];
        // Two of three right at confidence ~1: the best temperature softens to ~2/3.
        let temperature = fit_temperature(&logits, &[0, 1, 1], &[1.0; 3]);
        let p = softmax_with_temperature(&logits[0], temperature);
        assert!(
            (p[0] - 2.0 / 3.0).abs() < 1e-3,
            "{p:?} at T = {temperature}"
        );
    }

    #[test]
    fn a_few_answers_wrong_at_probability_one_do_not_set_the_temperature() {
        // 100 predictions calibrated at T = 1 (p = 0.8, right 80 times), then 5 wrong ones
        // with a logit gap of 40 (p ~ 1 for the wrong class).
        let sure = vec![4f32.ln(), 0.0];
        let mut logits = vec![sure.clone(); 100];
        let mut labels: Vec<usize> = (0..100).map(|i| usize::from(i >= 80)).collect();
        logits.extend(vec![vec![40.0, 0.0]; 5]);
        labels.extend([1; 5]);
        let temperature = fit_temperature(&logits, &labels, &vec![1.0; labels.len()]);
        assert!((0.8..1.6).contains(&temperature), "{temperature}");
        // The log-likelihood would flatten everything to pay for those five.
        let nll_at = |t: f64| mean_nll(&logits, &labels, t);
        assert!(nll_at(4.0) < nll_at(f64::from(temperature)));
        // Weights: the five count as much as the hundred (one speaker each), so T rises.
        let mut weights = vec![1.0; 100];
        weights.extend([20.0; 5]);
        assert!(fit_temperature(&logits, &labels, &weights) > 2.0 * temperature);
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
        assert_eq!(fit_temperature(&[], &[], &[]), 1.0);
    }
}
