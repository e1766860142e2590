//! `ser.feature.*` and `ser.power_to_db`, `ser.yin`, `ser.pyin`: librosa's names, keyword
//! arguments and defaults, computed by ser-features. Parameter values ser does not implement
//! raise `NotImplementedError` naming the supported ones.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use ser_features::{
    ContrastConfig, DbConfig, DbReference, Framing, Matrix, MelConfig, MelNorm, MfccConfig,
    PadMode, PyinConfig, StftConfig, Window, YinConfig,
};

use crate::arrays::{Array, is_float64, matrix_to_numpy, to_numpy};
use crate::detach;
use crate::errors::{self, unsupported};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for function in [
        wrap_pyfunction!(mfcc, m)?,
        wrap_pyfunction!(melspectrogram, m)?,
        wrap_pyfunction!(power_to_db, m)?,
        wrap_pyfunction!(delta, m)?,
        wrap_pyfunction!(rms, m)?,
        wrap_pyfunction!(zero_crossing_rate, m)?,
        wrap_pyfunction!(spectral_centroid, m)?,
        wrap_pyfunction!(spectral_bandwidth, m)?,
        wrap_pyfunction!(spectral_rolloff, m)?,
        wrap_pyfunction!(spectral_flatness, m)?,
        wrap_pyfunction!(spectral_contrast, m)?,
        wrap_pyfunction!(chroma_stft, m)?,
        wrap_pyfunction!(yin, m)?,
        wrap_pyfunction!(pyin, m)?,
    ] {
        m.add_function(function)?;
    }
    Ok(())
}

/// `**kwargs` read by name; whatever is left over is an error, as in Python.
struct Kwargs<'py> {
    function: &'static str,
    dict: Option<Bound<'py, PyDict>>,
}

impl<'py> Kwargs<'py> {
    fn new(function: &'static str, dict: Option<&Bound<'py, PyDict>>) -> PyResult<Self> {
        Ok(Self {
            function,
            dict: dict.map(|d| d.copy()).transpose()?,
        })
    }

    /// The value of `key` if given (even as `None`), removed from the rest.
    fn take(&self, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(dict) = &self.dict else {
            return Ok(None);
        };
        let value = dict.get_item(key)?;
        if value.is_some() {
            dict.del_item(key)?;
        }
        Ok(value)
    }

    fn get<T: for<'a> FromPyObject<'a, 'py>>(&self, key: &str, default: T) -> PyResult<T> {
        match self.take(key)? {
            Some(value) => value.extract::<T>().map_err(|e| {
                let cause: PyErr = e.into();
                PyTypeError::new_err(format!("{}: {key}: {cause}", self.function))
            }),
            None => Ok(default),
        }
    }

    fn finish(self) -> PyResult<()> {
        match self.dict.and_then(|d| d.keys().into_iter().next()) {
            Some(key) => Err(PyTypeError::new_err(format!(
                "{}() got an unexpected keyword argument {key}",
                self.function
            ))),
            None => Ok(()),
        }
    }
}

fn window(function: &str, name: &Bound<'_, PyAny>) -> PyResult<Window> {
    let name: String = name.extract().map_err(|_| {
        unsupported(
            function,
            "window",
            "'hann', 'hamming', 'blackman' or 'boxcar'",
        )
    })?;
    match name.as_str() {
        "hann" | "hanning" => Ok(Window::Hann),
        "hamming" => Ok(Window::Hamming),
        "blackman" => Ok(Window::Blackman),
        "boxcar" | "rectangular" | "ones" => Ok(Window::Rectangular),
        _ => Err(unsupported(
            function,
            "window",
            "'hann', 'hamming', 'blackman' or 'boxcar'",
        )),
    }
}

fn pad_mode(function: &str, name: &str) -> PyResult<PadMode> {
    match name {
        "constant" => Ok(PadMode::Constant),
        "edge" => Ok(PadMode::Edge),
        "reflect" => Ok(PadMode::Reflect),
        _ => Err(unsupported(
            function,
            "pad_mode",
            "'constant', 'edge' or 'reflect'",
        )),
    }
}

/// The STFT arguments every spectral function takes.
struct StftArgs<'py> {
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: Bound<'py, PyAny>,
    center: bool,
    pad_mode: String,
}

