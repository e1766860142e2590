//! The feature cache computes each (config, file) once and survives corrupted entries.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use ser_data::{Clip, DataError, Emotion, FeatureCache, extract_features_with};
use ser_features::{FeatureConfig, FeatureError, FeatureMatrix};

/// Clips whose "audio" is a distinct text per file, and a fake extractor returning a
/// (configured rows) x n matrix derived from the file's length, counting its calls.
fn fixture(n: usize) -> (tempfile::TempDir, Vec<Clip>) {
    let dir = tempfile::tempdir().unwrap();
    let clips = (0..n)
        .map(|i| {
            let path = dir.path().join(format!("clip{i}.wav"));
            std::fs::write(&path, "x".repeat(i + 1)).unwrap();
            Clip {
                path,
                speaker: "S".into(),
                emotion: Emotion::ALL[i % 7],
                text: None,
                corpus: "test".into(),
            }
        })
        .collect();
    (dir, clips)
}

fn fake_extract(
    calls: &AtomicUsize,
) -> impl Fn(&FeatureConfig, &std::path::Path) -> Result<FeatureMatrix, FeatureError> + Sync + '_ {
    move |config, path| {
        calls.fetch_add(1, Ordering::SeqCst);
        let len = std::fs::metadata(path).unwrap().len() as usize;
        let rows = config.n_features();
        Ok(FeatureMatrix::new(
            rows,
            len,
            (0..rows * len).map(|v| v as f32 * 0.5).collect(),
        ))
    }
}

#[test]
fn second_extraction_is_served_from_the_cache_in_clip_order() {
    let (dir, clips) = fixture(12);
    let cache = FeatureCache::new(dir.path().join("cache"));
    let config = FeatureConfig::default();
    let calls = AtomicUsize::new(0);
    let progress = AtomicUsize::new(0);
    let on_progress = || {
        progress.fetch_add(1, Ordering::SeqCst);
    };
    let first = extract_features_with(
        &clips,
        &config,
        Some(&cache),
        &on_progress,
        fake_extract(&calls),
    )
    .unwrap();
    let second = extract_features_with(
        &clips,
        &config,
        Some(&cache),
        &on_progress,
        fake_extract(&calls),
    )
    .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 12);
    assert_eq!(progress.load(Ordering::SeqCst), 24);
    assert_eq!(first, second);
    assert_eq!(first.clips, clips);
    assert!(first.skipped.is_empty());
    for (i, matrix) in first.matrices.iter().enumerate() {
        assert_eq!((matrix.n_features, matrix.n_frames), (40, i + 1));
    }
    // A changed file is a different key.
    std::fs::write(&clips[0].path, "changed").unwrap();
    extract_features_with(
        &clips[..1],
        &config,
        Some(&cache),
        &|| {},
        fake_extract(&calls),
    )
    .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 13);
}

#[test]
fn corrupted_entries_are_recomputed() {
    let (dir, clips) = fixture(3);
    let cache_dir = dir.path().join("cache");
    let cache = FeatureCache::new(cache_dir.clone());
    let config = FeatureConfig::default();
    let calls = AtomicUsize::new(0);
    let expected =
        extract_features_with(&clips, &config, Some(&cache), &|| {}, fake_extract(&calls)).unwrap();
    let mut entries: Vec<PathBuf> = Vec::new();
    for shard in std::fs::read_dir(&cache_dir).unwrap() {
        for entry in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            entries.push(entry.unwrap().path());
        }
    }
    assert_eq!(
        entries.len(),
        3,
        "one entry per clip, no temporary files left"
    );
    std::fs::write(&entries[0], b"SERFEAT1garbage").unwrap();
    let bytes = std::fs::read(&entries[1]).unwrap();
    std::fs::write(&entries[1], &bytes[..bytes.len() - 1]).unwrap();
    let again =
        extract_features_with(&clips, &config, Some(&cache), &|| {}, fake_extract(&calls)).unwrap();
    assert_eq!(again, expected);
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

