//! From a corpus of raw audio to a model bundle in one call: corpus, split, cached feature
//! extraction, augmented copies, then [`fit`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use ser_data::{Clip, CorpusSource, Emotion, ExtractedFeatures, FeatureCache, Split};
use ser_features::{FeatureConfig, FeatureMatrix};

use crate::ModelError;
use crate::config::{AugmentConfig, RunConfig};
use crate::fit::{FitSetup, LabelledFeatures, TrainOutcome, TrainProgress, fit};
use crate::rng::SplitMix64;

/// How to split the corpus. Training uses the train part, early stopping the validation
/// part; the test part is left for `ser evaluate`/`ser experiment`.
#[derive(Debug, Clone, PartialEq)]
pub enum SplitSpec {
    /// Stratified by emotion: `test_fraction` of every emotion held out.
    Random { test_fraction: f64 },
    /// These speakers form the test part (speaker-independent evaluation).
    Speaker { test_speakers: Vec<String> },
    /// Stratified k-fold; `fold` (0-based) is the test part.
    KFold { k: usize, fold: usize },
}

impl std::str::FromStr for SplitSpec {
    type Err = ModelError;

    /// `random`, `random:0.2`, `speaker:YAF`, `speaker:YAF,OAF`, `kfold:5`, `kfold:5:2`
    /// (fold numbers on the command line are 1-based).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ModelError::Config(format!(
                "bad split {text:?}: expected random[:FRACTION], speaker:NAME[,NAME..] or kfold:K[:FOLD]"
            ))
        };
        let mut parts = text.split(':');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("random"), None, None, None) => Ok(SplitSpec::Random { test_fraction: 0.2 }),
            (Some("random"), Some(fraction), None, None) => {
                let test_fraction: f64 = fraction.parse().map_err(|_| bad())?;
                if !(0.0..1.0).contains(&test_fraction) {
                    return Err(bad());
                }
                Ok(SplitSpec::Random { test_fraction })
            }
            (Some("speaker"), Some(names), None, None) if !names.is_empty() => {
                Ok(SplitSpec::Speaker {
                    test_speakers: names.split(',').map(str::to_string).collect(),
                })
            }
            (Some("kfold"), Some(k), fold, None) => {
                let k: usize = k.parse().map_err(|_| bad())?;
                let fold: usize = fold.map_or(Ok(1), str::parse).map_err(|_| bad())?;
                if k < 2 || fold == 0 || fold > k {
                    return Err(bad());
                }
                Ok(SplitSpec::KFold { k, fold: fold - 1 })
            }
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for SplitSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitSpec::Random { test_fraction } => write!(f, "random:{test_fraction}"),
            SplitSpec::Speaker { test_speakers } => {
                write!(f, "speaker:{}", test_speakers.join(","))
            }
            SplitSpec::KFold { k, fold } => write!(f, "kfold:{k}:{}", fold + 1),
        }
    }
}

impl SplitSpec {
    pub fn make(
        &self,
        clips: &[Clip],
        validation_fraction: f64,
        seed: u64,
    ) -> Result<Split, ModelError> {
        Ok(match self {
            SplitSpec::Random { test_fraction } => {
                ser_data::stratified_split(clips, *test_fraction, validation_fraction, seed)
            }
            SplitSpec::Speaker { test_speakers } => {
                ser_data::speaker_split(clips, test_speakers, validation_fraction, seed)?
            }
            SplitSpec::KFold { k, fold } => {
                let mut folds = ser_data::stratified_kfold(clips, *k, validation_fraction, seed)?;
                if *fold >= folds.len() {
                    return Err(ModelError::Config(format!(
                        "fold {} of {k} does not exist",
                        fold + 1
                    )));
                }
                folds.swap_remove(*fold)
            }
        })
    }
}

