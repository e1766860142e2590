//! CTranslate2 model file bytes -> Whisper encoder: a file either reads (and then encodes a
//! short spectrogram without failing) or is refused with `FeatureError`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ser_features::Matrix;
use ser_features::whisper::WhisperEncoder;

fuzz_target!(|data: &[u8]| {
    let Ok(encoder) = WhisperEncoder::read(data) else {
        return;
    };
    if let Ok(states) = encoder.encode(&Matrix::zeros(80, 9), encoder.n_blocks()) {
        assert_eq!(states.ncols(), encoder.width());
    }
});