/// Found by fuzzing (`fuzz/fuzz_targets/feature_cache.rs`): an entry whose header is
/// damaged but self-consistent (13 rows x 20 frames, payload to match) was returned as is,
/// handing training a 13-row matrix for a 40-row configuration. It is now recomputed.
#[test]
fn an_entry_of_another_shape_is_recomputed() {
    let (dir, clips) = fixture(1);
    let cache_dir = dir.path().join("cache");
    let cache = FeatureCache::new(cache_dir.clone());
    let config = FeatureConfig::default();
    let calls = AtomicUsize::new(0);
    let expected =
        extract_features_with(&clips, &config, Some(&cache), &|| {}, fake_extract(&calls)).unwrap();
    let shard = std::fs::read_dir(&cache_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let entry = std::fs::read_dir(shard.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let crash = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/crashes/cache-entry-other-shape.feat"
    );
    let bytes = std::fs::read(crash).unwrap();
    assert_eq!(&bytes[..8], b"SERFEAT1");
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 13);
    std::fs::write(entry.path(), &bytes).unwrap();
    let again =
        extract_features_with(&clips, &config, Some(&cache), &|| {}, fake_extract(&calls)).unwrap();
    assert_eq!(again.matrices[0].n_features, config.n_features());
    assert_eq!(again, expected);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the bad entry was recomputed"
    );
    // ... and replaced by a sound one, served from then on.
    let third =
        extract_features_with(&clips, &config, Some(&cache), &|| {}, fake_extract(&calls)).unwrap();
    assert_eq!(third, expected);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn unreadable_or_panicking_clips_are_skipped_and_listed() {
    let (_dir, mut clips) = fixture(3);
    clips[1].path = PathBuf::from("/nonexistent/missing.wav");
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::new(cache_dir.path().to_path_buf());
    let calls = AtomicUsize::new(0);
    let extracted = extract_features_with(
        &clips,
        &FeatureConfig::default(),
        Some(&cache),
        &|| {},
        fake_extract(&calls),
    )
    .unwrap();
    assert_eq!(extracted.clips, [clips[0].clone(), clips[2].clone()]);
    assert_eq!(extracted.matrices.len(), 2);
    assert_eq!(extracted.matrices[1].n_frames, 3);
    assert_eq!(extracted.skipped.len(), 1);
    assert_eq!(extracted.skipped[0].path, clips[1].path);
    let reason = &extracted.skipped[0].reason;
    assert!(reason.contains("missing.wav"), "{reason}");

    // A library panic on one clip (issue 12) costs that clip, not the run.
    let panics_on_clip0 = |config: &FeatureConfig, path: &std::path::Path| {
        assert!(!path.ends_with("clip0.wav"), "slice index out of range");
        fake_extract(&calls)(config, path)
    };
    let extracted = extract_features_with(
        &clips[..1],
        &FeatureConfig::default(),
        None,
        &|| {},
        |c, p| panics_on_clip0(c, p),
    );
    let error = extracted.unwrap_err().to_string();
    assert!(error.contains("none of the 1 clips"), "{error}");
    assert!(error.contains("clip0.wav: internal error"), "{error}");
    let mut both = clips.clone();
    both.remove(1);
    let extracted = extract_features_with(
        &both,
        &FeatureConfig::default(),
        None,
        &|| {},
        panics_on_clip0,
    )
    .unwrap();
    assert_eq!(extracted.clips, [both[1].clone()]);
    assert!(
        extracted.skipped[0]
            .reason
            .contains("slice index out of range")
    );
}