/// Everything `ser train` needs.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The corpora to train on, joined into one clip list (splits apply to the whole).
    pub corpora: Vec<CorpusSource>,
    pub run: RunConfig,
    pub split: SplitSpec,
    /// Share of the non-test clips used for validation (early stopping).
    pub validation_fraction: f64,
    /// Run directory: split.json, metrics.jsonl, checkpoint, model.serb.
    pub out_dir: PathBuf,
    pub resume: bool,
    /// Feature cache folder; `None` disables caching.
    pub cache_dir: Option<PathBuf>,
}

pub const SPLIT_FILE: &str = "split.json";

/// Train a model from raw audio; see [`TrainOptions`].
pub fn train(
    options: &TrainOptions,
    progress: &dyn TrainProgress,
) -> Result<TrainOutcome, ModelError> {
    let run = &options.run;
    run.model.validate()?;
    run.training.validate()?;
    let sources: Vec<String> = options.corpora.iter().map(ToString::to_string).collect();
    progress.stage(&format!("loading {}", sources.join(", ")));
    let corpus = ser_data::load_corpora(&options.corpora)?;
    let split = options.split.make(
        &corpus.clips,
        options.validation_fraction,
        run.training.seed,
    )?;
    if split.train.is_empty() {
        return Err(ModelError::Training(format!(
            "split {} leaves no training clips",
            options.split
        )));
    }
    split.save(&corpus.clips, &options.out_dir.join(SPLIT_FILE))?;

    let pick = |indices: &[usize]| -> Vec<Clip> {
        indices.iter().map(|&i| corpus.clips[i].clone()).collect()
    };
    let (train_clips, validation_clips) = (pick(&split.train), pick(&split.validation));
    let cache = options.cache_dir.clone().map(FeatureCache::new);
    let augment = &run.training.augment;
    let copies = if augment.degrades() {
        augment.copies
    } else {
        0
    };
    let total = train_clips.len() * (1 + copies) + validation_clips.len();
    progress.stage(&format!("extracting features of {total} clips"));
    let done = AtomicUsize::new(0);
    let on_progress = || progress.extraction(done.fetch_add(1, Ordering::Relaxed) + 1, total);
    // Clips that cannot be used are left out (and reported), as unmapped ones are.
    let extract = |clips: &[Clip]| -> Result<ExtractedFeatures, ModelError> {
        let extracted = ser_data::extract_features_with(
            clips,
            &run.features,
            cache.as_ref(),
            &on_progress,
            |config, path| config.extract_file(path),
        )?;
        if !extracted.skipped.is_empty() {
            progress.skipped(&extracted.skipped);
        }
        Ok(extracted)
    };
    let labelled = |extracted: ExtractedFeatures| LabelledFeatures {
        labels: extracted
            .clips
            .iter()
            .map(|clip| clip.emotion.index())
            .collect(),
        speakers: speaker_groups(&extracted.clips),
        corpora: crate::group_indices(extracted.clips.iter().map(|clip| clip.corpus.as_str())),
        matrices: extracted.matrices,
    };
    let extracted = extract(&train_clips)?;
    let train_clips = extracted.clips.clone();
    let mut train = labelled(extracted);
    let (original_speakers, original_corpora) = (train.speakers.clone(), train.corpora.clone());
    let speaker_count = original_speakers.iter().max().map_or(0, |&max| max + 1);
    for copy in 1..=copies {
        let matrices = augmented_features(
            &train_clips,
            &run.features,
            augment,
            (run.training.seed, copy),
            cache.as_ref(),
            &on_progress,
        )?;
        train.matrices.extend(matrices);
        train
            .labels
            .extend(train_clips.iter().map(|clip| clip.emotion.index()));
        // Each copy of a speaker is a new voice for speaker normalisation.
        train.speakers.extend(
            original_speakers
                .iter()
                .map(|speaker| speaker + copy * speaker_count),
        );
        train.corpora.extend(&original_corpora);
    }
    let validation = labelled(extract(&validation_clips)?);
    let setup = FitSetup {
        model: run.model.clone(),
        features: run.features.clone(),
        training: run.training.clone(),
        labels: Emotion::ALL
            .iter()
            .map(|emotion| emotion.as_str().to_string())
            .collect(),
        corpus: corpus.name.clone(),
        split: format!("{} ({})", options.split, split.description),
        run_dir: Some(options.out_dir.clone()),
        resume: options.resume,
        calibration: None,
        training_data: Some(crate::TrainingData {
            corpus: corpus.name.clone(),
            clips: train_clips.len(),
            speakers: distinct_speakers(&train_clips),
        }),
    };
    let validation = (!validation.is_empty()).then_some(&validation);
    let stage = format!(
        "training {} on {} examples ({} validation)",
        run.model.architecture,
        train.len(),
        validation.map_or(0, LabelledFeatures::len)
    );
    if run.training.calibration_folds < 2 {
        progress.stage(&stage);
        return fit(&setup, &train, validation, progress);
    }
    // The final model does not depend on the temperature: it trains alongside the calibration
    // models (all at once, one per core), and the temperature goes into its bundle after.
    progress.stage(&format!("{stage}, alongside the calibration models"));
    let final_setup = FitSetup {
        // A placeholder, so that the validation part is not used to fit a temperature.
        calibration: Some(crate::Calibration::none()),
        ..setup.clone()
    };
    let (calibration, outcome) = rayon::join(
        || out_of_fold_calibration(&setup, &train_clips, &train, progress),
        || fit(&final_setup, &train, validation, progress),
    );
    let calibration = calibration?;
    let mut outcome = outcome?;
    outcome.bundle = crate::bundle::with_info(&outcome.bundle, |info| {
        info.calibration = Some(calibration.clone());
    })?;
    if let Some(path) = &outcome.bundle_path {
        crate::bundle::write_atomically(path, &outcome.bundle)?;
    }
    outcome.info.calibration = Some(calibration);
    Ok(outcome)
}

