//! The experiment file parser (`ser experiment <file.toml>`): any text parses and checks, or
//! fails with `ExperimentError::Config`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ser_experiment::ExperimentConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) =
        ExperimentConfig::from_toml(text, Path::new("/fuzz-base"), Path::new("fuzz.toml"))
    else {
        return;
    };
    let _ = config.sources();
    if let Ok(run) = config.run_config() {
        let _ = config.architectures(&run);
        let _ = run.features.n_features();
        let _ = run.features.describe();
    }
});
