//! Every loader on empty files named by the corpora's published schemes.

use std::path::{Path, PathBuf};

use ser_data::{Corpus, CorpusKind, DataError, Emotion, UNKNOWN_SPEAKER, load_corpus};

/// Creates empty files at the given relative paths and returns the folder.
fn corpus_folder(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in files {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }
    dir
}

fn find<'a>(corpus: &'a Corpus, file_name: &str) -> &'a ser_data::Clip {
    corpus
        .clips
        .iter()
        .find(|c| c.path.file_name().unwrap() == file_name)
        .unwrap_or_else(|| panic!("{file_name} not loaded: {corpus:?}"))
}

fn unmapped_names(corpus: &Corpus) -> Vec<&str> {
    corpus
        .unmapped
        .iter()
        .map(|u| u.path.file_name().unwrap().to_str().unwrap())
        .collect()
}

#[test]
fn tess_reads_flat_and_foldered_layouts_wav_and_flac() {
    let dir = corpus_folder(&[
        "TESS Toronto emotional speech set data/OAF_Pleasant_surprise/OAF_back_ps.wav",
        "TESS Toronto emotional speech set data/OAF_neutral/OA_bite_neutral.WAV",
        "flat/YAF_thumb_up_sad.flac",
        "flat/YAF_word_bored.flac",
        "flat/notes.txt",
        "flat/._YAF_back_sad.wav",
    ]);
    let corpus = load_corpus(CorpusKind::Tess, dir.path()).unwrap();
    assert_eq!(corpus.clips.len(), 3);
    assert_eq!(
        find(&corpus, "OAF_back_ps.wav").emotion,
        Emotion::PleasantSurprise
    );
    assert_eq!(find(&corpus, "OA_bite_neutral.WAV").speaker, "OAF");
    let sad = find(&corpus, "YAF_thumb_up_sad.flac");
    assert_eq!(
        (sad.speaker.as_str(), sad.text.as_deref()),
        ("YAF", Some("thumb_up"))
    );
    assert_eq!(unmapped_names(&corpus), ["YAF_word_bored.flac"]);
    assert_eq!(corpus.unmapped[0].label, "bored");
}

#[test]
fn ravdess_uses_the_seven_field_scheme() {
    let dir = corpus_folder(&[
        "Actor_01/03-01-01-01-01-01-01.wav",
        "Actor_01/03-01-02-02-02-01-01.wav",
        "Actor_12/03-01-08-01-01-02-12.wav",
        "Actor_12/03-02-06-01-01-02-12.wav",
        "Actor_12/03-01-09-01-01-02-12.wav",
        "Actor_12/readme.wav",
    ]);
    let corpus = load_corpus(CorpusKind::Ravdess, dir.path()).unwrap();
    assert_eq!(corpus.name, "ravdess");
    let calm = find(&corpus, "03-01-02-02-02-01-01.wav");
    assert_eq!(calm.emotion, Emotion::Neutral);
    assert_eq!(calm.speaker, "Actor_01");
    assert_eq!(calm.text.as_deref(), Some("Dogs are sitting by the door"));
    assert!(corpus.clips.iter().all(|clip| clip.corpus == "ravdess"));
    let surprised = find(&corpus, "03-01-08-01-01-02-12.wav");
    assert_eq!(surprised.emotion, Emotion::PleasantSurprise);
    assert_eq!(surprised.speaker, "Actor_12");
    assert_eq!(
        find(&corpus, "03-02-06-01-01-02-12.wav").emotion,
        Emotion::Fear
    );
    assert_eq!(corpus.clips.len(), 4);
    assert_eq!(
        unmapped_names(&corpus),
        ["03-01-09-01-01-02-12.wav", "readme.wav"]
    );
}

#[test]
fn crema_d_uses_actor_sentence_emotion_level() {
    let dir = corpus_folder(&[
        "AudioWAV/1001_DFA_ANG_XX.wav",
        "AudioWAV/1001_IEO_HAP_HI.wav",
        "AudioWAV/1091_TSI_NEU_XX.wav",
        "AudioWAV/1002_ITS_SAD_LO.wav",
        "AudioWAV/1002_ITS_FEA_MD.wav",
        "AudioWAV/1002_ITS_DIS_XX.wav",
        "AudioWAV/1002_ITS_XYZ_XX.wav",
    ]);
    let corpus = load_corpus(CorpusKind::CremaD, dir.path()).unwrap();
    let angry = find(&corpus, "1001_DFA_ANG_XX.wav");
    assert_eq!(angry.emotion, Emotion::Angry);
    assert_eq!(angry.speaker, "1001");
    assert_eq!(angry.text.as_deref(), Some("Don't forget a jacket"));
    assert_eq!(corpus.speakers(), ["1001", "1002", "1091"]);
    assert_eq!(corpus.emotion_counts(), [1, 1, 1, 1, 1, 0, 1]);
    assert_eq!(unmapped_names(&corpus), ["1002_ITS_XYZ_XX.wav"]);
}