#[test]
fn a_run_where_no_clip_can_be_used_fails_naming_the_first_reason() {
    let (_dir, clips) = fixture(2);
    let failing = |_: &FeatureConfig, _: &std::path::Path| {
        Err(FeatureError::InvalidParameter(
            "n_mels must be positive".into(),
        ))
    };
    let error = extract_features_with(&clips, &FeatureConfig::default(), None, &|| {}, failing)
        .unwrap_err();
    assert!(matches!(error, DataError::NoReadableClips { count: 2, .. }));
    assert!(error.to_string().contains("n_mels"), "{error}");
    let nothing = extract_features_with(&[], &FeatureConfig::default(), None, &|| {}, failing);
    assert_eq!(nothing.unwrap(), ser_data::ExtractedFeatures::default());
}

#[test]
fn real_tess_clips_are_extracted_once_and_cached_exactly() {
    let tess =
        ser_data::load_corpus(ser_data::CorpusKind::Tess, &ser_data::default_tess_dir()).unwrap();
    // Every 400th clip: one or two per emotion folder, including the 96 kHz one if hit.
    let clips: Vec<Clip> = tess.clips.iter().step_by(400).cloned().collect();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::new(cache_dir.path().to_path_buf());
    let config = FeatureConfig::default();
    let uncached = ser_data::extract_features(&clips, &config, None, &|| {}).unwrap();
    let first = ser_data::extract_features(&clips, &config, Some(&cache), &|| {}).unwrap();
    let second = ser_data::extract_features(&clips, &config, Some(&cache), &|| {}).unwrap();
    assert_eq!(uncached, first);
    assert_eq!(first, second);
    assert!(first.skipped.is_empty());
    for matrix in &first.matrices {
        assert_eq!(matrix.n_features, config.n_features());
        assert!(matrix.n_frames > 50, "{} frames", matrix.n_frames);
    }
    assert_eq!(
        cache.get_or_compute(&config, &clips[0].path).unwrap(),
        first.matrices[0]
    );
}

/// A changed copy of a file (a degraded training copy) has entries of its own per change, and
/// leaves the entry of the file as it is where it was: same key, not recomputed.
#[test]
fn variants_of_a_file_are_cached_apart_from_it_and_from_each_other() {
    let (dir, clips) = fixture(1);
    let cache = FeatureCache::new(dir.path().join("cache"));
    let config = FeatureConfig::default();
    let path = &clips[0].path;
    let calls = AtomicUsize::new(0);
    let plain = cache.get_or_compute(&config, path).unwrap_err();
    // The file is not audio: the plain extraction fails, and is not cached.
    assert!(matches!(plain, DataError::Feature { .. }), "{plain}");
    let matrix_of = |value: f32| {
        FeatureMatrix::new(config.n_features(), 2, vec![value; config.n_features() * 2])
    };
    let variant = |name: &str, value: f32| {
        cache
            .get_or_compute_variant(&config, path, name, || {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(matrix_of(value))
            })
            .unwrap()
    };
    assert_eq!(variant("speed 1.05", 1.0), matrix_of(1.0));
    assert_eq!(variant("speed 0.95", 2.0), matrix_of(2.0));
    // Served from the cache: the closure's other value is never computed.
    assert_eq!(variant("speed 1.05", 9.0), matrix_of(1.0));
    assert_eq!(variant("speed 0.95", 9.0), matrix_of(2.0));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // The file as it is still has no entry (its extraction still fails), and the variant
    // "" is the file as it is.
    assert!(cache.get_or_compute(&config, path).is_err());
    let as_is = cache.get_or_compute_variant(&config, path, "", || Ok(matrix_of(3.0)));
    assert_eq!(as_is.unwrap(), matrix_of(3.0));
    assert_eq!(cache.get_or_compute(&config, path).unwrap(), matrix_of(3.0));
    // A failing change is reported with the file's path.
    let error = cache
        .get_or_compute_variant(&config, path, "broken", || {
            Err(FeatureError::InvalidParameter("no such change".into()))
        })
        .unwrap_err();
    assert!(
        matches!(&error, DataError::Feature { path: failed, .. } if failed == path),
        "{error}"
    );
}