impl StftArgs<'_> {
    fn config(&self, function: &str) -> PyResult<StftConfig> {
        Ok(StftConfig {
            n_fft: self.n_fft,
            hop_length: self.hop_length,
            win_length: self.win_length,
            window: window(function, &self.window)?,
            center: self.center,
            pad_mode: pad_mode(function, &self.pad_mode)?,
        })
    }
}

/// A spectrogram `S` given by the caller, or one computed from `y` with `power`; the FFT size
/// is the caller's or, for a given `S`, `2 * (bins - 1)` as in librosa.
fn spectrogram_input(
    py: Python<'_>,
    function: &'static str,
    y: Option<&Bound<'_, PyAny>>,
    s: Option<&Bound<'_, PyAny>>,
    stft: &StftArgs<'_>,
    power: f64,
) -> PyResult<(Matrix, usize, bool)> {
    match (y, s) {
        (_, Some(s)) => {
            let (matrix, wide) = Array::matrix(s, "S")?;
            let n_fft = 2 * matrix.rows.saturating_sub(1);
            Ok((matrix, n_fft, wide))
        }
        (Some(y), None) => {
            let signal = Array::signal(y)?;
            let config = stft.config(function)?;
            let matrix = detach(py, function, || {
                ser_features::spectrogram(&signal.samples, &config, power)
            })
            .map_err(errors::feature)?;
            Ok((matrix, config.n_fft, signal.wide))
        }
        (None, None) => Err(PyValueError::new_err(format!(
            "{function}: input signal y or spectrogram S must be provided"
        ))),
    }
}

/// `norm` of `librosa.filters.mel`: `'slaney'`, a p-norm order, or `None`.
#[derive(FromPyObject)]
enum NormArg {
    Name(String),
    Order(f64),
}

fn mel_norm(function: &str, norm: Option<NormArg>) -> PyResult<MelNorm> {
    match norm {
        None => Ok(MelNorm::None),
        Some(NormArg::Name(name)) if name == "slaney" => Ok(MelNorm::Slaney),
        Some(NormArg::Name(_)) => Err(unsupported(function, "norm", "'slaney', a number or None")),
        Some(NormArg::Order(p)) => Ok(MelNorm::Lp(p)),
    }
}

/// The mel filterbank arguments (`**kwargs` of melspectrogram, passed to `filters.mel`).
fn mel_config(
    function: &'static str,
    kwargs: &Kwargs<'_>,
    power: f64,
    norm_key: &str,
) -> PyResult<MelConfig> {
    let defaults = MelConfig::default();
    let norm = match kwargs.take(norm_key)? {
        None => MelNorm::Slaney,
        Some(value) => mel_norm(function, value.extract()?)?,
    };
    if let Some(dtype) = kwargs.take("dtype")? {
        // The filterbank is always rounded to float32, librosa's default dtype.
        if is_float64(&dtype)? {
            return Err(unsupported(
                function,
                "dtype",
                "np.float32 (the filterbank's dtype)",
            ));
        }
    }
    Ok(MelConfig {
        n_mels: kwargs.get("n_mels", defaults.n_mels)?,
        fmin: kwargs.get("fmin", defaults.fmin)?,
        fmax: kwargs.get("fmax", defaults.fmax)?,
        htk: kwargs.get("htk", defaults.htk)?,
        norm,
        power,
    })
}

/// Mel spectrogram, like `librosa.feature.melspectrogram`.
#[pyfunction]
#[pyo3(signature = (*, y = None, sr = 22050.0, S = None, n_fft = 2048, hop_length = 512, win_length = None, window = None, center = true, pad_mode = "constant".to_string(), power = 2.0, **kwargs))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn melspectrogram<'py>(
    py: Python<'py>,
    y: Option<&Bound<'py, PyAny>>,
    sr: f64,
    S: Option<&Bound<'py, PyAny>>,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: Option<Bound<'py, PyAny>>,
    center: bool,
    pad_mode: String,
    power: f64,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    const NAME: &str = "melspectrogram";
    let kwargs = Kwargs::new(NAME, kwargs)?;
    let mel = mel_config(NAME, &kwargs, power, "norm")?;
    kwargs.finish()?;
    let stft = StftArgs {
        n_fft,
        hop_length,
        win_length,
        window: window.unwrap_or_else(|| PyString::new(py, "hann").into_any()),
        center,
        pad_mode,
    };
    let (spectrogram, n_fft, wide) = spectrogram_input(py, NAME, y, S, &stft, power)?;
    let mel = detach(py, "melspectrogram", || {
        ser_features::mel_filterbank(sr, n_fft, &mel)?.apply(&spectrogram)
    })
    .map_err(errors::feature)?;
    matrix_to_numpy(py, mel, wide)
}

