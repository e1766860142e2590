//! Ensemble bundles: models of different architectures in one file, each judging a clip with
//! its own normalisation and temperature, combined by the geometric mean of their
//! probabilities; refused with a clear error when the models cannot be combined.

mod common;

use std::sync::{LazyLock, Mutex};

use proptest::prelude::*;

use ser_audio::{Audio, signals};
use ser_features::{FeatureConfig, FeatureKind, FeatureMatrix, MfccConfig, SilenceConfig};
use ser_model::{
    Calibration, Classifier, FitSetup, LabelledFeatures, LoneClipSubstitute, ModelError,
    ProtocolFigures, SilentProgress, ensemble_bundle, ensemble_members, fit, geometric_mean,
    with_card, with_info,
};

/// Weight initialisation draws from burn's process-wide generator: one training at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// A speaker-normalised MLP (with a fitted-looking temperature of 2) and a cnn1d trained on the
/// same synthetic clips, as bundle bytes.
fn two_models(data: &LabelledFeatures) -> (Vec<u8>, Vec<u8>) {
    let mlp = with_info(&small_mlp(data, true), |info| {
        info.calibration = Some(Calibration {
            temperature: 2.0,
            fitted_on: "test".into(),
            clips: 10,
        })
    })
    .unwrap();
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let cnn = fit(
        &common::tiny_setup(3, 8, None, false),
        data,
        None,
        &SilentProgress,
    )
    .unwrap()
    .bundle;
    (mlp, cnn)
}

/// A small MLP trained on `data`, with or without speaker normalisation, as bundle bytes.
fn small_mlp(data: &LabelledFeatures, speaker_normalization: bool) -> Vec<u8> {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let setup = FitSetup {
        model: common::small_mlp(speaker_normalization, false),
        ..common::tiny_setup(3, 20, None, false)
    };
    fit(&setup, data, None, &SilentProgress).unwrap().bundle
}

