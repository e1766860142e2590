//! Model bundle bytes -> classifier: a bundle either loads (and then predicts on a short
//! clip without failing) or is refused with `ModelError`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ser_audio::Audio;
use ser_model::Classifier;

static CLIP: LazyLock<Audio> = LazyLock::new(|| ser_fuzz::tone(0.5, 16_000));

fuzz_target!(|data: &[u8]| {
    let Ok(classifier) = Classifier::from_bundle_bytes(data) else {
        return;
    };
    assert!(!classifier.labels().is_empty());
    if let Ok(probabilities) = classifier.predict_audio(&CLIP) {
        assert_eq!(probabilities.len(), classifier.labels().len());
    }
});
