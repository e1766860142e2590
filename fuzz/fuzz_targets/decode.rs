//! Bytes -> samples: any input either decodes to finite, in-range samples at a usable rate
//! (mono and per channel), which then resample cleanly, or fails with a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = ser_audio::decode_bytes(data.to_vec(), "fuzz-input") else {
        return;
    };
    ser_fuzz::check_audio(&decoded.audio);
    if let Ok(channels) = ser_audio::decode_bytes_channels(data.to_vec(), "fuzz-input") {
        for channel in &channels.channels {
            assert!(
                channel.iter().all(|s| s.is_finite()),
                "non-finite channel sample"
            );
        }
    }
    // What every consumer does next: resample (to the model rate, 16 kHz, here), on clips of
    // up to a minute so one input stays well inside the 2 s budget.
    if decoded.audio.duration_seconds() <= 60.0 {
        let resampled =
            ser_audio::resample(&decoded.audio, 16_000).expect("resampling decoded audio failed");
        assert!(
            resampled.samples.iter().all(|s| s.is_finite()),
            "resampler produced a non-finite sample"
        );
    }
});
