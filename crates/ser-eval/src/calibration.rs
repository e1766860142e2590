//! How far predicted probabilities can be read as probabilities: expected calibration error,
//! negative log-likelihood, Brier score, and the bins of a reliability diagram.
//!
//! Every function takes one probability vector per clip (in label order) and the true class
//! index of each clip. The predicted class is the most probable one (the first on ties) and
//! its probability is the clip's confidence.

use serde::{Deserialize, Serialize};

use crate::EvalError;

/// Bins of the expected calibration error: 15 of equal width over the confidence, as in Guo
/// et al. (2017), "On calibration of modern neural networks".
pub const CALIBRATION_BINS: usize = 15;

/// Probabilities are clipped to `[EPSILON, 1 - EPSILON]` before the logarithm, with the
/// machine epsilon of `f32` (the type models return), as scikit-learn's `log_loss` does for
/// `float32` input: a confident mistake costs about 15.9 nats, not infinity.
const LOG_EPSILON: f64 = f32::EPSILON as f64;

/// The clips whose confidence falls in `(lower, upper]` (the first bin also holds 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub lower: f64,
    pub upper: f64,
    pub count: u64,
    /// Share of the bin's clips predicted correctly (0 for an empty bin).
    pub accuracy: f64,
    /// Mean confidence of the bin's clips (0 for an empty bin).
    pub confidence: f64,
}

/// Every calibration measure of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Expected calibration error over [`CALIBRATION_BINS`] bins, in [0, 1].
    pub ece: f64,
    /// Mean negative log-likelihood of the true class, in nats.
    pub nll: f64,
    /// Multi-class Brier score, in [0, 2] (see [`brier_score`]).
    pub brier: f64,
    /// The reliability diagram's bins, [`CALIBRATION_BINS`] of them.
    pub bins: Vec<ReliabilityBin>,
}

impl Calibration {
    /// All measures at once; errors as for [`expected_calibration_error`].
    pub fn from_probabilities<P: AsRef<[f32]>>(
        probabilities: &[P],
        truth: &[usize],
    ) -> Result<Self, EvalError> {
        let bins = reliability_bins(probabilities, truth, CALIBRATION_BINS)?;
        Ok(Self {
            ece: ece_of_bins(&bins),
            nll: negative_log_likelihood(probabilities, truth)?,
            brier: brier_score(probabilities, truth)?,
            bins,
        })
    }
}

/// Expected calibration error: `sum over bins of |accuracy - confidence| * n_bin / n`, with
/// [`CALIBRATION_BINS`] equal-width bins over the confidence.
///
/// Errors (never panics) when there are no clips, the two slices differ in length, the
/// vectors differ in width, a true class is out of range, or a probability is not a finite
/// number in [0, 1].
pub fn expected_calibration_error<P: AsRef<[f32]>>(
    probabilities: &[P],
    truth: &[usize],
) -> Result<f64, EvalError> {
    Ok(ece_of_bins(&reliability_bins(
        probabilities,
        truth,
        CALIBRATION_BINS,
    )?))
}

fn ece_of_bins(bins: &[ReliabilityBin]) -> f64 {
    let total: u64 = bins.iter().map(|b| b.count).sum();
    bins.iter()
        .map(|b| (b.accuracy - b.confidence).abs() * b.count as f64)
        .sum::<f64>()
        / total.max(1) as f64
}

