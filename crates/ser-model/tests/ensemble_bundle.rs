//! Ensemble bundles: models of different architectures in one file, each judging a clip with
//! its own normalisation and temperature, combined by the geometric mean of their
//! probabilities; refused with a clear error when the models cannot be combined.

mod common;

use std::sync::{LazyLock, Mutex};

use proptest::prelude::*;

use ser_features::FeatureMatrix;
use ser_model::{
    Calibration, Classifier, FitSetup, LabelledFeatures, ModelError, ProtocolFigures,
    SilentProgress, ensemble_bundle, fit, geometric_mean, with_card, with_info,
};

/// Weight initialisation draws from burn's process-wide generator: one training at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// A speaker-normalised MLP (with a fitted-looking temperature of 2) and a cnn1d trained on the
/// same synthetic clips, as bundle bytes.
fn two_models(data: &LabelledFeatures) -> (Vec<u8>, Vec<u8>) {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mlp_setup = FitSetup {
        model: common::small_mlp(true, false),
        ..common::tiny_setup(3, 20, None, false)
    };
    let mlp = fit(&mlp_setup, data, None, &SilentProgress).unwrap().bundle;
    let mlp = with_info(&mlp, |info| {
        info.calibration = Some(Calibration {
            temperature: 2.0,
            fitted_on: "test".into(),
            clips: 10,
        })
    })
    .unwrap();
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

#[test]
fn an_ensemble_judges_every_clip_by_the_geometric_mean_of_its_models() {
    let data = common::synthetic(3, 8, 4, 20);
    let (mlp_bytes, cnn_bytes) = two_models(&data);
    let ensemble_bytes = ensemble_bundle(&[mlp_bytes.clone(), cnn_bytes.clone()]).unwrap();
    let ensemble = Classifier::from_bundle_bytes(&ensemble_bytes).unwrap();
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

    assert!(message(ensemble_bundle(std::slice::from_ref(&mlp))).contains("at least two models"));
    let other_labels = with_info(&cnn, |info| info.labels[2] = "class9".into()).unwrap();
    assert!(message(ensemble_bundle(&[mlp.clone(), other_labels])).contains("labels"));
    let other_features = with_info(&cnn, |info| info.features.stft.hop_length += 1).unwrap();
    assert!(message(ensemble_bundle(&[mlp.clone(), other_features])).contains("features"));
    let ensemble = ensemble_bundle(&[mlp.clone(), cnn.clone()]).unwrap();
    assert!(message(ensemble_bundle(&[mlp.clone(), ensemble.clone()])).contains("ensemble"));
    assert!(message(ensemble_bundle(&[mlp.clone(), b"RIFF".to_vec()])).contains("model 2"));

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

/// One small ensemble bundle, trained once for the property test below.
static ENSEMBLE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let (mlp, cnn) = two_models(&common::synthetic(3, 4, 4, 20));
    ensemble_bundle(&[mlp, cnn]).unwrap()
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
