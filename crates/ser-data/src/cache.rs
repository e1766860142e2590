//! On-disk feature cache keyed by the feature configuration and the audio file's content
//! (and, for a changed copy of the file, the change), and parallel feature extraction over a
//! clip list.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use ser_features::{FeatureConfig, FeatureError, FeatureMatrix};
use sha2::{Digest, Sha256};

use crate::{Clip, DataError, write_atomically};

/// First bytes of every cache entry; bump the digit when the layout changes.
const ENTRY_MAGIC: &[u8; 8] = b"SERFEAT1";
const HEADER_LEN: usize = ENTRY_MAGIC.len() + 8;

/// Caches feature matrices under `dir/<2 hex>/<sha256>.feat`.
///
/// The key is SHA-256 over the crate version, the JSON of the [`FeatureConfig`], the
/// audio file's bytes and, for a changed copy of the file (a degraded training copy), the
/// change's exact description: changing any parameter, the file, or upgrading ser (all workspace
/// crates share one version) misses the cache instead of returning stale features. An
/// entry is a header (magic, `n_features` and `n_frames` as u32 LE) followed by the
/// matrix as f32 LE, written to a temporary file and renamed into place so a crash never
/// leaves a half-written entry. An unreadable or malformed entry is recomputed.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    dir: PathBuf,
}

impl FeatureCache {
    pub fn new(dir: PathBuf) -> Self {
        FeatureCache { dir }
    }

    /// `$SER_CACHE_DIR`, else `$XDG_CACHE_HOME/ser/features`, else
    /// `~/.cache/ser/features`, else `<temp dir>/ser/features`.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("SER_CACHE_DIR") {
            return PathBuf::from(dir);
        }
        let cache_root = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        cache_root.join("ser").join("features")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The features of `path` under `config`: from the cache, or extracted and stored.
    pub fn get_or_compute(
        &self,
        config: &FeatureConfig,
        path: &Path,
    ) -> Result<FeatureMatrix, DataError> {
        self.cached(config, path, "", || config.extract_file(path))?
    }

    /// The features of `path` changed before analysis (a degraded training copy, say), where
    /// `variant` names the change exactly (its parameters and seeds): from the cache, or
    /// computed with `compute` and stored.
    pub fn get_or_compute_variant(
        &self,
        config: &FeatureConfig,
        path: &Path,
        variant: &str,
        compute: impl FnOnce() -> Result<FeatureMatrix, FeatureError>,
    ) -> Result<FeatureMatrix, DataError> {
        self.cached(config, path, variant, compute)?
    }

    /// The cached features of `path` under `config`, changed as `variant` says ("": as it is),
    /// computed with `compute` and stored on a miss. The outer error is the cache's own (an
    /// entry cannot be written), the inner one the clip's (it cannot be read, decoded or
    /// analysed).
    fn cached(
        &self,
        config: &FeatureConfig,
        path: &Path,
        variant: &str,
        compute: impl FnOnce() -> Result<FeatureMatrix, FeatureError>,
    ) -> Result<Result<FeatureMatrix, DataError>, DataError> {
        let key = match cache_key(config, path, variant) {
            Ok(key) => key,
            Err(clip_error) => return Ok(Err(clip_error)),
        };
        let entry = self.entry_path(&key);
        let rows = config.n_features();
        if let Some(matrix) = std::fs::read(&entry)
            .ok()
            .and_then(|b| decode_entry(&b, rows))
        {
            return Ok(Ok(matrix));
        }
        match compute() {
            Ok(matrix) => {
                write_atomically(&entry, &encode_entry(&matrix))?;
                Ok(Ok(matrix))
            }
            Err(source) => Ok(Err(DataError::Feature {
                path: path.to_path_buf(),
                source,
            })),
        }
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.feat"))
    }
}

/// Features of a list of clips: those that could be read, and those that could not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtractedFeatures {
    /// The clips whose features were extracted, in input order.
    pub clips: Vec<Clip>,
    /// Their features, one matrix per clip of `clips`.
    pub matrices: Vec<FeatureMatrix>,
    /// Clips left out because they could not be read, decoded or analysed, in input order.
    pub skipped: Vec<SkippedClip>,
}

/// A clip left out of a run: its file is missing, unreadable or broken.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedClip {
    pub path: PathBuf,
    /// What went wrong; names the file.
    pub reason: String,
}