#[test]
fn an_ensemble_judges_every_clip_by_the_geometric_mean_of_its_models() {
    let data = common::synthetic(3, 8, 4, 20);
    let (mlp_bytes, cnn_bytes) = two_models(&data);
    let ensemble_bytes = ensemble_bundle(&[mlp_bytes.clone(), cnn_bytes.clone()], &[]).unwrap();
    let ensemble = Classifier::from_bundle_bytes(&ensemble_bytes).unwrap();
    // Taken apart, the ensemble gives back its models byte for byte; a lone model, itself.
    assert_eq!(
        ensemble_members(&ensemble_bytes).unwrap(),
        [mlp_bytes.clone(), cnn_bytes.clone()]
    );
    assert_eq!(
        ensemble_members(&mlp_bytes).unwrap(),
        std::slice::from_ref(&mlp_bytes)
    );
    let mlp = Classifier::from_bundle_bytes(&mlp_bytes).unwrap();
    let cnn = Classifier::from_bundle_bytes(&cnn_bytes).unwrap();
    assert_eq!(ensemble.members().count(), 2);
    assert_eq!(
        ensemble.describe(),
        "mlp + cnn1d trained on synthetic (none)"
    );
    assert_eq!(ensemble.labels(), mlp.labels());
    assert!(
        ensemble.normalizes_speakers(),
        "its MLP centres every speaker"
    );
    assert_eq!(
        ensemble.describe_json().unwrap()["architecture"],
        "mlp+cnn1d"
    );

    let matrices: Vec<&FeatureMatrix> = data.matrices.iter().collect();
    let speakers = &data.speakers;
    let from_mlp = mlp.predict_features(&matrices, speakers).unwrap();
    let from_cnn = cnn.predict_features(&matrices, speakers).unwrap();
    let combined = ensemble.predict_features(&matrices, speakers).unwrap();
    assert_eq!(combined.len(), data.matrices.len());
    for ((mlp_row, cnn_row), row) in from_mlp.iter().zip(&from_cnn).zip(&combined) {
        // By hand: normalised exp of the mean log-probability.
        let unnormalised: Vec<f64> = mlp_row
            .iter()
            .zip(cnn_row)
            .map(|(&a, &b)| (f64::from(a) * f64::from(b)).sqrt())
            .collect();
        let total: f64 = unnormalised.iter().sum();
        for (value, expected) in row.iter().zip(&unnormalised) {
            assert!(
                (f64::from(*value) - expected / total).abs() < 1e-5,
                "{row:?} is not the geometric mean of {mlp_row:?} and {cnn_row:?}"
            );
        }
        assert_eq!(row, &geometric_mean(&[mlp_row, cnn_row]));
    }
    // The MLP's own temperature is applied before combining: its probabilities are softer
    // than its raw softmax.
    let raw_mlp = Classifier::from_bundle_bytes(
        &with_info(&mlp_bytes, |info| info.calibration = None).unwrap(),
    )
    .unwrap()
    .predict_features(&matrices, speakers)
    .unwrap();
    let peak = |rows: &[Vec<f32>]| {
        rows.iter()
            .map(|row| row.iter().copied().fold(0.0, f32::max))
            .sum::<f32>()
    };
    assert!(peak(&from_mlp) < peak(&raw_mlp));

    // A card attached to the ensemble is the ensemble's; its models judge as before.
    let figures = ProtocolFigures {
        protocol: "synthetic".into(),
        runs: 1,
        accuracy: 0.5,
        macro_f1: 0.5,
        uar: 0.5,
        ece: None,
        experiment: None,
    };
    let carded = with_card(&ensemble_bytes, |card| {
        card.evaluations = vec![figures.clone()]
    })
    .unwrap();
    let carded = Classifier::from_bundle_bytes(&carded).unwrap();
    assert_eq!(carded.card().evaluations, [figures]);
    assert!(carded.info().card.evaluations.is_empty());
    assert_eq!(
        carded.predict_features(&matrices, speakers).unwrap(),
        combined
    );

    // One speaker's voice known beforehand from all of their clips is the same as giving
    // those clips together: each model gets its own part of the joined profile.
    let first_speaker: Vec<FeatureMatrix> = data
        .matrices
        .iter()
        .zip(speakers)
        .filter(|(_, speaker)| **speaker == 0)
        .map(|(matrix, _)| matrix.clone())
        .collect();
    let clips: Vec<&FeatureMatrix> = first_speaker.iter().collect();
    let voice = ensemble.voice_profile_of_features(&first_speaker).unwrap();
    assert_eq!(voice.clips(), first_speaker.len());
    let known = ensemble.predict_features_in_voice(&clips, &voice).unwrap();
    let together = ensemble
        .predict_features(&clips, &vec![0; clips.len()])
        .unwrap();
    for (known, together) in known.iter().zip(&together) {
        for (a, b) in known.iter().zip(together) {
            assert!((a - b).abs() < 1e-5, "{known:?} != {together:?}");
        }
    }
}

#[test]
fn models_that_cannot_be_combined_are_refused_with_the_reason() {
    let data = common::synthetic(3, 4, 4, 20);
    let (mlp, cnn) = two_models(&data);
    let message = |result: Result<Vec<u8>, ModelError>| result.unwrap_err().to_string();

    assert!(
        message(ensemble_bundle(std::slice::from_ref(&mlp), &[])).contains("at least two models")
    );
    let other_labels = with_info(&cnn, |info| info.labels[2] = "class9".into()).unwrap();
    assert!(message(ensemble_bundle(&[mlp.clone(), other_labels], &[])).contains("labels"));
    let ensemble = ensemble_bundle(&[mlp.clone(), cnn.clone()], &[]).unwrap();
    assert!(message(ensemble_bundle(&[mlp.clone(), ensemble.clone()], &[])).contains("ensemble"));
    assert!(message(ensemble_bundle(&[mlp.clone(), b"RIFF".to_vec()], &[])).contains("model 2"));

    // A damaged ensemble file never loads and never panics: every cut, and extra bytes.
    for cut in (0..ensemble.len()).step_by(97).chain([ensemble.len() - 1]) {
        let error = Classifier::from_bundle_bytes(&ensemble[..cut]).unwrap_err();
        assert!(
            matches!(error, ModelError::CorruptBundle(_)),
            "cut at {cut}: {error}"
        );
    }
    let mut longer = ensemble.clone();
    longer.push(0);
    assert!(Classifier::from_bundle_bytes(&longer).is_err());
}

