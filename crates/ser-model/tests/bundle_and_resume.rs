//! Bundles round-trip exactly, refuse other format versions, and interrupted runs resume
//! from the right epoch.

mod common;

use std::sync::Mutex;

use ser_model::{
    BUNDLE_FILE, BUNDLE_FORMAT_VERSION, CHECKPOINT_FILE, Calibration, Classifier, EpochRecord,
    METRICS_FILE, ModelError, SilentProgress, ensemble_bundle, ensemble_members, fit, retemper,
    with_info,
};

/// Weight initialisation draws from burn's process-wide generator: tests of this file run
/// one at a time so each seeded run sees the same draws.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn bundle_save_load_gives_identical_probabilities() {
    let _serial = serial();
    let data = common::synthetic(3, 6, 4, 20);
    let dir = tempfile::tempdir().unwrap();
    let setup = common::tiny_setup(3, 3, Some(dir.path().to_path_buf()), false);
    let outcome = fit(&setup, &data, Some(&data), &SilentProgress).unwrap();
    let path = dir.path().join(BUNDLE_FILE);
    assert_eq!(outcome.bundle_path.as_deref(), Some(path.as_path()));

    let from_memory = Classifier::from_bundle_bytes(&outcome.bundle).unwrap();
    let from_disk = Classifier::load(&path).unwrap();
    let matrices: Vec<_> = data.matrices.iter().collect();
    let expected = from_memory
        .predict_features(&matrices, &data.speakers)
        .unwrap();
    let loaded = from_disk
        .predict_features(&matrices, &data.speakers)
        .unwrap();
    assert_eq!(
        expected, loaded,
        "probabilities must be bit-identical after save/load"
    );
    for row in &loaded {
        assert_eq!(row.len(), 3);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    assert_eq!(from_disk.labels(), ["class0", "class1", "class2"]);
    assert_eq!(from_disk.info().n_features, 4);
    assert_eq!(from_disk.info().metrics.epochs_trained, 3);
}

#[test]
fn validation_fits_a_temperature_and_inference_applies_it() {
    let _serial = serial();
    let data = common::synthetic(3, 6, 4, 20);
    let outcome = fit(
        &common::tiny_setup(3, 3, None, false),
        &data,
        Some(&data),
        &SilentProgress,
    )
    .unwrap();
    let fitted = outcome
        .info
        .calibration
        .clone()
        .expect("fitted on validation");
    assert_eq!(fitted.clips, data.len());
    assert_eq!(fitted.fitted_on, "the validation part");
    let matrices: Vec<_> = data.matrices.iter().collect();
    let raw = Classifier::from_bundle_bytes(
        &with_info(&outcome.bundle, |info| {
            info.calibration = Some(Calibration::none())
        })
        .unwrap(),
    )
    .unwrap()
    .predict_features(&matrices, &data.speakers)
    .unwrap();
    let doubled = Calibration {
        temperature: 2.0,
        ..fitted
    };
    let softened = Classifier::from_bundle_bytes(
        &with_info(&outcome.bundle, |info| info.calibration = Some(doubled)).unwrap(),
    )
    .unwrap()
    .predict_features(&matrices, &data.speakers)
    .unwrap();
    for (raw, softened) in raw.iter().zip(&softened) {
        let expected = retemper(raw, 2.0);
        for (e, s) in expected.iter().zip(softened) {
            assert!((e - s).abs() < 1e-5, "{expected:?} vs {softened:?}");
        }
        let top = |row: &[f32]| row.iter().cloned().fold(0.0f32, f32::max);
        assert!(top(softened) <= top(raw) + 1e-6, "T = 2 never sharpens");
    }
}