/// Temperature scaling fitted on out-of-fold predictions: the training clips are dealt into
/// `calibration_folds` folds (whole speakers per fold when there are two or more, at most one
/// fold per speaker; else clips round-robin within each emotion), a model is trained on
/// all folds but one (augmented copies of held-out clips left out too) and predicts the
/// held-out fold.
fn out_of_fold_calibration(
    setup: &FitSetup,
    clips: &[Clip],
    train: &LabelledFeatures,
    progress: &dyn TrainProgress,
) -> Result<crate::Calibration, ModelError> {
    let speakers = distinct_speakers(clips);
    let (folds, grouping) = if speakers >= 2 {
        (setup.training.calibration_folds.min(speakers), "speaker")
    } else {
        (setup.training.calibration_folds, "stratified")
    };
    let fold_of = calibration_folds(clips, folds);
    progress.stage(&format!(
        "calibration: training {folds} models, each with one {grouping} fold held out"
    ));
    let subset = |indices: &[usize]| LabelledFeatures {
        matrices: indices.iter().map(|&i| train.matrices[i].clone()).collect(),
        labels: indices.iter().map(|&i| train.labels[i]).collect(),
        speakers: indices.iter().map(|&i| train.speakers[i]).collect(),
        corpora: indices.iter().map(|&i| train.corpora[i]).collect(),
    };
    let fold_setup = FitSetup {
        run_dir: None,
        resume: false,
        // Raw softmax: these predictions are what the temperature is fitted on.
        calibration: Some(crate::Calibration::none()),
        ..setup.clone()
    };
    /// A held-out fold's raw probabilities and example indices (None: an empty fold).
    type FoldPredictions = Option<(Vec<Vec<f32>>, Vec<usize>)>;
    // The folds train at once, one per core (an MLP's training uses about one); each is a
    // function of its own data and seed, so running them at once changes nothing in the result.
    let trained = AtomicUsize::new(0);
    let predict_fold = |fold: usize| -> Result<FoldPredictions, ModelError> {
        // Example i is clip i % clips.len() (originals first, then each augmented copy).
        let (held_out, kept): (Vec<usize>, Vec<usize>) =
            (0..train.len()).partition(|&i| fold_of[i % clips.len()] == fold);
        let held_out: Vec<usize> = held_out.into_iter().filter(|&i| i < clips.len()).collect();
        if held_out.is_empty() || kept.is_empty() {
            return Ok(None);
        }
        let outcome = fit(&fold_setup, &subset(&kept), None, &crate::SilentProgress)?;
        let done = trained.fetch_add(1, Ordering::Relaxed) + 1;
        progress.stage(&format!("calibration: {done} of {folds} models trained"));
        let classifier = crate::Classifier::from_bundle_bytes(&outcome.bundle)?;
        let held = subset(&held_out);
        let matrices: Vec<&FeatureMatrix> = held.matrices.iter().collect();
        let probabilities = classifier.predict_features(&matrices, &held.speakers)?;
        Ok(Some((probabilities, held_out)))
    };
    let predictions: Vec<_> = {
        use rayon::prelude::*;
        (0..folds).into_par_iter().map(predict_fold).collect()
    };
    let mut probabilities = Vec::new();
    let mut labels = Vec::new();
    let mut held_out_clips = Vec::new();
    for prediction in predictions {
        let Some((fold_probabilities, held_out)) = prediction? else {
            continue;
        };
        probabilities.extend(fold_probabilities);
        labels.extend(held_out.iter().map(|&i| train.labels[i]));
        held_out_clips.extend(held_out.iter().map(|&i| &clips[i]));
    }
    // Every speaker weighs the same: a corpus of few speakers with many clips each (TESS)
    // must not set the temperature for everyone.
    let mut clips_per_speaker: HashMap<&str, usize> = HashMap::new();
    for clip in &held_out_clips {
        *clips_per_speaker.entry(clip.speaker.as_str()).or_default() += 1;
    }
    let weights: Vec<f64> = held_out_clips
        .iter()
        .map(|clip| 1.0 / clips_per_speaker[clip.speaker.as_str()] as f64)
        .collect();
    Ok(crate::fit_calibration(
        &probabilities,
        &labels,
        &weights,
        &format!(
            "out-of-fold predictions of {folds} {grouping} folds of the training part, every \
             speaker weighted the same"
        ),
    ))
}