#[test]
fn a_speaker_heard_in_one_clip_is_judged_by_the_lone_clip_substitutes() {
    let data = common::synthetic(3, 8, 4, 20);
    let (mlp_bytes, cnn_bytes) = two_models(&data);
    let plain_bytes = small_mlp(&data, false);
    // Model 3 (the MLP without speaker normalisation) in place of model 1 for lone clips.
    let substitute = LoneClipSubstitute {
        member: 2,
        replaces: 0,
    };
    let members = [mlp_bytes.clone(), cnn_bytes.clone(), plain_bytes.clone()];
    let ensemble =
        Classifier::from_bundle_bytes(&ensemble_bundle(&members, &[substitute]).unwrap()).unwrap();
    assert_eq!(ensemble.lone_clip_substitutes(), [substitute]);
    assert_eq!(
        ensemble.describe_json().unwrap()["lone_clip"],
        serde_json::json!([{ "member": 2, "replaces": 0 }])
    );
    // Named as the models that judge together; the substitute counted apart.
    assert_eq!(
        ensemble.architectures(),
        "mlp + cnn1d + 1 lone-clip substitute"
    );
    assert_eq!(
        ensemble.describe_json().unwrap()["architecture"],
        "mlp+cnn1d"
    );
    let [mlp, cnn, plain] = [&mlp_bytes, &cnn_bytes, &plain_bytes]
        .map(|bytes| Classifier::from_bundle_bytes(bytes).unwrap());

    let matrices: Vec<&FeatureMatrix> = data.matrices.iter().collect();
    let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
    // Every clip with the other clips of its speaker: the MLP and the cnn1d, not the substitute.
    let speakers = &data.speakers;
    let together = ensemble.predict_features(&matrices, speakers).unwrap();
    let from_mlp = mlp.predict_features(&matrices, speakers).unwrap();
    let from_cnn = cnn.predict_features(&matrices, speakers).unwrap();
    for (clip, row) in together.iter().enumerate() {
        assert!(close(
            row,
            &geometric_mean(&[&from_mlp[clip], &from_cnn[clip]])
        ));
    }
    // Every clip its own speaker: the substitute and the cnn1d.
    let alone: Vec<usize> = (0..matrices.len()).collect();
    let lone = ensemble.predict_features(&matrices, &alone).unwrap();
    let from_plain = plain.predict_features(&matrices, &alone).unwrap();
    let cnn_alone = cnn.predict_features(&matrices, &alone).unwrap();
    for (clip, row) in lone.iter().enumerate() {
        assert!(close(
            row,
            &geometric_mean(&[&from_plain[clip], &cnn_alone[clip]])
        ));
    }
    assert_ne!(lone, together);
    // A speaker of one clip beside speakers of several: each judged by their own models.
    let mut mixed = speakers.clone();
    mixed[0] = usize::MAX;
    let rows = ensemble.predict_features(&matrices, &mixed).unwrap();
    let one = ensemble.predict_features(&matrices[..1], &[0]).unwrap();
    assert!(close(&rows[0], &one[0]));
    // A voice known from one clip is a lone clip; from several, not.
    let first = [data.matrices[0].clone()];
    let voice = ensemble.voice_profile_of_features(&first).unwrap();
    let known = ensemble
        .predict_features_in_voice(&matrices[..1], &voice)
        .unwrap();
    assert!(close(&known[0], &one[0]));
    let voice = ensemble.voice_profile_of_features(&data.matrices).unwrap();
    let known = ensemble
        .predict_features_in_voice(&matrices[..1], &voice)
        .unwrap();
    let plain_known = Classifier::from_bundle_bytes(&ensemble_bundle(&members[..2], &[]).unwrap())
        .unwrap()
        .predict_features_in_voice(&matrices[..1], &voice)
        .unwrap();
    assert!(close(&known[0], &plain_known[0]));

    // Substitutes out of range, or a model in two roles, are refused.
    let message = |substitutes: &[LoneClipSubstitute]| {
        ensemble_bundle(&members, substitutes)
            .unwrap_err()
            .to_string()
    };
    let pair = |member, replaces| LoneClipSubstitute { member, replaces };
    assert!(message(&[pair(3, 0)]).contains("the ensemble has 3"));
    assert!(message(&[pair(1, 1)]).contains("model 2 has two roles"));
    assert!(message(&[pair(2, 0), pair(1, 0)]).contains("model 1 has two roles"));
    assert!(message(&[pair(2, 0), pair(0, 1)]).contains("model 1 has two roles"));
}