#[test]
fn other_bundle_versions_are_refused_clearly() {
    let _serial = serial();
    let (_, bundle) = small_bundle();
    let mut bytes = bundle.clone();
    let other_version = BUNDLE_FORMAT_VERSION + 1;
    bytes[4..8].copy_from_slice(&other_version.to_le_bytes());
    let error = Classifier::from_bundle_bytes(&bytes).unwrap_err();
    assert!(
        matches!(
            error,
            ModelError::BundleVersion { found, expected }
                if found == other_version && expected == BUNDLE_FORMAT_VERSION
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains(&format!("version {other_version}")),
        "{error}"
    );

    let dir = tempfile::tempdir().unwrap();
    let not_a_bundle = dir.path().join("clip.wav");
    std::fs::write(&not_a_bundle, b"RIFF0000WAVEfmt ").unwrap();
    let error = Classifier::load(&not_a_bundle).unwrap_err();
    assert!(matches!(error, ModelError::NotABundle { .. }), "{error:?}");
    assert!(error.to_string().contains("clip.wav"), "{error}");
}

/// A bundle's probabilities for every example of `data`, each speaker's examples together.
/// A model of one epoch on a little synthetic data, and that data.
fn small_bundle() -> (ser_model::LabelledFeatures, Vec<u8>) {
    let data = common::synthetic(2, 4, 3, 16);
    let setup = common::tiny_setup(2, 1, None, false);
    let bundle = fit(&setup, &data, None, &SilentProgress).unwrap().bundle;
    (data, bundle)
}

fn probabilities_of(bundle: &[u8], data: &ser_model::LabelledFeatures) -> Vec<Vec<f32>> {
    let matrices: Vec<_> = data.matrices.iter().collect();
    Classifier::from_bundle_bytes(bundle)
        .unwrap()
        .predict_features(&matrices, &data.speakers)
        .unwrap()
}

fn read_log(path: &std::path::Path) -> Vec<EpochRecord> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every log line is a full record"))
        .collect()
}

#[test]
fn resume_continues_after_the_last_checkpointed_epoch() {
    let _serial = serial();
    // 36 clips in batches of 32: a step split across cores, then a short one.
    let data = common::synthetic(3, 12, 4, 20);
    let interrupted = tempfile::tempdir().unwrap();
    let run_dir = interrupted.path().to_path_buf();

    // First run stops after 2 epochs; then a crash mid-epoch 3 leaves half a log line.
    let first = fit(
        &common::tiny_setup(3, 2, Some(run_dir.clone()), false),
        &data,
        Some(&data),
        &SilentProgress,
    )
    .unwrap();
    assert_eq!(first.history.len(), 2);
    use std::io::Write;
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(run_dir.join(METRICS_FILE))
        .unwrap();
    write!(log, "{{\"epoch\":3,\"learn").unwrap();
    drop(log);

    let resumed = fit(
        &common::tiny_setup(3, 4, Some(run_dir.clone()), true),
        &data,
        Some(&data),
        &SilentProgress,
    )
    .unwrap();
    assert_eq!(resumed.resumed_after, 2);
    let epochs: Vec<usize> = resumed.history.iter().map(|record| record.epoch).collect();
    assert_eq!(epochs, vec![1, 2, 3, 4]);
    let logged: Vec<usize> = read_log(&run_dir.join(METRICS_FILE))
        .iter()
        .map(|r| r.epoch)
        .collect();
    assert_eq!(logged, vec![1, 2, 3, 4]);
    assert_eq!(
        resumed.history[..2],
        first.history[..],
        "resumed history keeps the first epochs"
    );

    // The same 4 epochs without interruption end in exactly the same weights.
    let straight_dir = tempfile::tempdir().unwrap();
    let straight = fit(
        &common::tiny_setup(3, 4, Some(straight_dir.path().to_path_buf()), false),
        &data,
        Some(&data),
        &SilentProgress,
    )
    .unwrap();
    let matrices: Vec<_> = data.matrices.iter().collect();
    let a = Classifier::from_bundle_bytes(&resumed.bundle)
        .unwrap()
        .predict_features(&matrices, &data.speakers)
        .unwrap();
    let b = Classifier::from_bundle_bytes(&straight.bundle)
        .unwrap()
        .predict_features(&matrices, &data.speakers)
        .unwrap();
    // Shuffling, augmentation and dropout masks are functions of (seed, epoch, step).
    assert_eq!(a, b, "resumed vs uninterrupted");

    // A finished run resumed again trains nothing more.
    let again = fit(
        &common::tiny_setup(3, 4, Some(run_dir.clone()), true),
        &data,
        Some(&data),
        &SilentProgress,
    )
    .unwrap();
    assert_eq!(again.resumed_after, 4);
    assert_eq!(again.history.len(), 4);
}

