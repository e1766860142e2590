//! Splits are deterministic, disjoint, complete and stratified.

use std::collections::HashSet;
use std::path::PathBuf;

use proptest::prelude::*;
use ser_data::{
    Clip, Corpus, Emotion, Split, cross_corpus_split, leave_one_speaker_out, speaker_split,
    stratified_kfold, stratified_split,
};

/// `per_emotion[e]` clips of emotion `e`, alternating between two speakers.
fn clips(per_emotion: &[usize]) -> Vec<Clip> {
    let mut clips = Vec::new();
    for (emotion, &count) in Emotion::ALL.iter().zip(per_emotion) {
        for i in 0..count {
            clips.push(Clip {
                path: PathBuf::from(format!("{emotion}/{i}.wav")),
                speaker: if i % 2 == 0 { "A" } else { "B" }.to_string(),
                emotion: *emotion,
                text: None,
                corpus: "test".into(),
            });
        }
    }
    clips
}

fn counts(clips: &[Clip], indices: &[usize]) -> [usize; 7] {
    let mut counts = [0; 7];
    for &i in indices {
        counts[clips[i].emotion.index()] += 1;
    }
    counts
}

/// The three parts are disjoint and together cover every clip exactly once.
fn assert_partition(split: &Split, n: usize) {
    let all: Vec<usize> = split
        .train
        .iter()
        .chain(&split.validation)
        .chain(&split.test)
        .copied()
        .collect();
    assert_eq!(all.len(), n, "{split:?}");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), n, "parts overlap");
    assert!(all.iter().all(|&i| i < n));
}

#[test]
fn stratified_split_takes_the_fraction_of_every_emotion() {
    let clips = clips(&[400; 7]);
    let split = stratified_split(&clips, 0.2, 0.1, 42);
    assert_partition(&split, clips.len());
    assert_eq!(counts(&clips, &split.test), [80; 7]);
    assert_eq!(counts(&clips, &split.validation), [32; 7]);
    assert_eq!(counts(&clips, &split.train), [288; 7]);
    assert_eq!(split, stratified_split(&clips, 0.2, 0.1, 42));
    assert_ne!(split.test, stratified_split(&clips, 0.2, 0.1, 43).test);
}

#[test]
fn speaker_split_rejects_unknown_and_all_speakers() {
    let clips = clips(&[10; 7]);
    assert!(speaker_split(&clips, &["C".into()], 0.1, 1).is_err());
    assert!(speaker_split(&clips, &["A".into(), "B".into()], 0.1, 1).is_err());
    assert!(speaker_split(&clips, &[], 0.1, 1).is_err());
    let splits = leave_one_speaker_out(&clips, 0.2, 1).unwrap();
    assert_eq!(splits.len(), 2);
    for (split, speaker) in splits.iter().zip(["A", "B"]) {
        assert_partition(split, clips.len());
        assert!(split.test.iter().all(|&i| clips[i].speaker == speaker));
        assert!(split.train.iter().all(|&i| clips[i].speaker != speaker));
        assert_eq!(counts(&clips, &split.validation), [1; 7]);
    }
}

#[test]
fn kfold_tests_every_clip_once() {
    let clips = clips(&[10, 11, 12, 13, 14, 15, 16]);
    let splits = stratified_kfold(&clips, 5, 0.0, 3).unwrap();
    assert_eq!(splits.len(), 5);
    let mut tested: Vec<usize> = splits.iter().flat_map(|s| s.test.clone()).collect();
    tested.sort();
    assert_eq!(tested, (0..clips.len()).collect::<Vec<_>>());
    for split in &splits {
        assert_partition(split, clips.len());
        assert!(split.validation.is_empty());
        // 91 clips over 5 folds: 18 or 19 each, and every emotion within one of even.
        assert!(
            (18..=19).contains(&split.test.len()),
            "{}",
            split.test.len()
        );
        for (emotion, &n) in counts(&clips, &split.test).iter().enumerate() {
            let total = 10 + emotion;
            assert!(n == total / 5 || n == total.div_ceil(5), "{n} of {total}");
        }
    }
    assert!(stratified_kfold(&clips, 1, 0.0, 3).is_err());
    assert!(stratified_kfold(&clips[..3], 4, 0.0, 3).is_err());
}

#[test]
fn cross_corpus_tests_on_the_whole_second_corpus() {
    let corpus = |name: &str, per_emotion: &[usize]| Corpus {
        name: name.into(),
        clips: clips(per_emotion),
        unmapped: Vec::new(),
    };
    let (a, b) = (
        corpus("tess", &[10; 7]),
        corpus("emodb", &[3, 3, 3, 3, 3, 0, 3]),
    );
    let (combined, split) = cross_corpus_split(&a, &b, 0.1, 5);
    assert_eq!(combined.len(), 70 + 18);
    assert_partition(&split, combined.len());
    assert_eq!(split.test, (70..88).collect::<Vec<_>>());
    assert_eq!(counts(&combined, &split.validation), [1; 7]);
    assert!(split.description.contains("tess") && split.description.contains("emodb"));
}

#[test]
fn saved_splits_load_back_by_path() {
    let clips = clips(&[20; 7]);
    let split = stratified_split(&clips, 0.25, 0.2, 9);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/split.json");
    split.save(&clips, &path).unwrap();
    assert_eq!(Split::load(&clips, &path).unwrap(), split);
    let error = Split::load(&clips[..70], &path).unwrap_err();
    assert!(error.to_string().contains("split.json"), "{error}");
}

proptest! {
    #[test]
    fn stratified_split_partitions_any_corpus(
        per_emotion in proptest::collection::vec(0usize..40, 7),
        test_fraction in 0.0f64..1.0,
        validation_fraction in 0.0f64..1.0,
        seed in any::<u64>(),
    ) {
        let clips = clips(&per_emotion);
        let split = stratified_split(&clips, test_fraction, validation_fraction, seed);
        assert_partition(&split, clips.len());
        for (emotion, &n) in counts(&clips, &split.test).iter().enumerate() {
            let expected = (per_emotion[emotion] as f64 * test_fraction).round() as usize;
            prop_assert_eq!(n, expected);
        }
    }
}
