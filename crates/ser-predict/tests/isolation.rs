//! A panic while predicting one file (a decoder or DSP library bug on a malformed file)
//! fails that file only: its row carries the error, the batch goes on.

use ser_predict::testing::{PanicsOn8kHz, ToneModel, voice, wav_bytes};
use ser_predict::{Input, PredictOptions, predict_inputs};

#[test]
fn a_panic_on_one_file_fails_that_file_and_the_rest_go_on() {
    ser_audio::install_panic_hook();
    let dir = tempfile::tempdir().unwrap();
    let names = ["a.wav", "bad.wav", "c.wav"];
    for (name, rate) in names.iter().zip([16_000, 8_000, 16_000]) {
        std::fs::write(dir.path().join(name), wav_bytes(&voice(440.0, 1.0, rate))).unwrap();
    }
    let inputs: Vec<_> = names
        .iter()
        .map(|name| Ok(Input::File(dir.path().join(name))))
        .collect();
    let mut rows = Vec::new();
    let model = PanicsOn8kHz {
        model: ToneModel::new(),
        message: "index out of bounds",
    };
    let summary = predict_inputs(&model, &inputs, &PredictOptions::default(), |prediction| {
        rows.push(prediction.clone());
        Ok(())
    })
    .unwrap();
    assert_eq!((summary.succeeded, summary.failed), (2, 1));
    assert_eq!(rows.len(), 3);
    let expected = ToneModel::new().label_for(440.0).to_owned();
    assert_eq!(rows[0].emotion.as_deref(), Some(expected.as_str()));
    assert_eq!(rows[2].emotion.as_deref(), Some(expected.as_str()));
    let error = rows[1].error.as_deref().unwrap();
    assert!(error.contains("bad.wav: internal error"), "{error}");
    assert!(error.contains("index out of bounds"), "{error}");
    assert!(rows[1].emotion.is_none());
}