/// Clips grouped into `n_bins` equal-width confidence bins, with each bin's accuracy and
/// mean confidence. Errors as for [`expected_calibration_error`], and for `n_bins == 0`.
pub fn reliability_bins<P: AsRef<[f32]>>(
    probabilities: &[P],
    truth: &[usize],
    n_bins: usize,
) -> Result<Vec<ReliabilityBin>, EvalError> {
    check(probabilities, truth)?;
    if n_bins == 0 {
        return Err(EvalError::InvalidInput(
            "reliability bins: need at least one bin".into(),
        ));
    }
    // (count, correct, sum of confidences) per bin
    let mut sums = vec![(0u64, 0u64, 0.0f64); n_bins];
    for (vector, &t) in probabilities.iter().zip(truth) {
        let (predicted, confidence) = top(vector.as_ref());
        // Bin k holds (k/n, (k+1)/n]; a confidence of 0 goes to the first bin.
        let bin = ((confidence * n_bins as f64).ceil() as usize).clamp(1, n_bins) - 1;
        let entry = &mut sums[bin];
        entry.0 += 1;
        entry.1 += u64::from(predicted == t);
        entry.2 += confidence;
    }
    Ok(sums
        .into_iter()
        .enumerate()
        .map(|(k, (count, correct, confidence_sum))| {
            let share = |value: f64| if count > 0 { value / count as f64 } else { 0.0 };
            ReliabilityBin {
                lower: k as f64 / n_bins as f64,
                upper: (k + 1) as f64 / n_bins as f64,
                count,
                accuracy: share(correct as f64),
                confidence: share(confidence_sum),
            }
        })
        .collect())
}

/// Mean over clips of `-ln p(true class)`, probabilities clipped to `[eps, 1 - eps]` with
/// `eps` the machine epsilon of `f32` (scikit-learn's `log_loss` on `float32` input).
/// Errors as for [`expected_calibration_error`].
pub fn negative_log_likelihood<P: AsRef<[f32]>>(
    probabilities: &[P],
    truth: &[usize],
) -> Result<f64, EvalError> {
    check(probabilities, truth)?;
    let sum: f64 = probabilities
        .iter()
        .zip(truth)
        .map(|(vector, &t)| {
            -f64::from(vector.as_ref()[t])
                .clamp(LOG_EPSILON, 1.0 - LOG_EPSILON)
                .ln()
        })
        .sum();
    Ok(sum / truth.len() as f64)
}

/// Multi-class Brier score: the mean over clips of the sum over classes of
/// `(p_class - onehot_class)^2`, so 0 is perfect and 2 is a confident mistake (Brier's
/// original definition and scikit-learn's `brier_score_loss` for more than two classes; the
/// binary score some tools report is half of it). Errors as for
/// [`expected_calibration_error`].
pub fn brier_score<P: AsRef<[f32]>>(
    probabilities: &[P],
    truth: &[usize],
) -> Result<f64, EvalError> {
    check(probabilities, truth)?;
    let sum: f64 = probabilities
        .iter()
        .zip(truth)
        .map(|(vector, &t)| {
            vector
                .as_ref()
                .iter()
                .enumerate()
                .map(|(class, &p)| (f64::from(p) - if class == t { 1.0 } else { 0.0 }).powi(2))
                .sum::<f64>()
        })
        .sum();
    Ok(sum / truth.len() as f64)
}

/// The predicted class (first maximum) and its probability.
fn top(vector: &[f32]) -> (usize, f64) {
    vector
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (class, &p)| {
            if f64::from(p) > best.1 {
                (class, f64::from(p))
            } else {
                best
            }
        })
}

