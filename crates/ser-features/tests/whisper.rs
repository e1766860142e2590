//! Whisper's log-mel spectrogram and encoder against openai-whisper's formula and
//! CTranslate2's encoder (fixtures from tools/make_whisper_fixtures.py, on a synthetic voice),
//! with the weights the repository carries (models/whisper-base-encoder.bin).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ser_features::whisper::{WhisperEncoder, log_mel};
use ser_features::{FeatureConfig, FeatureKind, Matrix, SilenceConfig, WhisperConfig};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn encoder() -> &'static WhisperEncoder {
    static ENCODER: OnceLock<WhisperEncoder> = OnceLock::new();
    ENCODER.get_or_init(|| {
        WhisperEncoder::load(&root().join("models/whisper-base-encoder.bin")).expect("weights")
    })
}

struct Fixture {
    samples: Vec<f32>,
    doc: Value,
}

fn fixture() -> Fixture {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let bytes = std::fs::read(dir.join("whisper_voice.i16")).expect("fixture samples");
    let samples = bytes
        .chunks_exact(2)
        .map(|pair| f32::from(i16::from_le_bytes([pair[0], pair[1]])) / 32768.0)
        .collect();
    let text = std::fs::read_to_string(dir.join("whisper_voice.json")).expect("fixture json");
    Fixture {
        samples,
        doc: serde_json::from_str(&text).expect("valid json"),
    }
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect()
}

fn golden_mel(doc: &Value) -> Matrix {
    let rows: Vec<Vec<f64>> = doc["mel"].as_array().unwrap().iter().map(numbers).collect();
    Matrix {
        rows: rows.len(),
        cols: rows[0].len(),
        data: rows.concat(),
    }
}

fn max_error(got: impl IntoIterator<Item = f64>, want: &[f64]) -> f64 {
    got.into_iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max)
}

#[test]
fn log_mel_matches_whisper() {
    let fixture = fixture();
    let want = golden_mel(&fixture.doc);
    let got = log_mel(&fixture.samples).unwrap();
    assert_eq!((got.rows, got.cols), (80, 250));
    assert_eq!((want.rows, want.cols), (got.rows, got.cols));
    let error = max_error(got.data.iter().copied(), &want.data);
    println!("log-mel max error {error:.2e}");
    assert!(error < 1e-4, "log-mel differs from whisper's by {error}");
}

#[test]
fn encoder_matches_ctranslate2() {
    let fixture = fixture();
    let encoded = encoder()
        .encode(&golden_mel(&fixture.doc), encoder().n_blocks())
        .unwrap();
    assert_eq!(encoded.dim(), (125, 512));
    let mean = numbers(&fixture.doc["encoded_mean"]);
    let error = max_error(
        (0..512).map(|d| f64::from(encoded.column(d).mean().unwrap())),
        &mean,
    );
    println!("mean over frames: max error {error:.2e}");
    assert!(
        error < 1e-4,
        "frame mean differs from CTranslate2's by {error}"
    );
    for (frame, values) in fixture.doc["encoded_frames"].as_object().unwrap() {
        let frame: usize = frame.parse().unwrap();
        let error = max_error(
            encoded.row(frame).iter().map(|&v| f64::from(v)),
            &numbers(values),
        );
        println!("frame {frame}: max error {error:.2e}");
        assert!(error < 1e-3, "frame {frame} differs by {error}");
    }
}

#[test]
fn audio_to_encoder_output_end_to_end() {
    let fixture = fixture();
    let mel = log_mel(&fixture.samples).unwrap();
    let encoded = encoder().encode(&mel, 6).unwrap();
    let mean = numbers(&fixture.doc["encoded_mean"]);
    let error = max_error(
        (0..512).map(|d| f64::from(encoded.column(d).mean().unwrap())),
        &mean,
    );
    assert!(error < 1e-3, "{error}");
    // Fewer blocks: the hidden states before the last blocks, as wide and as many.
    let early = encoder().encode(&mel, 3).unwrap();
    assert_eq!(early.dim(), encoded.dim());
    assert!(encoder().encode(&mel, 7).is_err());
}

