//! The manifest CSV reader (`--corpus manifest:<file>`): any file loads or fails with
//! `DataError`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ser_data::{CorpusKind, load_corpus};

static PATH: LazyLock<std::path::PathBuf> =
    LazyLock::new(|| ser_fuzz::scratch_dir().join("manifest.csv"));

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*PATH, data).unwrap();
    match load_corpus(CorpusKind::Manifest, &PATH) {
        Ok(corpus) => {
            let _ = corpus.speakers();
            let _ = corpus.emotion_counts();
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