/// The STFT arguments of a spectral function, with librosa's defaults.
macro_rules! stft_args {
    ($py:expr, $n_fft:expr, $hop_length:expr, $win_length:expr, $window:expr, $center:expr, $pad_mode:expr) => {
        StftArgs {
            n_fft: $n_fft,
            hop_length: $hop_length,
            win_length: $win_length,
            window: $window.unwrap_or_else(|| PyString::new($py, "hann").into_any()),
            center: $center,
            pad_mode: $pad_mode,
        }
    };
}

/// Mel-frequency cepstral coefficients, like `librosa.feature.mfcc`.
#[pyfunction]
#[pyo3(signature = (*, y = None, sr = 22050.0, S = None, n_mfcc = 20, dct_type = 2, norm = Some("ortho".to_string()), lifter = 0.0, mel_norm = Some(NormArg::Name("slaney".into())), **kwargs))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn mfcc<'py>(
    py: Python<'py>,
    y: Option<&Bound<'py, PyAny>>,
    sr: f64,
    S: Option<&Bound<'py, PyAny>>,
    n_mfcc: usize,
    dct_type: u8,
    norm: Option<String>,
    lifter: f64,
    mel_norm: Option<NormArg>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    const NAME: &str = "mfcc";
    if dct_type != 2 {
        return Err(unsupported(NAME, "dct_type", "2"));
    }
    if norm.as_deref() != Some("ortho") {
        return Err(unsupported(NAME, "norm", "'ortho'"));
    }
    let config = MfccConfig { n_mfcc, lifter };
    if let Some(s) = S {
        let (log_mel, wide) = Array::matrix(s, "S")?;
        let cepstra = detach(py, "mfcc", || {
            ser_features::mfcc::mfcc_from_db(&log_mel, n_mfcc, lifter)
        })
        .map_err(errors::feature)?;
        return matrix_to_numpy(py, cepstra, wide);
    }
    let kwargs = Kwargs::new(NAME, kwargs)?;
    let power = kwargs.get("power", 2.0)?;
    let mut mel = mel_config(NAME, &kwargs, power, "__no_norm_here__")?;
    mel.norm = self::mel_norm(NAME, mel_norm)?;
    let stft = StftArgs {
        n_fft: kwargs.get("n_fft", 2048)?,
        hop_length: kwargs.get("hop_length", 512)?,
        win_length: kwargs.get("win_length", None)?,
        window: kwargs
            .take("window")?
            .unwrap_or_else(|| PyString::new(py, "hann").into_any()),
        center: kwargs.get("center", true)?,
        pad_mode: kwargs.get("pad_mode", "constant".to_string())?,
    };
    kwargs.finish()?;
    let Some(y) = y else {
        return Err(PyValueError::new_err(
            "mfcc: input signal y or spectrogram S must be provided",
        ));
    };
    let signal = Array::signal(y)?;
    let stft = stft.config(NAME)?;
    let cepstra = detach(py, "mfcc", || {
        ser_features::mfcc(
            &signal.samples,
            sr,
            &stft,
            &mel,
            &DbConfig::default(),
            &config,
        )
    })
    .map_err(errors::feature)?;
    matrix_to_numpy(py, cepstra, signal.wide)
}

/// Power spectrogram to decibels, like `librosa.power_to_db` (any shape).
#[pyfunction]
#[pyo3(name = "power_to_db", signature = (S, *, r#ref = None, amin = 1e-10, top_db = Some(80.0)))]
#[allow(non_snake_case)]
fn power_to_db<'py>(
    py: Python<'py>,
    S: &Bound<'py, PyAny>,
    r#ref: Option<&Bound<'py, PyAny>>,
    amin: f64,
    top_db: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let reference = match r#ref {
        None => DbReference::Value(1.0),
        // librosa calls a callable reference (np.max, np.median, ...) on S itself.
        Some(reference) if reference.is_callable() => {
            DbReference::Value(reference.call1((S,))?.extract()?)
        }
        Some(reference) => DbReference::Value(reference.extract()?),
    };
    let config = DbConfig {
        reference,
        amin,
        top_db,
    };
    let (matrix, shape, wide) = Array::from_py(S, "S")?.rows();
    let db = detach(py, "power_to_db", || {
        ser_features::power_to_db(&matrix, &config)
    })
    .map_err(errors::feature)?;
    to_numpy(py, db.data, &shape, wide)
}