#[test]
fn longer_than_30_seconds_is_encoded_in_windows() {
    let fixture = fixture();
    let mel = golden_mel(&fixture.doc);
    // 13 copies side by side: 3250 frames, a full 30 s window and 250 frames.
    let mut long = Matrix::zeros(80, 13 * mel.cols);
    for row in 0..80 {
        for copy in 0..13 {
            long.row_mut(row)[copy * mel.cols..(copy + 1) * mel.cols].copy_from_slice(mel.row(row));
        }
    }
    let encoded = encoder().encode(&long, 6).unwrap();
    assert_eq!(encoded.nrows(), 1625);
    // The second window starts again at position 0: its frames equal the single clip's.
    let single = encoder().encode(&mel, 6).unwrap();
    let error = max_error(
        encoded.row(1500).iter().map(|&v| f64::from(v)),
        &single
            .row(0)
            .iter()
            .map(|&v| f64::from(v))
            .collect::<Vec<_>>(),
    );
    assert!(error < 1e-4, "{error}");
}

#[test]
fn bad_weights_and_inputs_are_errors() {
    let weights = std::fs::read(root().join("models/whisper-base-encoder.bin")).unwrap();
    for cut in [0, 3, 40, 5000, weights.len() / 2] {
        let error = WhisperEncoder::read(&weights[..cut])
            .unwrap_err()
            .to_string();
        assert!(error.contains("Whisper model"), "{cut}: {error}");
    }
    let mut other_version = weights[..64].to_vec();
    other_version[0] = 5;
    let error = WhisperEncoder::read(&other_version[..])
        .unwrap_err()
        .to_string();
    assert!(error.contains("version 5"), "{error}");
    let error = WhisperEncoder::load(Path::new("/nonexistent/model.bin")).unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/model.bin"),
        "{error}"
    );
    assert!(log_mel(&[]).is_err());
    assert!(encoder().encode(&Matrix::zeros(64, 10), 6).is_err());
    assert!(encoder().encode(&Matrix::zeros(80, 0), 6).is_err());
}

fn whisper_config(blocks: Option<usize>) -> FeatureConfig {
    let weights = root().join("models/whisper-base-encoder.bin");
    FeatureConfig {
        kind: FeatureKind::Whisper,
        whisper: Some(WhisperConfig {
            weights: weights.to_string_lossy().into_owned(),
            blocks,
        }),
        ..FeatureConfig::default()
    }
}

#[test]
fn whisper_kind_gives_the_encoder_states_as_frame_rows() {
    let fixture = fixture();
    let config = whisper_config(None);
    let names = config.feature_names();
    assert_eq!(names.len(), 512);
    assert_eq!(
        (names[0].as_str(), names[511].as_str()),
        ("whisper_0", "whisper_511")
    );
    let features = config.extract_prepared(&fixture.samples, 16000.0).unwrap();
    assert_eq!((features.rows, features.cols), (512, 125));
    let states = encoder()
        .encode(&log_mel(&fixture.samples).unwrap(), 6)
        .unwrap();
    for (frame, dim) in [(0, 0), (62, 100), (124, 511)] {
        assert_eq!(features.get(dim, frame), f64::from(states[[frame, dim]]));
    }
    let early = whisper_config(Some(2))
        .extract_prepared(&fixture.samples, 16000.0)
        .unwrap();
    assert_eq!((early.rows, early.cols), (512, 125));
    assert_ne!(early.get(0, 0), features.get(0, 0));
    // The serialised form names the weights and the depth, and reads back.
    let json = serde_json::to_string(&whisper_config(Some(4))).unwrap();
    let back: FeatureConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, whisper_config(Some(4)));
}