/// Each clip's speaker as a group index; the same speaker name gets the same index for
/// every call, so augmented copies join their originals.
fn speaker_groups(clips: &[Clip]) -> Vec<usize> {
    crate::group_indices(clips.iter().map(|clip| clip.speaker.as_str()))
}

fn distinct_speakers(clips: &[Clip]) -> usize {
    let mut speakers: Vec<&str> = clips.iter().map(|clip| clip.speaker.as_str()).collect();
    speakers.sort_unstable();
    speakers.dedup();
    speakers.len()
}

/// The calibration fold of every clip: whole speakers dealt round-robin in sorted order
/// when there are two speakers or more (so the temperature is fitted on voices each model
/// never heard; with fewer speakers than `folds`, one fold per speaker), else clips dealt
/// round-robin per emotion.
fn calibration_folds(clips: &[Clip], folds: usize) -> Vec<usize> {
    if distinct_speakers(clips) >= 2 {
        let mut speakers: Vec<&str> = clips.iter().map(|clip| clip.speaker.as_str()).collect();
        speakers.sort_unstable();
        speakers.dedup();
        clips
            .iter()
            .map(|clip| {
                speakers
                    .binary_search(&clip.speaker.as_str())
                    .map_or(0, |index| index % folds)
            })
            .collect()
    } else {
        let mut next = [0usize; 7];
        clips
            .iter()
            .map(|clip| {
                let slot = &mut next[clip.emotion.index()];
                *slot += 1;
                (*slot - 1) % folds
            })
            .collect()
    }
}