/// Tones of class-dependent pitch in noise, half a second each: `per_class` clips of each of 3
/// classes, of two speakers (alternating).
fn tone_clips(per_class: usize) -> (Vec<Audio>, Vec<usize>, Vec<usize>) {
    let mut audios = Vec::new();
    let mut labels = Vec::new();
    for example in 0..3 * per_class {
        let class = example % 3;
        let hz = 220.0 * (class + 1) as f64 + 7.0 * example as f64;
        let tone = signals::tone(16_000, 0.5, hz, -12.0);
        let noise = signals::white_noise(16_000, 0.5, -40.0, example as u64);
        audios.push(signals::mix(&tone, &noise));
        labels.push(class);
    }
    let speakers = (0..audios.len()).map(|example| example % 2).collect();
    (audios, labels, speakers)
}

fn mfcc_config(n_mfcc: usize, silence: Option<SilenceConfig>) -> FeatureConfig {
    FeatureConfig {
        kind: FeatureKind::Mfcc,
        mfcc: MfccConfig {
            n_mfcc,
            ..MfccConfig::default()
        },
        silence,
        ..FeatureConfig::default()
    }
}

/// A model of `setup` trained on `config`'s features of the clips, as bundle bytes.
fn trained_on(
    mut setup: FitSetup,
    config: &FeatureConfig,
    clips: &(Vec<Audio>, Vec<usize>, Vec<usize>),
) -> Vec<u8> {
    let (audios, labels, speakers) = clips;
    let data = LabelledFeatures {
        matrices: audios
            .iter()
            .map(|audio| config.extract(audio).unwrap())
            .collect(),
        labels: labels.clone(),
        speakers: speakers.clone(),
        corpora: vec![0; labels.len()],
    };
    setup.features = config.clone();
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    fit(&setup, &data, None, &SilentProgress).unwrap().bundle
}

