//! Panic isolation, one input (a file, an upload) at a time.
//!
//! A panic inside a decoder or DSP library on a malformed input is a bug there or here, but
//! it must cost only that input: [`isolate`] turns it into [`AudioError::Internal`] naming
//! the input, and the batch, training run or server goes on. This relies on release builds
//! unwinding (`panic = "unwind"`, Rust's default; `"abort"` would defeat it).

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Once;

use crate::AudioError;

thread_local! {
    /// Isolated sections open on this thread (they may nest).
    static OPEN_SECTIONS: Cell<usize> = const { Cell::new(0) };
    /// Where the last isolated panic on this thread happened, recorded by the panic hook.
    static PANIC_LOCATION: Cell<Option<String>> = const { Cell::new(None) };
}

/// Runs `work` for the input `name`; a panic inside becomes `Err(AudioError::Internal)` with
/// the panic message (and, with [`install_panic_hook`], its source location).
///
/// Unwind safety: whatever `work` built is dropped with it; the shared state it may touch
/// (a loaded model, per-thread FFT plans and resamplers) is only read, or reset before use.
pub fn isolate<T, E: From<AudioError>>(
    name: &Path,
    work: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    OPEN_SECTIONS.with(|open| open.set(open.get() + 1));
    let result = std::panic::catch_unwind(AssertUnwindSafe(work));
    OPEN_SECTIONS.with(|open| open.set(open.get() - 1));
    result.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic without a message".to_owned());
        let location = PANIC_LOCATION
            .take()
            .map_or_else(String::new, |at| format!(" (at {at})"));
        Err(AudioError::Internal {
            path: name.to_path_buf(),
            message: format!("{message}{location}"),
        }
        .into())
    })
}

/// Makes panics inside [`isolate`] quiet: the caller reports them as the input's error, with
/// the location the hook records, instead of the default multi-line report on stderr. With
/// `RUST_BACKTRACE` set, the default report (and its backtrace) is printed as well. Other
/// panics are reported as usual. For programs; call once at start-up.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if OPEN_SECTIONS.with(Cell::get) > 0 {
                PANIC_LOCATION.set(
                    info.location()
                        .map(|at| format!("{}:{}", short_source_path(at.file()), at.line())),
                );
                if std::env::var_os("RUST_BACKTRACE").is_none() {
                    return;
                }
            }
            default_hook(info);
        }));
    });
}

/// `.../registry/src/index.crates.io-<hash>/symphonia-core-0.5.5/src/units.rs` ->
/// `symphonia-core-0.5.5/src/units.rs`: the crate and file are what a bug report needs.
fn short_source_path(file: &str) -> &str {
    match file.split_once("/registry/src/") {
        Some((_, rest)) => rest.split_once('/').map_or(rest, |(_, path)| path),
        None => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_inputs_error_and_the_next_input_runs() {
        install_panic_hook();
        let failed: Result<u32, AudioError> =
            isolate(Path::new("bad.wav"), || panic!("index out of range"));
        let error = failed.unwrap_err();
        assert!(matches!(error, AudioError::Internal { .. }), "{error:?}");
        let text = error.to_string();
        assert!(text.starts_with("bad.wav: internal error"), "{text}");
        assert!(text.contains("index out of range"), "{text}");
        assert!(text.contains("src/isolate.rs:"), "{text}");
        let ok: Result<u32, AudioError> = isolate(Path::new("good.wav"), || Ok(7));
        assert_eq!(ok.unwrap(), 7);
        assert_eq!(OPEN_SECTIONS.with(Cell::get), 0);
    }

    #[test]
    fn registry_paths_are_shortened_to_the_crate() {
        assert_eq!(
            short_source_path(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rubato-5.1.0/src/synchro.rs"
            ),
            "rubato-5.1.0/src/synchro.rs"
        );
        assert_eq!(
            short_source_path("crates/ser-audio/src/decode.rs"),
            "crates/ser-audio/src/decode.rs"
        );
    }
}