/// Local derivative (Savitzky-Golay) along the last axis, like `librosa.feature.delta`.
#[pyfunction]
#[pyo3(signature = (data, *, width = 9, order = 1, axis = -1, mode = "interp".to_string()))]
fn delta<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    width: usize,
    order: usize,
    axis: isize,
    mode: String,
) -> PyResult<Bound<'py, PyAny>> {
    let array = Array::from_py(data, "data")?;
    if axis != -1 && axis != array.shape.len() as isize - 1 {
        return Err(unsupported("delta", "axis", "-1 (the last axis)"));
    }
    if mode != "interp" {
        return Err(unsupported("delta", "mode", "'interp'"));
    }
    let (matrix, shape, wide) = array.rows();
    let derivative = detach(py, "delta", || ser_features::delta(&matrix, width, order))
        .map_err(errors::feature)?;
    to_numpy(py, derivative.data, &shape, wide)
}

/// Root-mean-square energy per frame, like `librosa.feature.rms`.
#[pyfunction]
#[pyo3(signature = (*, y = None, S = None, frame_length = 2048, hop_length = 512, center = true, pad_mode = "constant".to_string(), dtype = None))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn rms<'py>(
    py: Python<'py>,
    y: Option<&Bound<'py, PyAny>>,
    S: Option<&Bound<'py, PyAny>>,
    frame_length: usize,
    hop_length: usize,
    center: bool,
    pad_mode: String,
    dtype: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let wide = dtype.map(is_float64).transpose()?.unwrap_or(false);
    let values = match (y, S) {
        (_, Some(s)) => {
            let (s, _) = Array::matrix(s, "S")?;
            detach(py, "rms", || {
                ser_features::rms_from_spectrogram(&s, frame_length)
            })
        }
        (Some(y), None) => {
            if pad_mode != "constant" {
                return Err(unsupported("rms", "pad_mode", "'constant'"));
            }
            let signal = Array::signal(y)?;
            let framing = Framing {
                frame_length,
                hop_length,
                center,
            };
            detach(py, "rms", || ser_features::rms(&signal.samples, &framing))
        }
        (None, None) => {
            return Err(PyValueError::new_err("rms: either y or S must be input"));
        }
    }
    .map_err(errors::feature)?;
    matrix_to_numpy(py, values, wide)
}

/// Zero-crossing rate per frame, like `librosa.feature.zero_crossing_rate`.
#[pyfunction]
#[pyo3(signature = (y, *, frame_length = 2048, hop_length = 512, center = true, **kwargs))]
fn zero_crossing_rate<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    frame_length: usize,
    hop_length: usize,
    center: bool,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    const NAME: &str = "zero_crossing_rate";
    let kwargs = Kwargs::new(NAME, kwargs)?;
    if kwargs.get("threshold", 1e-10)? != 1e-10 {
        return Err(unsupported(NAME, "threshold", "1e-10"));
    }
    if kwargs.get::<Option<f64>>("ref_magnitude", None)?.is_some() {
        return Err(unsupported(NAME, "ref_magnitude", "None"));
    }
    if kwargs.get("pad", false)? {
        return Err(unsupported(NAME, "pad", "False"));
    }
    if !kwargs.get("zero_pos", true)? {
        return Err(unsupported(NAME, "zero_pos", "True"));
    }
    if kwargs.get("axis", -1isize)? != -1 {
        return Err(unsupported(NAME, "axis", "-1"));
    }
    kwargs.finish()?;
    let signal = Array::signal(y)?;
    let framing = Framing {
        frame_length,
        hop_length,
        center,
    };
    let rate = detach(py, "zero_crossing_rate", || {
        ser_features::zero_crossing_rate(&signal.samples, &framing)
    })
    .map_err(errors::feature)?;
    // librosa averages booleans: always float64.
    matrix_to_numpy(py, rate, true)
}

