//! Local derivatives of feature trajectories (`librosa.feature.delta`, Savitzky-Golay with
//! `mode="interp"`).

use crate::{FeatureError, Matrix};

/// Savitzky-Golay weights for the `order`-th derivative of a degree-`order` polynomial fitted
/// to `width` points (scipy.signal.savgol_coeffs with deriv == polyorder, in window order).
fn derivative_weights(width: usize, order: usize) -> Vec<f64> {
    let half = (width / 2) as f64;
    // Least squares: coefficients = e_order^T (A^T A)^-1 A^T with A[i][j] = x_i^j.
    let size = order + 1;
    let xs: Vec<f64> = (0..width).map(|i| i as f64 - half).collect();
    let mut normal = vec![vec![0.0; size]; size];
    for (r, row) in normal.iter_mut().enumerate() {
        for (c, cell) in row.iter_mut().enumerate() {
            *cell = xs.iter().map(|x| x.powi((r + c) as i32)).sum();
        }
    }
    // Solve normal * v = e_order (Gauss-Jordan; the system is tiny and well conditioned).
    let mut rhs = vec![0.0; size];
    rhs[order] = 1.0;
    for pivot in 0..size {
        let best = (pivot..size)
            .max_by(|&a, &b| normal[a][pivot].abs().total_cmp(&normal[b][pivot].abs()))
            .unwrap_or(pivot);
        normal.swap(pivot, best);
        rhs.swap(pivot, best);
        let divisor = normal[pivot][pivot];
        normal[pivot].iter_mut().for_each(|cell| *cell /= divisor);
        rhs[pivot] /= divisor;
        let pivot_row = normal[pivot].clone();
        for (r, row) in normal.iter_mut().enumerate() {
            if r != pivot {
                let factor = row[pivot];
                row.iter_mut()
                    .zip(&pivot_row)
                    .for_each(|(cell, p)| *cell -= factor * p);
                rhs[r] -= factor * rhs[pivot];
            }
        }
    }
    let factorial: f64 = (1..=order).map(|k| k as f64).product();
    xs.iter()
        .map(|x| factorial * (0..size).map(|j| rhs[j] * x.powi(j as i32)).sum::<f64>())
        .collect()
}

/// `librosa.feature.delta(data, width, order, axis=-1, mode="interp")` along each row.
///
/// With deriv == polyorder the fitted derivative is constant over a window, so scipy's
/// "interp" edges equal the first/last full-window value.
pub fn delta(data: &Matrix, width: usize, order: usize) -> Result<Matrix, FeatureError> {
    if width < 3 || width.is_multiple_of(2) {
        return Err(FeatureError::invalid(
            "delta width must be an odd integer >= 3",
        ));
    }
    if order == 0 || order >= width {
        return Err(FeatureError::invalid("delta order must lie in 1..width"));
    }
    if width > data.cols {
        return Err(FeatureError::invalid(format!(
            "delta width={width} cannot exceed the number of frames ({}) in interp mode",
            data.cols
        )));
    }
    let weights = derivative_weights(width, order);
    let half = width / 2;
    let mut out = Matrix::zeros(data.rows, data.cols);
    for row in 0..data.rows {
        let input = data.row(row);
        let output = out.row_mut(row);
        for center in half..data.cols - half {
            let window = &input[center - half..center + half + 1];
            output[center] = window.iter().zip(&weights).map(|(x, w)| x * w).sum();
        }
        let (first, last) = (output[half], output[data.cols - half - 1]);
        output[..half].fill(first);
        output[data.cols - half..].fill(last);
    }
    Ok(out)
}