#[test]
fn savee_reads_original_and_flat_layouts() {
    let dir = corpus_folder(&[
        "AudioData/DC/a01.wav",
        "AudioData/DC/sa15.wav",
        "AudioData/KL/su03.wav",
        "ALL/JE_d10.wav",
        "ALL/JK_f02.wav",
        "ALL/JK_h05.wav",
        "ALL/JK_n30.wav",
        "ALL/JK_x01.wav",
    ]);
    let corpus = load_corpus(CorpusKind::Savee, dir.path()).unwrap();
    assert_eq!(find(&corpus, "a01.wav").speaker, "DC");
    assert_eq!(find(&corpus, "sa15.wav").emotion, Emotion::Sad);
    assert_eq!(find(&corpus, "su03.wav").emotion, Emotion::PleasantSurprise);
    assert_eq!(find(&corpus, "JE_d10.wav").speaker, "JE");
    assert_eq!(corpus.emotion_counts(), [1; 7]);
    assert_eq!(corpus.speakers(), ["DC", "JE", "JK", "KL"]);
    assert_eq!(unmapped_names(&corpus), ["JK_x01.wav"]);
}

#[test]
fn emodb_maps_german_initials_and_reports_boredom() {
    let dir = corpus_folder(&[
        "wav/03a01Fa.wav",
        "wav/03a01Wa.wav",
        "wav/08b10Eb.wav",
        "wav/09a05Ac.wav",
        "wav/10b03Ta.wav",
        "wav/11a02Na.wav",
        "wav/16b09Lb.wav",
        "wav/bad.wav",
    ]);
    let corpus = load_corpus(CorpusKind::EmoDb, dir.path()).unwrap();
    let happy = find(&corpus, "03a01Fa.wav");
    assert_eq!(
        (happy.speaker.as_str(), happy.emotion),
        ("03", Emotion::Happy)
    );
    assert_eq!(
        happy.text.as_deref(),
        Some("Der Lappen liegt auf dem Eisschrank.")
    );
    assert_eq!(find(&corpus, "09a05Ac.wav").emotion, Emotion::Fear);
    assert_eq!(corpus.emotion_counts(), [1, 1, 1, 1, 1, 0, 1]);
    assert_eq!(unmapped_names(&corpus), ["16b09Lb.wav", "bad.wav"]);
    assert!(corpus.unmapped[0].reason.contains("boredom"));
}

#[test]
fn manifest_resolves_relative_paths_and_optional_columns() {
    let dir = corpus_folder(&["clips/a.wav"]);
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        "path,label,speaker,extra,corpus\nclips/a.wav,Angry,spk1,x,calls\n/abs/b.flac,calm,,y,\nc.wav,boredom,spk2,z,calls\n",
    )
    .unwrap();
    for root in [manifest.as_path(), dir.path()] {
        let corpus = load_corpus(CorpusKind::Manifest, root).unwrap();
        assert_eq!(corpus.clips.len(), 2);
        assert_eq!(corpus.clips[0].path, dir.path().join("clips/a.wav"));
        assert_eq!(corpus.clips[0].speaker, "spk1");
        assert_eq!(corpus.clips[1].path, PathBuf::from("/abs/b.flac"));
        assert_eq!(corpus.clips[1].emotion, Emotion::Neutral);
        assert_eq!(corpus.clips[1].speaker, UNKNOWN_SPEAKER);
        // The corpus column names a row's corpus; an empty cell leaves it `manifest`.
        assert_eq!(corpus.clips[0].corpus, "calls");
        assert_eq!(corpus.clips[1].corpus, "manifest");
        assert_eq!(corpus.unmapped.len(), 1);
        assert_eq!(corpus.unmapped[0].label, "boredom");
    }
}

#[test]
fn manifest_without_label_column_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m.csv");
    std::fs::write(&manifest, "path,emotion\na.wav,angry\n").unwrap();
    let error = load_corpus(CorpusKind::Manifest, &manifest).unwrap_err();
    assert!(matches!(error, DataError::Csv { .. }));
    assert!(error.to_string().contains("m.csv"), "{error}");
}

#[test]
fn missing_or_empty_folders_are_errors() {
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        load_corpus(CorpusKind::Tess, empty.path()),
        Err(DataError::NoClips { .. })
    ));
    let missing = Path::new("/nonexistent/ser/corpus");
    let error = load_corpus(CorpusKind::Ravdess, missing).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/ser/corpus"));
}

#[test]
fn corpus_kinds_parse_from_their_names() {
    for kind in CorpusKind::ALL {
        assert_eq!(kind.as_str().parse::<CorpusKind>().unwrap(), kind);
    }
    assert_eq!("CREMAD".parse::<CorpusKind>().unwrap(), CorpusKind::CremaD);
    assert_eq!("EmoDB".parse::<CorpusKind>().unwrap(), CorpusKind::EmoDb);
    assert!("iemocap".parse::<CorpusKind>().is_err());
}
