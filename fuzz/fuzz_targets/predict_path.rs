//! Bytes -> prediction through ser-predict with the embedded default model (what `ser
//! predict` and the HTTP service do for one file).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ser_model::Classifier;
use ser_predict::{DEFAULT_MODEL_BUNDLE, PredictOptions, predict_bytes};

static MODEL: LazyLock<Classifier> = LazyLock::new(|| {
    Classifier::from_bundle_bytes(DEFAULT_MODEL_BUNDLE).expect("the embedded model loads")
});

fuzz_target!(|data: &[u8]| {
    let options = PredictOptions::default();
    match predict_bytes(&*MODEL, "fuzz-input", data.to_vec(), &options) {
        Ok(prediction) => {
            for (label, p) in prediction.probabilities.iter() {
                assert!(p.is_finite() && (0.0..=1.0).contains(&p), "{label}: {p}");
            }
            serde_json::to_string(&prediction).expect("a prediction serialises");
        }
        Err(error) => {
            let text = error.to_string();
            assert!(!text.contains("internal error"), "{text}");
        }
    }
});