/// Weight averaging: the bundle holds the mean of the last epochs' weights, and a run
/// interrupted inside the averaging window resumes into the same mean.
#[test]
fn weight_averaging_resumes_into_the_same_mean() {
    let _serial = serial();
    let data = common::synthetic(3, 12, 4, 20);
    let averaged = |epochs, average_epochs, dir: &std::path::Path, resume| {
        let mut setup = common::tiny_setup(3, epochs, Some(dir.to_path_buf()), resume);
        setup.training.average_epochs = average_epochs;
        fit(&setup, &data, None, &SilentProgress)
    };
    let probabilities = |bundle: &[u8]| probabilities_of(bundle, &data);

    // 3 epochs keeping epoch 3's weights, then resumed to 4 epochs averaging epochs 3 and 4.
    let interrupted = tempfile::tempdir().unwrap();
    averaged(3, 1, interrupted.path(), false).unwrap();
    let resumed = averaged(4, 2, interrupted.path(), true).unwrap();
    assert_eq!(resumed.resumed_after, 3);
    let straight_dir = tempfile::tempdir().unwrap();
    let straight = averaged(4, 2, straight_dir.path(), false).unwrap();
    assert_eq!(
        probabilities(&resumed.bundle),
        probabilities(&straight.bundle),
        "resumed vs uninterrupted"
    );

    // Averaging the last epoch alone is the last epoch's model; two epochs are another one.
    let last_dir = tempfile::tempdir().unwrap();
    let mut last_setup = common::tiny_setup(3, 4, Some(last_dir.path().to_path_buf()), false);
    last_setup.training.average_epochs = 1;
    let last = fit(&last_setup, &data, None, &SilentProgress).unwrap();
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = fit(
        &common::tiny_setup(3, 4, Some(plain_dir.path().to_path_buf()), false),
        &data,
        None,
        &SilentProgress,
    )
    .unwrap();
    assert_eq!(probabilities(&last.bundle), probabilities(&plain.bundle));
    assert_ne!(
        probabilities(&straight.bundle),
        probabilities(&plain.bundle)
    );

    // A checkpoint whose kept model is not this run's mean is refused, not silently mixed.
    let error = averaged(4, 3, interrupted.path(), true).unwrap_err();
    assert!(
        matches!(&error, ModelError::CheckpointMismatch { reason, .. } if reason.contains("averages")),
        "{error:?}"
    );
}

/// A run folder after one epoch of the tiny run: its checkpoint says one epoch is done.
fn one_epoch_run(data: &ser_model::LabelledFeatures) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fit(
        &common::tiny_setup(3, 1, Some(dir.path().to_path_buf()), false),
        data,
        None,
        &SilentProgress,
    )
    .unwrap();
    dir
}

