//! `ser._ser`: the native half of the `ser` Python package. Every function converts its
//! arguments, calls the ser crates with the GIL released, and converts the result back;
//! the behaviour lives in the crates. Errors become Python exceptions carrying the crates'
//! messages (the ones the command line prints); nothing here panics on bad input.

mod arrays;
mod audio;
mod errors;
mod feature;
mod features;
mod model;

use std::path::Path;

use pyo3::prelude::*;

#[pymodule]
fn _ser(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    // Panics inside `detach` are reported as the call's error, not printed to stderr.
    ser_audio::install_panic_hook();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("AudioError", py.get_type::<errors::AudioError>())?;
    m.add("ModelError", py.get_type::<errors::ModelError>())?;
    m.add("AUDIO_EXTENSIONS", ser_predict::AUDIO_EXTENSIONS.to_vec())?;
    m.add_function(wrap_pyfunction!(audio::load, m)?)?;
    m.add_function(wrap_pyfunction!(model::expand_inputs, m)?)?;
    m.add_function(wrap_pyfunction!(model::failed_record, m)?)?;
    m.add_function(wrap_pyfunction!(model::example_record, m)?)?;
    feature::register(m)?;
    m.add_class::<model::Model>()?;
    m.add_class::<features::FeatureExtractor>()?;
    Ok(())
}

/// Runs `work` without the GIL, so other Python threads go on meanwhile. A panic inside it
/// (a bug in ser or a library) becomes the error of this call, naming `call`, instead of
/// reaching Python.
pub(crate) fn detach<T, E>(
    py: Python<'_>,
    call: &str,
    work: impl FnOnce() -> Result<T, E> + Send,
) -> Result<T, E>
where
    T: Send,
    E: From<ser_audio::AudioError> + Send,
{
    py.detach(|| ser_audio::isolate(Path::new(call), work))
}