/// Models of one encoder at several depths (the embedded ensemble's 1, 2 and 3 blocks) share one
/// pass through it, and get exactly what each alone gets, in either order.
#[test]
fn depths_of_one_encoder_extracted_together_equal_each_alone() {
    let fixture = fixture();
    let audio = ser_audio::Audio {
        samples: fixture.samples.clone(),
        sample_rate: 16_000,
    };
    let at = |blocks| {
        let mut config = whisper_config(blocks);
        config.audio.sample_rate = Some(16_000);
        config
    };
    let alone: Vec<_> = [Some(2), Some(3), None]
        .map(|blocks| at(blocks).extract(&audio).unwrap())
        .into();
    let together = FeatureConfig::extract_each(&[at(Some(2)), at(Some(3)), at(None)], &audio);
    assert_eq!(together.unwrap(), alone);
    let reversed = FeatureConfig::extract_each(&[at(None), at(Some(3)), at(Some(2))], &audio);
    let mut expected = alone.clone();
    expected.reverse();
    assert_eq!(reversed.unwrap(), expected);
    assert_ne!(alone[0], alone[1]);
}

#[test]
fn whisper_kind_drops_the_pause_by_its_own_framing() {
    let fixture = fixture();
    let mut config = whisper_config(None);
    config.silence = Some(SilenceConfig::default());
    let speech = config.extract_prepared(&fixture.samples, 16000.0).unwrap();
    // The fixture's 0.2 s pause is 60 dB down: about ten 20 ms vectors go, the voice stays.
    assert!(
        (110..=118).contains(&speech.cols),
        "{} vectors kept",
        speech.cols
    );
}

#[test]
fn whisper_kind_refuses_what_it_cannot_read() {
    let fixture = fixture();
    let error = |config: &FeatureConfig, sr: f64| {
        config
            .extract_prepared(&fixture.samples, sr)
            .unwrap_err()
            .to_string()
    };
    assert!(error(&whisper_config(None), 22050.0).contains("16000 Hz"));
    assert!(error(&whisper_config(Some(7)), 16000.0).contains("6 blocks"));
    let mut no_weights = whisper_config(None);
    no_weights.whisper = None;
    assert!(error(&no_weights, 16000.0).contains("[features.whisper]"));
    let mut mfcc = whisper_config(None);
    mfcc.kind = FeatureKind::Mfcc;
    assert!(error(&mfcc, 16000.0).contains("[features.whisper]"));
    let mut missing = whisper_config(None);
    missing.whisper.as_mut().unwrap().weights = "/nonexistent/whisper.bin".into();
    assert!(missing.feature_names().is_empty());
    assert!(error(&missing, 16000.0).contains("/nonexistent/whisper.bin"));
}

#[test]
fn an_encoder_cut_to_its_first_blocks_encodes_alike() {
    use ser_features::whisper::{shared_encoder, weights_file};
    let path = root().join("models/whisper-base-encoder.bin");
    let path = path.to_string_lossy();
    let (full_id, full) = weights_file(&path, None).unwrap();
    let (cut_id, cut) = weights_file(&path, Some(2)).unwrap();
    assert_ne!(full_id, cut_id);
    assert!(
        cut.len() < full.len() / 2,
        "{} of {}",
        cut.len(),
        full.len()
    );
    assert_eq!(weights_file(&path, Some(2)).unwrap().0, cut_id);
    assert_eq!(weights_file(&path, Some(6)).unwrap().0, full_id);
    let cut_encoder = shared_encoder(&cut_id).unwrap();
    assert_eq!(cut_encoder.n_blocks(), 2);
    let mel = golden_mel(&fixture().doc);
    assert_eq!(
        cut_encoder.encode(&mel, 2).unwrap(),
        encoder().encode(&mel, 2).unwrap()
    );
    // A configuration names the cut by its id, and extracts the same features through it.
    let config = whisper_config(Some(2));
    let by_id = config.with_weight_ids().unwrap();
    assert_eq!(by_id.whisper.as_ref().unwrap().weights, cut_id);
    let samples = fixture().samples;
    assert_eq!(
        by_id.extract_prepared(&samples, 16000.0).unwrap(),
        config.extract_prepared(&samples, 16000.0).unwrap()
    );
}