/// A checkpoint resumes only into the run that wrote it: another seed, learning rate, feature
/// analysis or training data of the same size is refused and named, never silently mixed.
#[test]
fn resume_refuses_a_checkpoint_of_another_run() {
    let _serial = serial();
    let data = common::synthetic(3, 4, 4, 16);
    let dir = one_epoch_run(&data);
    let resumed = || common::tiny_setup(3, 2, Some(dir.path().to_path_buf()), true);
    let refusal = |setup: &ser_model::FitSetup, data: &ser_model::LabelledFeatures| match fit(
        setup,
        data,
        None,
        &SilentProgress,
    )
    .unwrap_err()
    {
        ModelError::CheckpointMismatch { reason, .. } => reason,
        other => panic!("{other:?}"),
    };

    let mut other_seed = resumed();
    other_seed.training.seed = 99;
    assert!(refusal(&other_seed, &data).contains("the seed"));
    let mut other_rate = resumed();
    other_rate.training.learning_rate = 0.02;
    assert_eq!(
        refusal(&other_rate, &data),
        "the training options differ (start a new run instead of resuming)"
    );
    let mut other_rate_of_analysis = resumed();
    other_rate_of_analysis.features.audio.sample_rate = Some(16_000);
    assert!(refusal(&other_rate_of_analysis, &data).starts_with("the features differ"));
    let mut other_clips = data.clone();
    other_clips.matrices.swap(0, 3);
    assert!(refusal(&resumed(), &other_clips).starts_with("the training data differ"));

    // More epochs, and the same run again, resume.
    let more = fit(&resumed(), &data, None, &SilentProgress).unwrap();
    assert_eq!(more.resumed_after, 1);
}