/// Features of every clip, extracted in parallel (through the cache when one is given).
/// `on_progress` is called once per finished clip, from worker threads. A clip that cannot
/// be read, decoded or analysed (even one that makes a library panic) is skipped and listed
/// in [`ExtractedFeatures::skipped`]; the call fails only if the cache cannot be written or
/// no clip at all could be used.
pub fn extract_features(
    clips: &[Clip],
    config: &FeatureConfig,
    cache: Option<&FeatureCache>,
    on_progress: &(dyn Fn() + Sync),
) -> Result<ExtractedFeatures, DataError> {
    extract_features_with(
        clips,
        config,
        cache,
        on_progress,
        FeatureConfig::extract_file,
    )
}

/// [`extract_features`] with another extractor, `compute`.
pub fn extract_features_with(
    clips: &[Clip],
    config: &FeatureConfig,
    cache: Option<&FeatureCache>,
    on_progress: &(dyn Fn() + Sync),
    compute: impl Fn(&FeatureConfig, &Path) -> Result<FeatureMatrix, FeatureError> + Sync,
) -> Result<ExtractedFeatures, DataError> {
    let results: Vec<Result<Result<FeatureMatrix, DataError>, DataError>> = clips
        .par_iter()
        .map(|clip| {
            let path = clip.path.as_path();
            // A panic inside a decoder or DSP library fails this clip only.
            let compute = || ser_audio::isolate(path, || compute(config, path));
            let features = match cache {
                Some(cache) => cache.cached(config, path, "", compute),
                None => Ok(compute().map_err(|source| DataError::Feature {
                    path: path.to_path_buf(),
                    source,
                })),
            };
            on_progress();
            features
        })
        .collect();
    let mut extracted = ExtractedFeatures::default();
    for (clip, result) in clips.iter().zip(results) {
        match result? {
            Ok(matrix) => {
                extracted.clips.push(clip.clone());
                extracted.matrices.push(matrix);
            }
            Err(error) => extracted.skipped.push(SkippedClip {
                path: clip.path.clone(),
                reason: match error {
                    // The extractor's errors name the file already.
                    DataError::Feature { source, .. } => source.to_string(),
                    other => other.to_string(),
                },
            }),
        }
    }
    match extracted.skipped.first() {
        Some(first) if extracted.clips.is_empty() => Err(DataError::NoReadableClips {
            count: clips.len(),
            first: first.reason.clone(),
        }),
        _ => Ok(extracted),
    }
}

fn cache_key(config: &FeatureConfig, path: &Path, variant: &str) -> Result<String, DataError> {
    let audio = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    // Weights files are keyed by their content: other weights at the same path are other
    // features.
    let config = config
        .with_weight_ids()
        .map_err(|source| DataError::Feature {
            path: path.to_path_buf(),
            source,
        })?;
    let config_json = serde_json::to_vec(&config).map_err(|source| DataError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update([0]);
    hasher.update(&config_json);
    hasher.update([0]);
    hasher.update(&audio);
    // Only a variant adds bytes, so the keys of unchanged files stay what they were.
    if !variant.is_empty() {
        hasher.update([0]);
        hasher.update(variant.as_bytes());
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

fn encode_entry(matrix: &FeatureMatrix) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + 4 * matrix.data.len());
    bytes.extend_from_slice(ENTRY_MAGIC);
    for dimension in [matrix.n_features, matrix.n_frames] {
        // Feature matrices are far below 2^32 in each dimension; saturate rather than wrap
        // so an impossible size can only produce an entry that fails to decode.
        let dimension = u32::try_from(dimension).unwrap_or(u32::MAX);
        bytes.extend_from_slice(&dimension.to_le_bytes());
    }
    for value in &matrix.data {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes
}

/// The matrix in a cache entry, or `None` if the entry is malformed or does not hold
/// `n_rows` feature rows (what its configuration extracts).
fn decode_entry(bytes: &[u8], n_rows: usize) -> Option<FeatureMatrix> {
    let header = bytes.get(..HEADER_LEN)?;
    if &header[..ENTRY_MAGIC.len()] != ENTRY_MAGIC {
        return None;
    }
    let read_u32 = |offset: usize| {
        let field: [u8; 4] = header[offset..offset + 4].try_into().ok()?;
        usize::try_from(u32::from_le_bytes(field)).ok()
    };
    let n_features = read_u32(ENTRY_MAGIC.len())?;
    let n_frames = read_u32(ENTRY_MAGIC.len() + 4)?;
    // A damaged header can still be self-consistent (rows x frames matching the payload):
    // found by fuzzing, such an entry handed training a matrix of another shape. The key
    // covers the configuration, so a sound entry always has the configured row count.
    if n_features != n_rows {
        return None;
    }
    let payload = &bytes[HEADER_LEN..];
    if payload.len() != n_features.checked_mul(n_frames)?.checked_mul(4)? {
        return None;
    }
    let data = payload
        .chunks_exact(4)
        .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
        .collect();
    Some(FeatureMatrix::new(n_features, n_frames, data))
}