/// A CTranslate2 file of a tiny Whisper encoder (width 8, 2 heads, 1 block, 4 positions), its
/// values a fixed pseudo-random pattern: what the parser must take apart, in 3 KB.
fn tiny_encoder_file() -> Vec<u8> {
    let mut tensors: Vec<(String, Vec<usize>)> = vec![
        ("conv1/weight".into(), vec![8, 80, 3]),
        ("conv1/bias".into(), vec![8]),
        ("conv2/weight".into(), vec![8, 8, 3]),
        ("conv2/bias".into(), vec![8]),
        ("position_encodings/encodings".into(), vec![4, 8]),
        ("layer_norm/gamma".into(), vec![8]),
        ("layer_norm/beta".into(), vec![8]),
    ];
    for (name, shape) in [
        ("self_attention/layer_norm/gamma", vec![8]),
        ("self_attention/layer_norm/beta", vec![8]),
        ("self_attention/linear_0/weight", vec![24, 8]),
        ("self_attention/linear_0/bias", vec![24]),
        ("self_attention/linear_1/weight", vec![8, 8]),
        ("self_attention/linear_1/bias", vec![8]),
        ("ffn/layer_norm/gamma", vec![8]),
        ("ffn/layer_norm/beta", vec![8]),
        ("ffn/linear_0/weight", vec![16, 8]),
        ("ffn/linear_0/bias", vec![16]),
        ("ffn/linear_1/weight", vec![8, 16]),
        ("ffn/linear_1/bias", vec![8]),
    ] {
        tensors.push((format!("layer_0/{name}"), shape));
    }
    let string = |out: &mut Vec<u8>, text: &str| {
        out.extend_from_slice(&(text.len() as u16 + 1).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
        out.push(0);
    };
    let mut out = 6u32.to_le_bytes().to_vec();
    string(&mut out, "WhisperSpec");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u32 + 1).to_le_bytes());
    string(&mut out, "encoder/num_heads");
    out.extend_from_slice(&[0, 2, 2, 0, 0, 0, 2, 0]);
    for (index, (name, shape)) in tensors.iter().enumerate() {
        string(&mut out, &format!("encoder/{name}"));
        out.push(shape.len() as u8);
        for &dim in shape {
            out.extend_from_slice(&(dim as u32).to_le_bytes());
        }
        let count: usize = shape.iter().product();
        out.push(0);
        out.extend_from_slice(&(4 * count as u32).to_le_bytes());
        for i in 0..count {
            let value = (((i * 7 + index * 13) % 17) as f32 - 8.0) / 40.0;
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

#[test]
fn a_tiny_encoder_file_reads_and_encodes() {
    let encoder = WhisperEncoder::read(&tiny_encoder_file()[..]).unwrap();
    assert_eq!((encoder.width(), encoder.n_blocks()), (8, 1));
    // 20 mel frames: more than the 4 positions cover, so 3 windows of 8 frames (4 vectors).
    let states = encoder.encode(&Matrix::zeros(80, 20), 1).unwrap();
    assert_eq!(states.dim(), (10, 8));
    assert!(states.iter().all(|v| v.is_finite()));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Damaged model files are refused or read, never a panic, and what reads encodes.
    #[test]
    fn damaged_model_files_never_panic(
        flips in proptest::collection::vec((0usize..4000, proptest::prelude::any::<u8>()), 1..6),
        cut in 0usize..4000,
    ) {
        let mut bytes = tiny_encoder_file();
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        bytes.truncate(cut.max(bytes.len() / 2 + cut % (bytes.len() / 2 + 1)));
        if let Ok(encoder) = WhisperEncoder::read(&bytes[..]) {
            let _ = encoder.encode(&Matrix::zeros(80, 9), encoder.n_blocks());
        }
    }
}