#[test]
fn models_of_different_features_each_read_their_own() {
    let clips = tone_clips(4);
    let mlp_features = mfcc_config(4, None);
    let cnn_features = mfcc_config(6, Some(SilenceConfig::default()));
    let mlp_setup = FitSetup {
        model: common::small_mlp(true, false),
        ..common::tiny_setup(3, 20, None, false)
    };
    let mlp_bytes = trained_on(mlp_setup, &mlp_features, &clips);
    let cnn_bytes = trained_on(common::tiny_setup(3, 8, None, false), &cnn_features, &clips);
    let ensemble = Classifier::from_bundle_bytes(
        &ensemble_bundle(&[mlp_bytes.clone(), cnn_bytes.clone()], &[]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        ensemble.feature_configs(),
        [mlp_features.clone(), cnn_features.clone()]
    );
    assert_eq!(ensemble.feature_config(), &mlp_features);
    let same_features = Classifier::from_bundle_bytes(
        &ensemble_bundle(&[mlp_bytes.clone(), mlp_bytes.clone()], &[]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        same_features.feature_configs(),
        std::slice::from_ref(&mlp_features)
    );

    let mlp = Classifier::from_bundle_bytes(&mlp_bytes).unwrap();
    let cnn = Classifier::from_bundle_bytes(&cnn_bytes).unwrap();
    let (audios, _, _) = &clips;
    let close = |a: &[Vec<f32>], b: &[Vec<f32>]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(a, b)| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5))
    };
    // Every clip alone and one speaker's clips together: the geometric mean of what each model
    // says from its own features.
    for audio in audios {
        let expected = geometric_mean(&[
            &mlp.predict_audio(audio).unwrap(),
            &cnn.predict_audio(audio).unwrap(),
        ]);
        assert!(close(
            &[ensemble.predict_audio(audio).unwrap()],
            &[expected]
        ));
    }
    let from_mlp = mlp.predict_batch(audios).unwrap();
    let from_cnn = cnn.predict_batch(audios).unwrap();
    let expected: Vec<Vec<f32>> = from_mlp
        .iter()
        .zip(&from_cnn)
        .map(|(a, b)| geometric_mean(&[a, b]))
        .collect();
    let together = ensemble.predict_batch(audios).unwrap();
    assert!(close(&together, &expected), "{together:?} != {expected:?}");
    // The mlp's features are 4 MFCC rows, the cnn1d's 6: a mix-up could not even run.
    assert_ne!(from_mlp, from_cnn);

    // Pre-extracted features: a matrix per feature set and clip, in feature_configs() order.
    let features: Vec<Vec<FeatureMatrix>> = audios
        .iter()
        .map(|audio| ensemble.extract_audio(audio).unwrap())
        .collect();
    assert_eq!(features[0][0].n_features, 4);
    assert_eq!(features[0][1].n_features, 6);
    for (audio, clip) in audios.iter().zip(&features) {
        for (config, matrix) in ensemble.feature_configs().iter().zip(clip) {
            assert_eq!(matrix, &config.extract(audio).unwrap());
        }
    }
    let same_speaker = vec![0; audios.len()];
    let from_features = ensemble
        .predict_features(&features.iter().collect::<Vec<_>>(), &same_speaker)
        .unwrap();
    assert!(close(&from_features, &together));
    let voice = ensemble.voice_profile(audios).unwrap();
    assert!(close(
        &ensemble.predict_batch_in_voice(audios, &voice).unwrap(),
        &together
    ));
    // One matrix per clip is not enough for this model: refused, not misread.
    let first_set: Vec<&FeatureMatrix> = features.iter().map(|clip| &clip[0]).collect();
    let error = ensemble
        .predict_features(&first_set, &same_speaker)
        .unwrap_err()
        .to_string();
    assert!(error.contains("2 feature sets"), "{error}");
}

/// One small ensemble bundle, trained once for the property test below.
static ENSEMBLE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let (mlp, cnn) = two_models(&common::synthetic(3, 4, 4, 20));
    ensemble_bundle(&[mlp, cnn], &[]).unwrap()
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// A damaged ensemble file (a byte changed, maybe cut anywhere) is refused with an error or,
    /// when only weights changed, loads and gives one probability per label; it never panics.
    #[test]
    fn a_damaged_ensemble_never_panics(
        position in any::<prop::sample::Index>(),
        value in any::<u8>(),
        cut in any::<Option<prop::sample::Index>>(),
    ) {
        let mut bytes = ENSEMBLE.clone();
        let at = position.index(bytes.len());
        bytes[at] = value;
        if let Some(keep) = cut {
            let length = keep.index(bytes.len());
            bytes.truncate(length);
        }
        if let Ok(classifier) = Classifier::from_bundle_bytes(&bytes) {
            let data = common::synthetic(3, 1, 4, 20);
            let matrices: Vec<&FeatureMatrix> = data.matrices.iter().collect();
            if let Ok(rows) = classifier.predict_features(&matrices, &data.speakers) {
                prop_assert!(rows.iter().all(|row| row.len() == classifier.labels().len()));
            }
        }
    }
}