fn no_freq(function: &str, freq: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    match freq {
        Some(freq) if !freq.is_none() => Err(unsupported(function, "freq", "None")),
        _ => Ok(()),
    }
}

/// Spectral centroid per frame, like `librosa.feature.spectral_centroid`.
#[pyfunction]
#[pyo3(signature = (*, y = None, sr = 22050.0, S = None, n_fft = 2048, hop_length = 512, freq = None, win_length = None, window = None, center = true, pad_mode = "constant".to_string()))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn spectral_centroid<'py>(
    py: Python<'py>,
    y: Option<&Bound<'py, PyAny>>,
    sr: f64,
    S: Option<&Bound<'py, PyAny>>,
    n_fft: usize,
    hop_length: usize,
    freq: Option<&Bound<'py, PyAny>>,
    win_length: Option<usize>,
    window: Option<Bound<'py, PyAny>>,
    center: bool,
    pad_mode: String,
) -> PyResult<Bound<'py, PyAny>> {
    const NAME: &str = "spectral_centroid";
    no_freq(NAME, freq)?;
    let stft = stft_args!(py, n_fft, hop_length, win_length, window, center, pad_mode);
    let (s, n_fft, _) = spectrogram_input(py, NAME, y, S, &stft, 1.0)?;
    let values = detach(py, "spectral_centroid", || {
        ser_features::spectral_centroid(&s, sr, n_fft)
    })
    .map_err(errors::feature)?;
    // librosa computes it with float64 frequencies: always float64.
    matrix_to_numpy(py, values, true)
}

/// p'th-order spectral bandwidth per frame, like `librosa.feature.spectral_bandwidth`.
#[pyfunction]
#[pyo3(signature = (*, y = None, sr = 22050.0, S = None, n_fft = 2048, hop_length = 512, win_length = None, window = None, center = true, pad_mode = "constant".to_string(), freq = None, centroid = None, norm = true, p = 2.0))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn spectral_bandwidth<'py>(
    py: Python<'py>,
    y: Option<&Bound<'py, PyAny>>,
    sr: f64,
    S: Option<&Bound<'py, PyAny>>,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: Option<Bound<'py, PyAny>>,
    center: bool,
    pad_mode: String,
    freq: Option<&Bound<'py, PyAny>>,
    centroid: Option<&Bound<'py, PyAny>>,
    norm: bool,
    p: f64,
) -> PyResult<Bound<'py, PyAny>> {
    const NAME: &str = "spectral_bandwidth";
    no_freq(NAME, freq)?;
    if centroid.is_some_and(|c| !c.is_none()) {
        return Err(unsupported(NAME, "centroid", "None"));
    }
    let stft = stft_args!(py, n_fft, hop_length, win_length, window, center, pad_mode);
    let (s, n_fft, _) = spectrogram_input(py, NAME, y, S, &stft, 1.0)?;
    let values = detach(py, "spectral_bandwidth", || {
        ser_features::spectral_bandwidth(&s, sr, n_fft, norm, p)
    })
    .map_err(errors::feature)?;
    // librosa computes it with float64 frequencies: always float64.
    matrix_to_numpy(py, values, true)
}

/// Roll-off frequency per frame, like `librosa.feature.spectral_rolloff`.
#[pyfunction]
#[pyo3(signature = (*, y = None, sr = 22050.0, S = None, n_fft = 2048, hop_length = 512, win_length = None, window = None, center = true, pad_mode = "constant".to_string(), freq = None, roll_percent = 0.85))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn spectral_rolloff<'py>(
    py: Python<'py>,
    y: Option<&Bound<'py, PyAny>>,
    sr: f64,
    S: Option<&Bound<'py, PyAny>>,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: Option<Bound<'py, PyAny>>,
    center: bool,
    pad_mode: String,
    freq: Option<&Bound<'py, PyAny>>,
    roll_percent: f64,
) -> PyResult<Bound<'py, PyAny>> {
    const NAME: &str = "spectral_rolloff";
    no_freq(NAME, freq)?;
    let stft = stft_args!(py, n_fft, hop_length, win_length, window, center, pad_mode);
    let (s, n_fft, _) = spectrogram_input(py, NAME, y, S, &stft, 1.0)?;
    let values = detach(py, "spectral_rolloff", || {
        ser_features::spectral_rolloff(&s, sr, n_fft, roll_percent)
    })
    .map_err(errors::feature)?;
    // librosa computes it with float64 frequencies: always float64.
    matrix_to_numpy(py, values, true)
}