/// An input found by fuzzing, from `tests/fixtures/crashes/` (see the README there).
fn crash_input(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crashes")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Found by fuzzing: a bundle whose header says `dropout = 5.3` panicked in burn-nn while the
/// network was built. The header's model description is now validated first.
#[test]
fn a_bundle_with_an_impossible_model_description_is_refused() {
    let bytes = crash_input("bundle-dropout-5.3.serb");
    let error = Classifier::from_bundle_bytes(&bytes).unwrap_err();
    assert!(matches!(error, ModelError::CorruptBundle(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("cnn1d.dropout must be in [0, 1), got 5.3"),
        "{text}"
    );
}

/// Found by fuzzing: a checkpoint of this very run (same identity) whose optimiser section
/// holds a state tensor without a parameter id panicked in burn-optim on resume. It is now
/// refused as a damaged checkpoint, naming the file. The fixture's header is of an older
/// checkpoint version, so its optimiser section goes into a fresh checkpoint of the run.
#[test]
fn a_checkpoint_with_a_damaged_optimiser_state_is_refused() {
    let _serial = serial();
    let data = common::synthetic(3, 12, 4, 20);
    let dir = one_epoch_run(&data);
    let checkpoint = dir.path().join(CHECKPOINT_FILE);
    let (_, crash_sections) =
        split_checkpoint(&crash_input("checkpoint-optimizer-tensor-without-id.serc"));
    let fresh = std::fs::read(&checkpoint).unwrap();
    let (header, mut sections) = split_checkpoint(&fresh);
    sections[1] = crash_sections[1].clone();
    std::fs::write(&checkpoint, join_checkpoint(&fresh[..8], header, sections)).unwrap();
    let setup = common::tiny_setup(3, 2, Some(dir.path().to_path_buf()), true);
    let error = fit(&setup, &data, Some(&data), &SilentProgress).unwrap_err();
    let ModelError::CheckpointMismatch { path, reason } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(path, &checkpoint);
    assert!(reason.contains("bad optimiser state"), "{reason}");
}

/// A checkpoint with one section replaced: `edit` gets the tensors and scalars of the
/// burnpack in section `index` (0 model, 1 optimiser, 2 best model). The layout is
/// `checkpoint.rs`'s: magic, version, header length, JSON header naming the section lengths.
fn edit_checkpoint(
    checkpoint: &[u8],
    index: usize,
    edit: impl FnOnce(&mut Vec<burn_pack::Tensor>, &mut Vec<(String, burn_pack::Scalar)>),
) -> Vec<u8> {
    let (header, mut sections) = split_checkpoint(checkpoint);
    let reader =
        burn_pack::Reader::from_bytes(burn_pack::Bytes::from_bytes_vec(sections[index].clone()))
            .unwrap();
    let mut scalars: Vec<_> = reader
        .scalars()
        .iter()
        .map(|(key, value)| (key.clone(), *value))
        .collect();
    let metadata = reader.metadata().clone();
    let mut tensors = reader.into_tensors().unwrap();
    edit(&mut tensors, &mut scalars);
    let mut writer = burn_pack::Writer::new(tensors);
    for (key, value) in &scalars {
        writer = writer.with_scalar(key, *value);
    }
    for (key, value) in &metadata {
        writer = writer.with_metadata(key, value);
    }
    sections[index] = writer.into_bytes().unwrap().to_vec();
    join_checkpoint(&checkpoint[..8], header, sections)
}

/// The JSON header of section lengths.
const SECTION_LENGTHS: [&str; 3] = ["model_len", "optimizer_len", "best_len"];

/// A checkpoint's JSON header and its three sections.
fn split_checkpoint(checkpoint: &[u8]) -> (serde_json::Value, Vec<Vec<u8>>) {
    let header_len = u64::from_le_bytes(checkpoint[8..16].try_into().unwrap()) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&checkpoint[16..16 + header_len]).unwrap();
    let mut rest = &checkpoint[16 + header_len..];
    let sections = SECTION_LENGTHS
        .iter()
        .map(|key| {
            let (section, tail) = rest.split_at(header[key].as_u64().unwrap() as usize);
            rest = tail;
            section.to_vec()
        })
        .collect();
    (header, sections)
}

/// A checkpoint of magic and version `preamble`, `header` with the sections' lengths set, and
/// `sections`.
fn join_checkpoint(
    preamble: &[u8],
    mut header: serde_json::Value,
    sections: Vec<Vec<u8>>,
) -> Vec<u8> {
    for (key, section) in SECTION_LENGTHS.iter().zip(&sections) {
        header[*key] = section.len().into();
    }
    let header = serde_json::to_vec(&header).unwrap();
    let mut bytes = preamble.to_vec();
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for section in &sections {
        bytes.extend_from_slice(section);
    }
    bytes
}

/// Found by fuzzing: checkpoint sections whose tensors do not fit the network panicked inside
/// burn on resume (a `__rank` scalar of 2 for the rank-1 moments of a bias: "From Data",
/// rank 2 vs [8]). Each is now refused as a damaged checkpoint, saying what does not fit.
#[test]
fn checkpoint_tensors_that_do_not_fit_the_network_are_refused() {
    let _serial = serial();
    let data = common::synthetic(3, 6, 4, 20);
    let dir = one_epoch_run(&data);
    let path = dir.path().join(CHECKPOINT_FILE);
    let good = std::fs::read(&path).unwrap();
    type Edit = Box<dyn FnOnce(&mut Vec<burn_pack::Tensor>, &mut Vec<(String, burn_pack::Scalar)>)>;
    let cases: Vec<(usize, Edit, &str)> = vec![
        (
            1,
            Box::new(|tensors, scalars| {
                let bias = tensors.iter().find(|t| t.shape.num_dims() == 1).unwrap();
                let id = bias.param_id.unwrap();
                let rank = scalars
                    .iter_mut()
                    .find(|(key, _)| key == &format!("{id}.__rank"))
                    .unwrap();
                rank.1 = burn_pack::Scalar::from(2usize);
            }),
            "is not the rank of a parameter",
        ),
        (
            1,
            Box::new(|tensors, _| {
                let other_id = tensors.last().unwrap().param_id;
                let moved = tensors.iter_mut().find(|t| t.param_id != other_id).unwrap();
                moved.param_id = other_id;
            }),
            "belongs to no parameter",
        ),
        (
            1,
            Box::new(|tensors, _| {
                tensors[0].shape = tensors[0].shape.iter().copied().chain([1]).collect()
            }),
            "has shape",
        ),
        (
            0,
            Box::new(|tensors, _| {
                let (name, _, shape, id, bytes) = tensors.remove(0).into_parts().unwrap();
                let half = burn_pack::Bytes::from_bytes_vec(bytes[..bytes.len() / 2].to_vec());
                let f16 = burn_pack::Tensor::new(name, burn_pack::DType::F16, shape, id, half);
                tensors.insert(0, f16);
            }),
            "holds F16",
        ),
        (
            0,
            Box::new(|tensors, _| {
                tensors[0].shape = tensors[0].shape.iter().copied().chain([1]).collect()
            }),
            "has shape",
        ),
    ];
    for (index, edit, expected) in cases {
        std::fs::write(&path, edit_checkpoint(&good, index, edit)).unwrap();
        let setup = common::tiny_setup(3, 2, Some(dir.path().to_path_buf()), true);
        let error = fit(&setup, &data, None, &SilentProgress).unwrap_err();
        let ModelError::CheckpointMismatch { reason, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(reason.contains(expected), "{expected:?} not in {reason}");
    }
    // The untouched checkpoint still resumes.
    std::fs::write(&path, &good).unwrap();
    let setup = common::tiny_setup(3, 2, Some(dir.path().to_path_buf()), true);
    assert_eq!(
        fit(&setup, &data, None, &SilentProgress)
            .unwrap()
            .history
            .len(),
        2
    );
}

#[test]
fn an_ensemble_averages_the_logits_of_networks_of_consecutive_seeds() {
    let _serial = serial();
    let data = common::synthetic(3, 6, 4, 20);
    let train = |ensemble: usize, seed: u64, dir: Option<std::path::PathBuf>| {
        let mut setup = common::tiny_setup(3, 3, dir, false);
        setup.model.ensemble = ensemble;
        setup.training.seed = seed;
        fit(&setup, &data, None, &SilentProgress).unwrap().bundle
    };
    let probabilities = |bundle: &[u8]| probabilities_of(bundle, &data);
    let dir = tempfile::tempdir().unwrap();
    let ensemble = train(2, 7, Some(dir.path().to_path_buf()));
    let (first, second) = (
        probabilities(&train(1, 7, None)),
        probabilities(&train(1, 8, None)),
    );
    // Mean logits = mean log-probabilities + a constant: the normalised geometric mean.
    for ((both, a), b) in probabilities(&ensemble).iter().zip(&first).zip(&second) {
        let geometric: Vec<f32> = a.iter().zip(b).map(|(x, y)| (x * y).sqrt()).collect();
        let total: f32 = geometric.iter().sum();
        for (value, expected) in both.iter().zip(&geometric) {
            assert!(
                (value - expected / total).abs() < 1e-5,
                "{both:?} vs {a:?} and {b:?}"
            );
        }
    }
    assert_ne!(first, second, "members with different seeds must differ");
    // The second network keeps its own checkpoint; the first one's is the run's.
    assert!(dir.path().join(CHECKPOINT_FILE).exists());
    assert!(dir.path().join("member-2").join(CHECKPOINT_FILE).exists());
    // Weights cut short are a corrupt bundle, not a panic.
    let error = Classifier::from_bundle_bytes(&ensemble[..ensemble.len() - 10]).unwrap_err();
    assert!(matches!(error, ModelError::CorruptBundle(_)), "{error}");
}

fn whisper_weights() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models/whisper-base-encoder.bin")
        .to_string_lossy()
        .into_owned()
}

/// A tiny model (on synthetic features) whose features say they read Whisper's encoder
/// after `blocks` blocks.
fn whisper_bundle(blocks: usize) -> Vec<u8> {
    let mut setup = common::tiny_setup(3, 1, None, false);
    setup.features.kind = ser_features::FeatureKind::Whisper;
    setup.features.audio.sample_rate = Some(16_000);
    setup.features.whisper = Some(ser_features::WhisperConfig {
        weights: whisper_weights(),
        blocks: Some(blocks),
    });
    let data = common::synthetic(3, 6, 4, 20);
    fit(&setup, &data, None, &SilentProgress).unwrap().bundle
}

#[test]
fn a_bundle_carries_the_whisper_weights_its_features_read() {
    let _serial = serial();
    let weights = whisper_weights();
    let (id, cut) = ser_features::whisper::weights_file(&weights, Some(1)).unwrap();
    let bundle = whisper_bundle(1);
    // The encoder cut to the one block the features read: convolutions, positions, a block.
    let encoder_file = std::fs::metadata(&weights).unwrap().len() as usize;
    assert!(
        cut.len() > 9_000_000 && cut.len() < encoder_file / 4,
        "{}",
        cut.len()
    );
    assert!(bundle.len() > cut.len() && bundle.len() < cut.len() + 100_000);
    // The bundle names the weights by their digest, wherever they were read from.
    let loaded = Classifier::from_bundle_bytes(&bundle).unwrap();
    let whisper = loaded.info().features.whisper.clone().unwrap();
    assert_eq!(whisper.weights, id);
    assert_eq!(whisper.blocks, Some(1));
    assert!(id.starts_with("sha256:") && id.len() == 7 + 64, "{id}");
    // Saved again (here with another card), it still carries them.
    let edited = with_info(&bundle, |info| info.seed = 8).unwrap();
    assert_eq!(edited.len(), bundle.len());

    // Weights under another name than their digest, or cut short, are refused.
    // The header names them twice: in the features, then in the list of what it carries.
    let text = String::from_utf8_lossy(&bundle[..8192]).into_owned();
    let (in_features, carried) = (text.find(&id).unwrap(), text.rfind(&id).unwrap());
    assert!(in_features < carried);
    let fake = format!("sha256:{}", "0".repeat(64));
    let rename = |at: usize| {
        let mut renamed = bundle.clone();
        renamed[at..at + id.len()].copy_from_slice(fake.as_bytes());
        renamed
    };
    let error = Classifier::from_bundle_bytes(&rename(carried))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("said to be {fake} are {id}")),
        "{error}"
    );
    let error = Classifier::from_bundle_bytes(&rename(in_features))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("{fake}, which neither it nor an earlier member")),
        "{error}"
    );
    let (at, renamed) = (carried, rename(carried));
    let mut cut = renamed.clone();
    cut.truncate(at + 100_000);
    let error = Classifier::from_bundle_bytes(&cut).unwrap_err().to_string();
    assert!(error.contains("cut short"), "{error}");
}