fn check<P: AsRef<[f32]>>(probabilities: &[P], truth: &[usize]) -> Result<(), EvalError> {
    let invalid = |message: String| Err(EvalError::InvalidInput(message));
    if probabilities.is_empty() {
        return invalid("calibration: no predictions".into());
    }
    if probabilities.len() != truth.len() {
        return invalid(format!(
            "calibration: {} probability vectors for {} true labels",
            probabilities.len(),
            truth.len()
        ));
    }
    let width = probabilities[0].as_ref().len();
    for (clip, (vector, &t)) in probabilities.iter().zip(truth).enumerate() {
        let vector = vector.as_ref();
        if vector.len() != width || width == 0 {
            return invalid(format!(
                "calibration: clip {clip} has {} probabilities, clip 0 has {width}",
                vector.len()
            ));
        }
        if t >= width {
            return invalid(format!(
                "calibration: clip {clip} has true class {t} of {width} classes"
            ));
        }
        if let Some(p) = vector.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return invalid(format!(
                "calibration: clip {clip} has probability {p}, outside [0, 1]"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    /// Golden values from numpy and scikit-learn 1.9.1 on the same six clips:
    /// `log_loss(y, P.astype(np.float32), labels=[0, 1, 2])` = 3.2029717,
    /// `brier_score_loss(y, P, labels=[0, 1, 2])` = 0.64, and ECE with the 15 bins of
    /// `np.linspace(0, 1, 16)`, `lower < conf <= upper`, on the float32 confidences = 0.4166667
    /// (by hand: (0.3 + 0.2 + 0.4 + 0.1 + 0.5 + 1.0) / 6).
    #[test]
    fn golden_values_of_a_small_example() {
        let probabilities: Vec<Vec<f32>> = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.1, 0.8, 0.1],
            vec![0.4, 0.35, 0.25],
            vec![0.05, 0.05, 0.9],
            vec![0.5, 0.3, 0.2],
            vec![0.0, 1.0, 0.0],
        ];
        let truth = [0, 1, 2, 2, 1, 0];
        let calibration = Calibration::from_probabilities(&probabilities, &truth).unwrap();
        assert!(close(calibration.ece, 2.5 / 6.0), "{}", calibration.ece);
        assert!(close(calibration.nll, 3.2029717), "{}", calibration.nll);
        assert!(close(calibration.brier, 0.64), "{}", calibration.brier);
        let filled: Vec<(usize, u64, f64, f64)> = calibration
            .bins
            .iter()
            .enumerate()
            .filter(|(_, b)| b.count > 0)
            .map(|(k, b)| (k, b.count, b.accuracy, b.confidence))
            .collect();
        // As f32, 0.4 and 0.8 lie just above the bin edges 6/15 and 12/15 (0.7 and 0.9 just
        // below theirs): 0.4 -> bin 6, 0.5 -> bin 7, 0.7 -> bin 10, 0.8 -> bin 12,
        // 0.9 -> bin 13, 1.0 -> bin 14.
        let expected = [
            (6, 1, 0.0, 0.4),
            (7, 1, 0.0, 0.5),
            (10, 1, 1.0, 0.7),
            (12, 1, 1.0, 0.8),
            (13, 1, 1.0, 0.9),
            (14, 1, 0.0, 1.0),
        ];
        assert_eq!(filled.len(), expected.len(), "{filled:?}");
        for (got, want) in filled.iter().zip(expected) {
            assert_eq!((got.0, got.1), (want.0, want.1));
            assert!(close(got.2, want.2) && close(got.3, want.3), "{got:?}");
        }
        assert_eq!(calibration.bins.len(), 15);
        assert!(close(
            expected_calibration_error(&probabilities, &truth).unwrap(),
            2.5 / 6.0
        ));
    }

    #[test]
    fn perfect_and_worst_predictions() {
        let perfect = [vec![1.0f32, 0.0], vec![0.0, 1.0]];
        let calibration = Calibration::from_probabilities(&perfect, &[0, 1]).unwrap();
        assert_eq!((calibration.ece, calibration.brier), (0.0, 0.0));
        assert!(calibration.nll < 1e-6);
        let worst = Calibration::from_probabilities(&perfect, &[1, 0]).unwrap();
        assert_eq!((worst.ece, worst.brier), (1.0, 2.0));
        assert!(close(worst.nll, -(f64::from(f32::EPSILON)).ln()));
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let ok = [vec![0.5f32, 0.5]];
        let empty: [Vec<f32>; 0] = [];
        assert!(expected_calibration_error(&empty, &[]).is_err());
        assert!(expected_calibration_error(&ok, &[0, 1]).is_err());
        assert!(expected_calibration_error(&ok, &[2]).is_err());
        assert!(brier_score(&[vec![0.5f32, 0.5], vec![1.0]], &[0, 0]).is_err());
        assert!(negative_log_likelihood(&[vec![f32::NAN, 0.5]], &[0]).is_err());
        assert!(negative_log_likelihood(&[vec![1.5f32, -0.5]], &[0]).is_err());
        assert!(reliability_bins(&ok, &[0], 0).is_err());
    }
}