/// Features of one degraded copy of every clip, seeded by (seed, copy, speaker name) for the
/// voice and channel and by (seed, copy, speaker name, file name) for the noise: a clip's copy
/// is the same in every run, fold and model of that seed, so with a feature cache it is
/// analysed once (the models of one experiment on one feature set, its folds, its reruns).
fn augmented_features(
    clips: &[Clip],
    features: &FeatureConfig,
    augment: &AugmentConfig,
    (seed, copy): (u64, usize),
    cache: Option<&FeatureCache>,
    on_progress: &(dyn Fn() + Sync),
) -> Result<Vec<FeatureMatrix>, ModelError> {
    use rayon::prelude::*;
    clips
        .par_iter()
        .map(|clip| {
            let file = clip.path.file_name().unwrap_or_default().to_string_lossy();
            let degradation = degradation(augment, seed, copy, &clip.speaker, &file);
            // A panic in a decoder or DSP library becomes this clip's error, as for the clip itself.
            let compute = || {
                ser_audio::isolate(&clip.path, || {
                    let audio = ser_audio::decode_file(&clip.path)?.audio;
                    features.extract(&degradation.apply(&audio)?)
                })
            };
            let matrix = match cache {
                // The degradation's every parameter and seed, printed exactly, names the copy.
                Some(cache) => cache.get_or_compute_variant(
                    features,
                    &clip.path,
                    &format!("{degradation:?}"),
                    compute,
                )?,
                None => compute().map_err(|error| {
                    ModelError::Training(format!("{}: {error}", clip.path.display()))
                })?,
            };
            on_progress();
            Ok(matrix)
        })
        .collect()
}