#[test]
fn an_ensemble_carries_an_encoder_its_members_share_once() {
    let _serial = serial();
    let [one, three] = [1, 3].map(whisper_bundle);
    let (id_one, _) = ser_features::whisper::weights_file(&whisper_weights(), Some(1)).unwrap();
    let (id_three, cut_three) =
        ser_features::whisper::weights_file(&whisper_weights(), Some(3)).unwrap();
    // Apart, each member carries its own cut; together, the 3 blocks serve both.
    assert!(one.len() + three.len() > cut_three.len() + 9_000_000);
    let ensemble = ensemble_bundle(&[one.clone(), three.clone()], &[]).unwrap();
    assert!(
        ensemble.len() > cut_three.len() && ensemble.len() < cut_three.len() + 200_000,
        "{} bytes for an encoder cut of {}",
        ensemble.len(),
        cut_three.len()
    );
    let loaded = Classifier::from_bundle_bytes(&ensemble).unwrap();
    let format = loaded.ensemble().unwrap().format_version;
    assert_eq!(format, ser_model::ENSEMBLE_FORMAT_VERSION);
    let read: Vec<_> = loaded
        .members()
        .map(|member| member.features.whisper.clone().unwrap())
        .map(|whisper| (whisper.weights, whisper.blocks))
        .collect();
    assert_eq!(
        read,
        [(id_three.clone(), Some(1)), (id_three.clone(), Some(3))]
    );
    // Taken apart again, each member carries its own cut as before.
    assert_eq!(ensemble_members(&ensemble).unwrap(), [one, three]);
    let member = Classifier::from_bundle_bytes(&ensemble_members(&ensemble).unwrap()[0]).unwrap();
    assert_eq!(
        member.info().features.whisper.clone().unwrap().weights,
        id_one
    );
}

#[test]
fn bundles_of_format_2_still_load() {
    let _serial = serial();
    let (data, bundle) = small_bundle();
    let mut bytes = bundle.clone();
    bytes[4..8].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(
        probabilities_of(&bytes, &data),
        probabilities_of(&bundle, &data)
    );
}