/// Spectral flatness per frame, like `librosa.feature.spectral_flatness`.
#[pyfunction]
#[pyo3(signature = (*, y = None, S = None, n_fft = 2048, hop_length = 512, win_length = None, window = None, center = true, pad_mode = "constant".to_string(), amin = 1e-10, power = 2.0))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn spectral_flatness<'py>(
    py: Python<'py>,
    y: Option<&Bound<'py, PyAny>>,
    S: Option<&Bound<'py, PyAny>>,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: Option<Bound<'py, PyAny>>,
    center: bool,
    pad_mode: String,
    amin: f64,
    power: f64,
) -> PyResult<Bound<'py, PyAny>> {
    const NAME: &str = "spectral_flatness";
    let stft = stft_args!(py, n_fft, hop_length, win_length, window, center, pad_mode);
    let (s, _, wide) = spectrogram_input(py, NAME, y, S, &stft, 1.0)?;
    let values = detach(py, "spectral_flatness", || {
        ser_features::spectral_flatness(&s, amin, power)
    })
    .map_err(errors::feature)?;
    matrix_to_numpy(py, values, wide)
}

/// Spectral contrast per octave band and frame, like `librosa.feature.spectral_contrast`.
#[pyfunction]
#[pyo3(signature = (*, y = None, sr = 22050.0, S = None, n_fft = 2048, hop_length = 512, win_length = None, window = None, center = true, pad_mode = "constant".to_string(), freq = None, fmin = 200.0, n_bands = 6, quantile = 0.02, linear = false))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn spectral_contrast<'py>(
    py: Python<'py>,
    y: Option<&Bound<'py, PyAny>>,
    sr: f64,
    S: Option<&Bound<'py, PyAny>>,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: Option<Bound<'py, PyAny>>,
    center: bool,
    pad_mode: String,
    freq: Option<&Bound<'py, PyAny>>,
    fmin: f64,
    n_bands: usize,
    quantile: f64,
    linear: bool,
) -> PyResult<Bound<'py, PyAny>> {
    const NAME: &str = "spectral_contrast";
    no_freq(NAME, freq)?;
    let stft = stft_args!(py, n_fft, hop_length, win_length, window, center, pad_mode);
    let (s, n_fft, _) = spectrogram_input(py, NAME, y, S, &stft, 1.0)?;
    let config = ContrastConfig {
        fmin,
        n_bands,
        quantile,
        linear,
    };
    let values = detach(py, "spectral_contrast", || {
        ser_features::spectral_contrast(&s, sr, n_fft, &config)
    })
    .map_err(errors::feature)?;
    // librosa computes it with float64 frequencies: always float64.
    matrix_to_numpy(py, values, true)
}

/// Chromagram from a power spectrogram, like `librosa.feature.chroma_stft`.
#[pyfunction]
#[pyo3(signature = (*, y = None, sr = 22050.0, S = None, norm = Some(f64::INFINITY), n_fft = 2048, hop_length = 512, win_length = None, window = None, center = true, pad_mode = "constant".to_string(), tuning = None, n_chroma = 12, **kwargs))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn chroma_stft<'py>(
    py: Python<'py>,
    y: Option<&Bound<'py, PyAny>>,
    sr: f64,
    S: Option<&Bound<'py, PyAny>>,
    norm: Option<f64>,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: Option<Bound<'py, PyAny>>,
    center: bool,
    pad_mode: String,
    tuning: Option<f64>,
    n_chroma: usize,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    const NAME: &str = "chroma_stft";
    // The chroma filterbank's own options (ctroct, octwidth, base_c, dtype) keep their defaults.
    Kwargs::new(NAME, kwargs)?.finish()?;
    let stft = stft_args!(py, n_fft, hop_length, win_length, window, center, pad_mode);
    let (power, n_fft, wide) = spectrogram_input(py, NAME, y, S, &stft, 2.0)?;
    let values = detach(py, "chroma_stft", || {
        ser_features::chroma_stft(&power, sr, n_fft, tuning, n_chroma, norm)
    })
    .map_err(errors::feature)?;
    matrix_to_numpy(py, values, wide)
}