/// The degradation of file `file` of `speaker` in augmented copy `copy` (see
/// [`AugmentConfig`]).
fn degradation(
    augment: &AugmentConfig,
    seed: u64,
    copy: usize,
    speaker: &str,
    file: &str,
) -> ser_audio::augment::Degradation {
    // Rooms of living rooms and offices: the direct path 0-10 dB above the reverberation.
    const DIRECT_TO_REVERBERANT_DB: (f32, f32) = (0.0, 10.0);
    let speaker = SplitMix64::name_id(speaker);
    let mut voice = SplitMix64::for_stream(seed, &[1, copy as u64, speaker]);
    let mut clip =
        SplitMix64::for_stream(seed, &[2, copy as u64, speaker, SplitMix64::name_id(file)]);
    // Every draw is made whether used or not, so one option does not shift the others.
    let speed_unit = voice.unit();
    let gain_unit = voice.unit();
    let reverb_draw = voice.unit();
    let (rt60_unit, drr_unit, reverb_seed) = (voice.unit(), voice.unit(), voice.next_u64());
    let telephone_draw = voice.unit();
    let pitch_unit = voice.unit();
    let wideband_draw = voice.unit();
    let (snr_unit, noise_seed) = (clip.unit(), clip.next_u64());
    let symmetric = |range: f32, unit: f64| range * (2.0 * unit as f32 - 1.0);
    ser_audio::augment::Degradation {
        speed: augment
            .speed
            .map(|range| 1.0 + symmetric(range, speed_unit)),
        pitch_semitones: augment
            .pitch_semitones
            .map(|range| symmetric(range, pitch_unit)),
        reverb: (reverb_draw < augment.reverb_probability).then(|| {
            let (low, high) = DIRECT_TO_REVERBERANT_DB;
            (
                augment.reverb_rt60_s.at(rt60_unit),
                low + (high - low) * drr_unit as f32,
                reverb_seed,
            )
        }),
        noise: augment
            .noise_snr_db
            .map(|span| (span.at(snr_unit), noise_seed)),
        wideband: wideband_draw < augment.wideband_probability,
        telephone: telephone_draw < augment.telephone_probability,
        gain_db: augment
            .gain_db
            .map_or(0.0, |range| symmetric(range, gain_unit)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(speaker: &str, emotion: Emotion) -> Clip {
        Clip {
            path: PathBuf::from(format!("{speaker}_{}.wav", emotion.as_str())),
            speaker: speaker.into(),
            emotion,
            text: None,
            corpus: "test".into(),
        }
    }

    #[test]
    fn calibration_folds_hold_out_whole_speakers_whenever_there_are_two() {
        let two_speakers: Vec<Clip> = ["YAF", "OAF", "YAF", "OAF"]
            .iter()
            .map(|speaker| clip(speaker, Emotion::ALL[0]))
            .collect();
        // Five folds asked for, two speakers: one fold each (sorted: OAF 0, YAF 1).
        assert_eq!(calibration_folds(&two_speakers, 2), [1, 0, 1, 0]);
        let six: Vec<Clip> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|speaker| clip(speaker, Emotion::ALL[1]))
            .collect();
        assert_eq!(calibration_folds(&six, 5), [0, 1, 2, 3, 4, 0]);
        // One speaker: clips dealt round-robin within each emotion.
        let one: Vec<Clip> = [0, 0, 1, 0, 1]
            .iter()
            .map(|&e| clip("YAF", Emotion::ALL[e]))
            .collect();
        assert_eq!(calibration_folds(&one, 2), [0, 1, 0, 0, 1]);
    }

    #[test]
    fn a_copy_of_a_speaker_is_one_voice_through_one_channel() {
        let augment = AugmentConfig {
            copies: 1,
            noise_snr_db: Some(crate::Span::Between(5.0, 30.0)),
            speed: Some(0.1),
            pitch_semitones: Some(3.0),
            gain_db: Some(6.0),
            reverb_probability: 0.5,
            telephone_probability: 0.5,
            wideband_probability: 0.3,
            ..AugmentConfig::default()
        };
        let voice = |d: &ser_audio::augment::Degradation| {
            (
                d.speed,
                d.pitch_semitones,
                d.reverb,
                d.wideband,
                d.telephone,
                d.gain_db,
            )
        };
        let first = degradation(&augment, 42, 1, "Actor_03", "03-01-05-01-01-01-03.flac");
        let same_speaker = degradation(&augment, 42, 1, "Actor_03", "03-01-05-01-01-02-03.flac");
        assert_eq!(voice(&first), voice(&same_speaker));
        assert_ne!(first.noise, same_speaker.noise);
        // A function of the names only, whatever the clip's place in the training set.
        assert_eq!(
            first,
            degradation(&augment, 42, 1, "Actor_03", "03-01-05-01-01-01-03.flac")
        );
        let speed = first.speed.unwrap();
        assert!((0.9..=1.1).contains(&speed) && first.gain_db.abs() <= 6.0);
        assert!(first.pitch_semitones.unwrap().abs() <= 3.0);
        let (snr, _) = first.noise.unwrap();
        assert!((5.0..=30.0).contains(&snr));
        // Over many speakers and copies, the probabilities hold and voices differ.
        let draws: Vec<_> = (0..400)
            .map(|speaker| {
                let name = format!("speaker {speaker}");
                degradation(&augment, 42, 1 + speaker % 2, &name, "clip.wav")
            })
            .collect();
        let share = |count: usize| count as f64 / draws.len() as f64;
        let rooms = share(draws.iter().filter(|d| d.reverb.is_some()).count());
        let phones = share(draws.iter().filter(|d| d.telephone).count());
        let wideband = share(draws.iter().filter(|d| d.wideband).count());
        assert!(
            (rooms - 0.5).abs() < 0.08 && (phones - 0.5).abs() < 0.08,
            "{rooms} {phones}"
        );
        assert!((wideband - 0.3).abs() < 0.08, "{wideband}");
        assert_ne!(draws[0].speed, draws[1].speed);
        // Unset options stay unset.
        let plain = degradation(
            &AugmentConfig::default(),
            42,
            1,
            "OAF",
            "OAF_back_angry.wav",
        );
        assert_eq!(plain, ser_audio::augment::Degradation::default());
    }
}
