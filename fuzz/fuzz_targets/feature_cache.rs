//! The feature cache reader: whatever bytes sit in a cache entry, `get_or_compute` returns
//! features of the configured shape (the entry's, or recomputed ones), never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ser_data::FeatureCache;
use ser_features::FeatureConfig;

struct Setup {
    cache: FeatureCache,
    config: FeatureConfig,
    clip: PathBuf,
    entry: PathBuf,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let dir = ser_fuzz::scratch_dir().join("cache-target");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let clip = dir.join("clip.wav");
    std::fs::write(
        &clip,
        ser_predict::testing::wav_bytes(&ser_fuzz::tone(0.3, 16_000)),
    )
    .unwrap();
    let config = FeatureConfig::default();
    let cache = FeatureCache::new(dir.join("cache"));
    cache
        .get_or_compute(&config, &clip)
        .expect("features of a tone");
    let entry = find_entry(&dir.join("cache")).expect("the cache wrote an entry");
    Setup {
        cache,
        config,
        clip,
        entry,
    }
});

fn find_entry(dir: &std::path::Path) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if let Some(found) = find_entry(&path) {
                return Some(found);
            }
        } else if path.extension().is_some_and(|e| e == "feat") {
            return Some(path);
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let setup = &*SETUP;
    std::fs::write(&setup.entry, data).unwrap();
    let matrix = setup
        .cache
        .get_or_compute(&setup.config, &setup.clip)
        .expect("a bad cache entry is recomputed, not an error");
    assert_eq!(
        matrix.n_features,
        setup.config.n_features(),
        "cache returned a matrix of another shape"
    );
    assert_eq!(matrix.data.len(), matrix.n_features * matrix.n_frames);
});
