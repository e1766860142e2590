//! NumPy arrays in and out. Inputs are copied into Rust buffers (so the GIL can be released
//! while other Python threads may touch the array); outputs take the input's float width, as
//! librosa's do: float64 in, float64 out, anything else float32.

use numpy::{AllowTypeChange, PyArrayDyn, PyArrayLikeDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use ser_features::Matrix;

/// An array copied out of Python: its shape, its values in C order, and whether it was
/// float64.
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
    pub wide: bool,
}

impl Array {
    pub fn from_py(object: &Bound<'_, PyAny>, name: &str) -> PyResult<Self> {
        let wide = object.cast::<PyArrayDyn<f64>>().is_ok();
        let array: PyArrayLikeDyn<'_, f64, AllowTypeChange> = object.extract().map_err(|e| {
            PyValueError::new_err(format!("{name} must be an array of real numbers: {e}"))
        })?;
        Ok(Self {
            shape: array.shape().to_vec(),
            data: array.as_array().iter().copied().collect(),
            wide,
        })
    }

    /// A mono signal: one-dimensional.
    pub fn signal(object: &Bound<'_, PyAny>) -> PyResult<Signal> {
        let array = Self::from_py(object, "y")?;
        if array.shape.len() != 1 {
            return Err(PyValueError::new_err(format!(
                "y must be one-dimensional (mono) audio, got shape {:?}",
                array.shape
            )));
        }
        Ok(Signal {
            samples: array.data.iter().map(|&v| v as f32).collect(),
            wide: array.wide,
        })
    }

    /// A two-dimensional array (e.g. a spectrogram, bins x frames).
    pub fn matrix(object: &Bound<'_, PyAny>, name: &str) -> PyResult<(Matrix, bool)> {
        let array = Self::from_py(object, name)?;
        if array.shape.len() != 2 {
            return Err(PyValueError::new_err(format!(
                "{name} must be two-dimensional, got shape {:?}",
                array.shape
            )));
        }
        Ok((
            Matrix {
                rows: array.shape[0],
                cols: array.shape[1],
                data: array.data,
            },
            array.wide,
        ))
    }

    /// The array as rows along its last axis (a 1-D array is one row), for functions that
    /// work on the last axis of any shape.
    pub fn rows(self) -> (Matrix, Vec<usize>, bool) {
        let cols = self.shape.last().copied().unwrap_or(1);
        let rows = self.data.len().checked_div(cols).unwrap_or(0);
        (
            Matrix {
                rows,
                cols,
                data: self.data,
            },
            self.shape,
            self.wide,
        )
    }
}

/// Mono samples and whether they came as float64.
pub struct Signal {
    pub samples: Vec<f32>,
    pub wide: bool,
}

/// `values` as a NumPy array of `shape`, float64 if `wide` else float32.
pub fn to_numpy<'py>(
    py: Python<'py>,
    values: Vec<f64>,
    shape: &[usize],
    wide: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if wide {
        Ok(numpy::PyArray1::from_vec(py, values)
            .reshape(shape.to_vec())?
            .into_any())
    } else {
        let narrow: Vec<f32> = values.into_iter().map(|v| v as f32).collect();
        Ok(numpy::PyArray1::from_vec(py, narrow)
            .reshape(shape.to_vec())?
            .into_any())
    }
}

/// A matrix as a 2-D array.
pub fn matrix_to_numpy(py: Python<'_>, matrix: Matrix, wide: bool) -> PyResult<Bound<'_, PyAny>> {
    let shape = [matrix.rows, matrix.cols];
    to_numpy(py, matrix.data, &shape, wide)
}

/// Whether a NumPy dtype argument (`np.float32`, `"float64"`, ...) names float64.
pub fn is_float64(dtype: &Bound<'_, PyAny>) -> PyResult<bool> {
    let numpy = dtype.py().import("numpy")?;
    let name: String = numpy
        .call_method1("dtype", (dtype,))?
        .getattr("name")?
        .extract()?;
    match name.as_str() {
        "float64" => Ok(true),
        "float32" => Ok(false),
        other => Err(PyValueError::new_err(format!(
            "dtype must be float32 or float64, got {other}"
        ))),
    }
}
