//! Loaders and speaker splits on the real TESS folder (`$SER_TESS_DIR` or
//! `../shared/data/tess`).

use std::collections::HashMap;

use ser_data::{
    CorpusKind, Emotion, default_data_dir, default_tess_dir, load_corpus, speaker_split,
};

#[test]
fn tess_has_200_clips_per_speaker_and_emotion() {
    let corpus = load_corpus(CorpusKind::Tess, &default_tess_dir()).unwrap();
    assert_eq!(corpus.clips.len(), 2800);
    assert!(corpus.unmapped.is_empty(), "{:?}", corpus.unmapped);
    assert_eq!(corpus.speakers(), ["OAF", "YAF"]);
    assert_eq!(corpus.emotion_counts(), [400; 7]);
    let mut per_cell: HashMap<(String, Emotion), usize> = HashMap::new();
    for clip in &corpus.clips {
        *per_cell
            .entry((clip.speaker.clone(), clip.emotion))
            .or_default() += 1;
    }
    assert_eq!(per_cell.len(), 14);
    assert!(per_cell.values().all(|&n| n == 200), "{per_cell:?}");
    // Every target word is said by both speakers in all seven emotions.
    let mut per_word: HashMap<&str, usize> = HashMap::new();
    for clip in &corpus.clips {
        *per_word.entry(clip.text.as_deref().unwrap()).or_default() += 1;
    }
    assert_eq!(per_word.len(), 200);
    assert!(per_word.values().all(|&n| n == 14));
}

#[test]
fn tess_oddities_are_labelled_from_the_folder() {
    let corpus = load_corpus(CorpusKind::Tess, &default_tess_dir()).unwrap();
    let typo = corpus
        .clips
        .iter()
        .find(|c| c.path.file_stem().unwrap() == "OA_bite_neutral")
        .unwrap();
    assert_eq!(typo.speaker, "OAF");
    assert_eq!(typo.emotion, Emotion::Neutral);
    assert_eq!(typo.text.as_deref(), Some("bite"));
    let surprised = corpus
        .clips
        .iter()
        .find(|c| c.path.ends_with("YAF_pleasant_surprised/YAF_back_ps.flac"))
        .unwrap();
    assert_eq!(surprised.emotion, Emotion::PleasantSurprise);
}

#[test]
fn tess_wav_sample_loads_with_the_same_scheme() {
    let corpus = load_corpus(
        CorpusKind::Tess,
        &default_data_dir().join("tess-wav-sample"),
    )
    .unwrap();
    assert_eq!(corpus.clips.len(), 18);
    assert!(corpus.unmapped.is_empty());
    assert_eq!(corpus.speakers(), ["OAF", "YAF"]);
    assert!(corpus.emotion_counts().iter().all(|&n| n >= 2));
}

#[test]
fn oaf_to_yaf_and_back_are_speaker_independent() {
    let corpus = load_corpus(CorpusKind::Tess, &default_tess_dir()).unwrap();
    for (train_speaker, test_speaker) in [("OAF", "YAF"), ("YAF", "OAF")] {
        let split = speaker_split(&corpus.clips, &[test_speaker.to_string()], 0.1, 7).unwrap();
        assert_eq!(split.test.len(), 1400);
        assert_eq!(split.train.len() + split.validation.len(), 1400);
        assert_eq!(split.validation.len(), 7 * 20);
        assert!(
            split
                .test
                .iter()
                .all(|&i| corpus.clips[i].speaker == test_speaker)
        );
        assert!(
            split
                .train
                .iter()
                .chain(&split.validation)
                .all(|&i| corpus.clips[i].speaker == train_speaker)
        );
    }
}
