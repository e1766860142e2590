//! Training checkpoint bytes -> resumed run: `fit` with `resume` reads `checkpoint.serc` from
//! the run folder (the only public way in), here a tiny 2-epoch cnn1d run. A checkpoint either
//! resumes or is refused with `ModelError`.
//!
//! `SER_FUZZ_WRITE_SEEDS=<dir>` writes a real checkpoint and bundle there (tools/fuzz.sh).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: ser_fuzz::write_model_seeds_if_asked(),
    |data: &[u8]| {
        let run_dir = ser_fuzz::scratch_dir().join("run");
        let _ = std::fs::remove_dir_all(&run_dir);
        std::fs::create_dir_all(&run_dir).unwrap();
        std::fs::write(run_dir.join(ser_model::CHECKPOINT_FILE), data).unwrap();
        let data = ser_fuzz::tiny_data();
        let setup = ser_fuzz::tiny_setup(2, run_dir, true);
        if let Ok(outcome) = ser_model::fit(&setup, data, Some(data), &ser_model::SilentProgress) {
            ser_model::Classifier::from_bundle_bytes(&outcome.bundle)
                .expect("a resumed run writes a loadable bundle");
        }
    }
);