#[allow(clippy::too_many_arguments)] // the YIN arguments librosa.yin and pyin share
fn yin_config(
    function: &str,
    fmin: f64,
    fmax: f64,
    frame_length: usize,
    win_length: Option<&Bound<'_, PyAny>>,
    hop_length: Option<usize>,
    center: bool,
    pad_mode: &str,
) -> PyResult<YinConfig> {
    if win_length.is_some_and(|w| !w.is_none()) {
        return Err(unsupported(
            function,
            "win_length",
            "None (deprecated in librosa 0.11)",
        ));
    }
    if pad_mode != "constant" {
        return Err(unsupported(function, "pad_mode", "'constant'"));
    }
    Ok(YinConfig {
        fmin,
        fmax,
        frame_length,
        hop_length,
        center,
    })
}

/// Fundamental frequency per frame with YIN, like `librosa.yin`.
#[pyfunction]
#[pyo3(signature = (y, *, fmin, fmax, sr = 22050.0, frame_length = 2048, win_length = None, hop_length = None, trough_threshold = 0.1, center = true, pad_mode = "constant".to_string()))]
#[allow(clippy::too_many_arguments)]
fn yin<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    fmin: f64,
    fmax: f64,
    sr: f64,
    frame_length: usize,
    win_length: Option<&Bound<'py, PyAny>>,
    hop_length: Option<usize>,
    trough_threshold: f64,
    center: bool,
    pad_mode: String,
) -> PyResult<Bound<'py, PyAny>> {
    let config = yin_config(
        "yin",
        fmin,
        fmax,
        frame_length,
        win_length,
        hop_length,
        center,
        &pad_mode,
    )?;
    let signal = Array::signal(y)?;
    let f0 = detach(py, "yin", || {
        ser_features::yin(&signal.samples, sr, &config, trough_threshold)
    })
    .map_err(errors::feature)?;
    let frames = f0.len();
    to_numpy(py, f0, &[frames], true)
}

/// Fundamental frequency, voicing flag and voicing probability per frame with probabilistic
/// YIN, like `librosa.pyin`.
#[pyfunction]
#[pyo3(signature = (y, *, fmin, fmax, sr = 22050.0, frame_length = 2048, win_length = None, hop_length = None, n_thresholds = 100, beta_parameters = (2.0, 18.0), boltzmann_parameter = 2.0, resolution = 0.1, max_transition_rate = 35.92, switch_prob = 0.01, no_trough_prob = 0.01, fill_na = Some(f64::NAN), center = true, pad_mode = "constant".to_string()))]
#[allow(clippy::too_many_arguments)]
fn pyin<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    fmin: f64,
    fmax: f64,
    sr: f64,
    frame_length: usize,
    win_length: Option<&Bound<'py, PyAny>>,
    hop_length: Option<usize>,
    n_thresholds: usize,
    beta_parameters: (f64, f64),
    boltzmann_parameter: f64,
    resolution: f64,
    max_transition_rate: f64,
    switch_prob: f64,
    no_trough_prob: f64,
    fill_na: Option<f64>,
    center: bool,
    pad_mode: String,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let config = yin_config(
        "pyin",
        fmin,
        fmax,
        frame_length,
        win_length,
        hop_length,
        center,
        &pad_mode,
    )?;
    let Some(fill_na) = fill_na else {
        return Err(unsupported(
            "pyin",
            "fill_na",
            "a number (np.nan by default)",
        ));
    };
    let pyin_config = PyinConfig {
        n_thresholds,
        beta_parameters,
        boltzmann_parameter,
        resolution,
        max_transition_rate,
        switch_prob,
        no_trough_prob,
    };
    let signal = Array::signal(y)?;
    let track = detach(py, "pyin", || {
        ser_features::pyin(&signal.samples, sr, &config, &pyin_config)
    })
    .map_err(errors::feature)?;
    let frames = track.f0.len();
    let f0 = track
        .f0
        .iter()
        .zip(&track.voiced_flag)
        .map(|(&f, &voiced)| if voiced { f } else { fill_na })
        .collect();
    let voiced = numpy::PyArray1::from_vec(py, track.voiced_flag).into_any();
    Ok((
        to_numpy(py, f0, &[frames], true)?,
        voiced,
        to_numpy(py, track.voiced_prob, &[frames], true)?,
    ))
}
