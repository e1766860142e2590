//! The model bundle: one file with everything inference needs.
//!
//! Layout: `b"SERB"`, format version (u32 LE), header length (u64 LE), the header as JSON
//! ([`BundleInfo`] + [`Normalizer`] + the weights its features read, by id and length), those
//! weights (a Whisper encoder's model file), then the network weights as burnpack bytes (f32).
//!
//! An ensemble of different models (e.g. an MLP and a cnn1d) is a bundle of bundles: `b"SERE"`,
//! its format version (u32 LE), header length (u64 LE), the header as JSON ([`EnsembleInfo`]),
//! then every member's whole bundle preceded by its length (u64 LE); weights that several
//! members' features read are carried by the first of them only.

use std::io::Write;
use std::path::{Path, PathBuf};

use ser_features::FeatureConfig;
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::calibration::Calibration;
use crate::config::{Architecture, ModelConfig, TrainConfig};
use crate::normalizer::Normalizer;

/// Format version written by this build; other versions are refused with a clear error, but
/// version 2, which is version 3 without feature weights, is read.
pub const BUNDLE_FORMAT_VERSION: u32 = 3;
const OLDEST_READ_BUNDLE_FORMAT: u32 = 2;
const BUNDLE_MAGIC: &[u8; 4] = b"SERB";
/// Signature, format version and header length: the start of bundles and checkpoints.
pub(crate) const PREAMBLE_LEN: usize = 4 + 4 + 8;
/// Format version of ensemble bundles written by this build; version 1, whose members each
/// carry every weight their features read, is read too (in version 2 a member may read
/// weights an earlier member carries).
pub const ENSEMBLE_FORMAT_VERSION: u32 = 2;
const OLDEST_READ_ENSEMBLE_FORMAT: u32 = 1;
const ENSEMBLE_MAGIC: &[u8; 4] = b"SERE";
/// How an ensemble bundle combines its members, as recorded in its header.
const GEOMETRIC_MEAN: &str = "geometric_mean";

/// Final figures of the training run stored in the bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BundleMetrics {
    pub epochs_trained: usize,
    /// Epoch (1-based) whose weights the bundle holds.
    pub best_epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub val_macro_f1: Option<f64>,
}

/// Versions of the software that trained the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    pub ser: String,
    pub burn: String,
}

impl Versions {
    pub fn current() -> Self {
        Self {
            ser: env!("CARGO_PKG_VERSION").to_string(),
            burn: BURN_VERSION.to_string(),
        }
    }
}

const BURN_VERSION: &str = "0.22.1";

/// The model card: whom the model heard in training (filled by `ser train`), how its recipe did
/// on voices it never heard, and what it cannot do (both attached with `ser model card`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    #[serde(default)]
    pub training: Option<TrainingData>,
    /// Cross-validated figures of the recipe, one entry per protocol.
    #[serde(default)]
    pub evaluations: Vec<ProtocolFigures>,
    /// Known limits, one sentence each.
    #[serde(default)]
    pub limits: Vec<String>,
}

/// The clips a model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    /// Corpus names joined by `+`, e.g. `tess+ravdess`.
    pub corpus: String,
    pub clips: usize,
    pub speakers: usize,
}

/// What an experiment measured for the model's recipe under one protocol (means over runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtocolFigures {
    /// e.g. `RAVDESS actor-independent 5-fold (TESS in training)`.
    pub protocol: String,
    pub runs: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub uar: f64,
    /// Expected calibration error pooled over the runs' test clips.
    #[serde(default)]
    pub ece: Option<f64>,
    /// How it was measured: the experiment files and options that reproduce the figures.
    #[serde(default)]
    pub experiment: Option<String>,
}

/// Everything about a trained model except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleInfo {
    pub format_version: u32,
    pub architecture: Architecture,
    pub model: ModelConfig,
    pub features: FeatureConfig,
    /// Rows of the network input: feature rows per frame, or pooled statistics for `mlp`.
    pub n_features: usize,
    /// Class names in output order.
    pub labels: Vec<String>,
    pub corpus: String,
    /// How the data was split, e.g. `random:0.2` or `speaker:YAF`.
    pub split: String,
    pub seed: u64,
    pub training: TrainConfig,
    pub metrics: BundleMetrics,
    /// Temperature scaling applied to the logits at inference; `None` (older bundles, or no
    /// held-out predictions to fit it on) means raw softmax.
    #[serde(default)]
    pub calibration: Option<Calibration>,
    #[serde(default)]
    pub card: ModelCard,
    pub versions: Versions,
    /// UTC time of writing, RFC 3339.
    pub created: String,
}

#[derive(Serialize, Deserialize)]
struct Header {
    info: BundleInfo,
    normalizer: Normalizer,
    /// Weights the features are computed with (a Whisper encoder), stored after the header in
    /// this order, before the network's weights.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    feature_weights: Vec<FeatureWeights>,
}

/// One model file the features need, carried by the bundle so that it predicts anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FeatureWeights {
    /// What `[features]` calls it (`sha256:...` of the bytes).
    id: String,
    bytes: u64,
}

/// A parsed bundle: header plus raw weight bytes.
pub(crate) struct BundleParts {
    pub info: BundleInfo,
    pub normalizer: Normalizer,
    pub weights: Vec<u8>,
}

/// A bundle's bytes. The weights that `info`'s features read (a Whisper encoder, by path or id)
/// go in with it, cut to what they read, and its features name them by id.
pub(crate) fn encode(
    info: &BundleInfo,
    normalizer: &Normalizer,
    weights: &[u8],
) -> Result<Vec<u8>, ModelError> {
    let mut info = info.clone();
    let mut carried = Vec::new();
    if let Some(whisper) = &mut info.features.whisper {
        let (id, file) = ser_features::whisper::weights_file(&whisper.weights, whisper.blocks)?;
        whisper.weights = id.clone();
        carried.push((id, file));
    }
    write_bundle(&info, normalizer, weights, &carried)
}

/// Weights a bundle carries for its features: their id and model file.
type CarriedWeights = (String, std::sync::Arc<Vec<u8>>);

/// A bundle's bytes as they are laid out: `info` names the `carried` weights by id.
fn write_bundle(
    info: &BundleInfo,
    normalizer: &Normalizer,
    weights: &[u8],
    carried: &[CarriedWeights],
) -> Result<Vec<u8>, ModelError> {
    let mut info = info.clone();
    // What is written is this build's format, whatever the bundle was read from.
    info.format_version = BUNDLE_FORMAT_VERSION;
    let header = serde_json::to_vec(&Header {
        info,
        normalizer: normalizer.clone(),
        feature_weights: carried
            .iter()
            .map(|(id, file)| FeatureWeights {
                id: id.clone(),
                bytes: file.len() as u64,
            })
            .collect(),
    })
    .map_err(|error| ModelError::CorruptBundle(format!("cannot encode header: {error}")))?;
    let carried_len: usize = carried.iter().map(|(_, file)| file.len()).sum();
    let mut bytes = Vec::with_capacity(PREAMBLE_LEN + header.len() + carried_len + weights.len());
    bytes.extend_from_slice(BUNDLE_MAGIC);
    bytes.extend_from_slice(&BUNDLE_FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for (_, file) in carried {
        bytes.extend_from_slice(file);
    }
    bytes.extend_from_slice(weights);
    Ok(bytes)
}

/// The members' bundles for one ensemble file, each set of weights written once: by the first
/// member whose features read it, the later ones naming it only. A member whose encoder cut
/// is the first blocks of another member's reads that one (Whisper after 2 and after 3
/// blocks: the 3 blocks once, 23 MB, instead of 17 + 23 MB).
fn encode_members(members: &[BundleParts]) -> Result<Vec<Vec<u8>>, ModelError> {
    use ser_features::whisper::weights_file;
    let cuts = members
        .iter()
        .map(|member| {
            let whisper = member.info.features.whisper.as_ref();
            whisper
                .map(|whisper| weights_file(&whisper.weights, whisper.blocks))
                .transpose()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut written: Vec<String> = Vec::new();
    let mut encoded = Vec::with_capacity(members.len());
    for (member, cut) in members.iter().zip(&cuts) {
        let mut info = member.info.clone();
        let mut carried = Vec::new();
        if let (Some(whisper), Some(own)) = (&mut info.features.whisper, cut) {
            let mut read = own.clone();
            for other in cuts.iter().flatten() {
                if other.1.len() > read.1.len()
                    && weights_file(&other.0, whisper.blocks)?.0 == own.0
                {
                    read = other.clone();
                }
            }
            whisper.weights = read.0.clone();
            if !written.contains(&read.0) {
                written.push(read.0.clone());
                carried.push(read);
            }
        }
        encoded.push(write_bundle(
            &info,
            &member.normalizer,
            &member.weights,
            &carried,
        )?);
    }
    Ok(encoded)
}

/// A bundle of one model, alone in its file.
pub(crate) fn decode(bytes: &[u8]) -> Result<BundleParts, ModelError> {
    decode_member(bytes, &mut Vec::new())
}

/// A bundle; `carried_before` holds the ids of the weights that the members before it in its
/// ensemble carry, and gets those it carries.
fn decode_member(
    bytes: &[u8],
    carried_before: &mut Vec<String>,
) -> Result<BundleParts, ModelError> {
    if bytes.starts_with(ENSEMBLE_MAGIC) {
        return Err(ModelError::CorruptBundle(
            "an ensemble bundle cannot be a member of another ensemble".into(),
        ));
    }
    let (header, mut weights) = split_preamble(
        bytes,
        BUNDLE_MAGIC,
        OLDEST_READ_BUNDLE_FORMAT..=BUNDLE_FORMAT_VERSION,
    )?;
    let header: Header = serde_json::from_slice(header)
        .map_err(|error| ModelError::CorruptBundle(format!("bad header: {error}")))?;
    for carried in &header.feature_weights {
        let length = usize::try_from(carried.bytes)
            .ok()
            .filter(|&length| length <= weights.len())
            .ok_or_else(|| {
                ModelError::CorruptBundle(format!("the weights {} are cut short", carried.id))
            })?;
        let (file, rest) = weights.split_at(length);
        // Weights loaded before (another member, an earlier load) are not read again.
        if ser_features::whisper::shared_encoder(&carried.id).is_err() {
            let id = ser_features::whisper::register_weights(file).map_err(|error| {
                ModelError::CorruptBundle(format!("the weights {}: {error}", carried.id))
            })?;
            if id != carried.id {
                return Err(ModelError::CorruptBundle(format!(
                    "the weights said to be {} are {id}",
                    carried.id
                )));
            }
        }
        weights = rest;
        carried_before.push(carried.id.clone());
    }
    if let Some(whisper) = &header.info.features.whisper
        && whisper
            .weights
            .starts_with(ser_features::whisper::WEIGHTS_ID_PREFIX)
        && !carried_before.contains(&whisper.weights)
    {
        return Err(ModelError::CorruptBundle(format!(
            "the features read the weights {}, which neither it nor an earlier member of its \
             ensemble carries",
            whisper.weights
        )));
    }
    if header.info.labels.is_empty() || header.normalizer.n_features() != header.info.n_features {
        return Err(ModelError::CorruptBundle(
            "header labels or normaliser do not match the network".into(),
        ));
    }
    // The network is built from this description before any weight is read, and burn panics
    // on some bad values (found by fuzzing: a dropout of 5.3 in a damaged header panicked in
    // burn-nn's `DropoutConfig::init`). Training validates the same config.
    header
        .info
        .model
        .validate()
        .map_err(|error| ModelError::CorruptBundle(format!("bad model description: {error}")))?;
    Ok(BundleParts {
        info: header.info,
        normalizer: header.normalizer,
        weights: weights.to_vec(),
    })
}

/// The header and the rest of a bundle with signature `magic` and a format of `versions`.
fn split_preamble<'a>(
    bytes: &'a [u8],
    magic: &[u8; 4],
    versions: std::ops::RangeInclusive<u32>,
) -> Result<(&'a [u8], &'a [u8]), ModelError> {
    if bytes.len() < PREAMBLE_LEN || &bytes[..4] != magic {
        return Err(ModelError::CorruptBundle(format!(
            "missing the {} signature: not a ser model bundle",
            String::from_utf8_lossy(magic)
        )));
    }
    let found = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if !versions.contains(&found) {
        return Err(ModelError::BundleVersion {
            found,
            expected: *versions.end(),
        });
    }
    let header_end = header_end(bytes)
        .ok_or_else(|| ModelError::CorruptBundle("header length exceeds the file".into()))?;
    Ok((&bytes[PREAMBLE_LEN..header_end], &bytes[header_end..]))
}

/// Where the JSON header of a file of ser's layout (signature, version, header length as u64
/// LE, header) ends, if inside `bytes`; `bytes` holds at least the preamble.
pub(crate) fn header_end(bytes: &[u8]) -> Option<usize> {
    let length = bytes.get(8..PREAMBLE_LEN)?.try_into().ok()?;
    usize::try_from(u64::from_le_bytes(length))
        .ok()
        .and_then(|length| PREAMBLE_LEN.checked_add(length))
        .filter(|&end| end <= bytes.len())
}

/// What an ensemble bundle says about itself; every member keeps its own [`BundleInfo`]
/// (architecture, features, normaliser, temperature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleInfo {
    pub format_version: u32,
    /// How the members' (calibrated) probabilities are combined: `geometric_mean`.
    pub combination: String,
    pub members: usize,
    /// Class names in output order (the same in every member).
    pub labels: Vec<String>,
    /// The ensemble's own card: its cross-validated figures and limits.
    #[serde(default)]
    pub card: ModelCard,
    /// Models used in place of others for a speaker heard in one clip only (none: every
    /// model judges every clip).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lone_clip: Vec<LoneClipSubstitute>,
    pub versions: Versions,
    /// UTC time of writing, RFC 3339.
    pub created: String,
}

/// For a speaker heard in one clip only, model `member` judges in place of model `replaces`
/// (0-based positions in the ensemble). Made for a model without speaker normalisation in
/// place of one with it: a lone clip can only be centred on the average training voice, a
/// voice the speaker-normalised model never saw in training, whereas a model trained on
/// voices as they are has learnt to judge them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoneClipSubstitute {
    pub member: usize,
    pub replaces: usize,
}

/// Substitutes of an ensemble of `members` models: positions in range, and no model in two
/// roles (a substitute is not replaced, no model is replaced twice), so that both the models
/// for several clips of a speaker and those for a lone clip are never none.
fn check_lone_clip(substitutes: &[LoneClipSubstitute], members: usize) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for substitute in substitutes {
        let [member, replaces] = [substitute.member, substitute.replaces];
        if member >= members || replaces >= members {
            return Err(format!(
                "lone-clip substitute: model {} in place of model {}, but the ensemble has {members}",
                member + 1,
                replaces + 1
            ));
        }
        for index in [member, replaces] {
            if !seen.insert(index) {
                return Err(format!(
                    "lone-clip substitute: model {} has two roles (each model is replaced, or \
                     replaces, at most once)",
                    index + 1
                ));
            }
        }
    }
    Ok(())
}

/// A model file's contents: one model, or an ensemble's header and its models.
pub(crate) struct Bundle {
    pub ensemble: Option<EnsembleInfo>,
    pub members: Vec<BundleParts>,
}

/// Decodes a bundle of either kind.
pub(crate) fn decode_any(bytes: &[u8]) -> Result<Bundle, ModelError> {
    if !bytes.starts_with(ENSEMBLE_MAGIC) {
        return Ok(Bundle {
            ensemble: None,
            members: vec![decode(bytes)?],
        });
    }
    let (header, mut rest) = split_preamble(
        bytes,
        ENSEMBLE_MAGIC,
        OLDEST_READ_ENSEMBLE_FORMAT..=ENSEMBLE_FORMAT_VERSION,
    )?;
    let info: EnsembleInfo = serde_json::from_slice(header)
        .map_err(|error| ModelError::CorruptBundle(format!("bad ensemble header: {error}")))?;
    if info.combination != GEOMETRIC_MEAN {
        return Err(ModelError::CorruptBundle(format!(
            "unknown way of combining an ensemble: '{}'",
            info.combination
        )));
    }
    let cut_short = || {
        ModelError::CorruptBundle(format!(
            "the {} members of the ensemble are cut short",
            info.members
        ))
    };
    // Each member takes at least its length prefix: a huge count in a damaged header
    // fails here instead of reserving memory for it.
    if info.members > rest.len() / 8 {
        return Err(cut_short());
    }
    let mut members = Vec::with_capacity(info.members);
    let mut carried = Vec::new();
    for member in 1..=info.members {
        let (length, after) = rest.split_first_chunk::<8>().ok_or_else(cut_short)?;
        let length = usize::try_from(u64::from_le_bytes(*length)).map_err(|_| cut_short())?;
        if length > after.len() {
            return Err(cut_short());
        }
        let (member_bytes, after) = after.split_at(length);
        let parts = decode_member(member_bytes, &mut carried).map_err(|error| match error {
            ModelError::CorruptBundle(reason) => {
                ModelError::CorruptBundle(format!("member {member} of the ensemble: {reason}"))
            }
            other => other,
        })?;
        members.push(parts);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(ModelError::CorruptBundle(format!(
            "{} bytes after the {} members of the ensemble",
            rest.len(),
            info.members
        )));
    }
    check_members(&members).map_err(|error| ModelError::CorruptBundle(error.to_string()))?;
    check_lone_clip(&info.lone_clip, members.len()).map_err(ModelError::CorruptBundle)?;
    if members[0].info.labels != info.labels {
        return Err(ModelError::CorruptBundle(
            "the ensemble's labels are not its members'".into(),
        ));
    }
    Ok(Bundle {
        ensemble: Some(info),
        members,
    })
}

/// Members of one ensemble: at least two, with the same labels. Their features may differ: a
/// clip is analysed once per distinct feature configuration.
fn check_members(members: &[BundleParts]) -> Result<(), ModelError> {
    let [first, others @ ..] = members else {
        return Err(ModelError::Config(
            "an ensemble needs at least two models".into(),
        ));
    };
    if others.is_empty() {
        return Err(ModelError::Config(
            "an ensemble needs at least two models".into(),
        ));
    }
    for (index, member) in others.iter().enumerate() {
        let number = index + 2;
        if member.info.labels != first.info.labels {
            return Err(ModelError::Config(format!(
                "model {number} has the labels [{}], model 1 [{}]: an ensemble's models must \
                 tell the same emotions apart",
                member.info.labels.join(", "),
                first.info.labels.join(", ")
            )));
        }
    }
    Ok(())
}

/// One ensemble bundle of the given model bundles (each a whole `.serb` file's bytes): their
/// probabilities for a clip are combined by [`crate::geometric_mean`], each after its own
/// temperature. The ensemble's card starts with the members' training data when they share
/// it; figures and limits are attached later (`ser model card`). `lone_clip` names the models
/// that judge a speaker heard in one clip in place of others ([`LoneClipSubstitute`]).
pub fn ensemble_bundle(
    members: &[Vec<u8>],
    lone_clip: &[LoneClipSubstitute],
) -> Result<Vec<u8>, ModelError> {
    let parts = members
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            decode(bytes).map_err(|error| match error {
                ModelError::CorruptBundle(reason) => {
                    ModelError::Config(format!("model {}: {reason}", index + 1))
                }
                other => other,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_members(&parts)?;
    check_lone_clip(lone_clip, parts.len()).map_err(ModelError::Config)?;
    let training = parts[0].info.card.training.clone();
    let shared_training = parts
        .iter()
        .all(|member| member.info.card.training == training);
    let info = EnsembleInfo {
        format_version: ENSEMBLE_FORMAT_VERSION,
        combination: GEOMETRIC_MEAN.into(),
        members: members.len(),
        labels: parts[0].info.labels.clone(),
        card: ModelCard {
            training: training.filter(|_| shared_training),
            ..ModelCard::default()
        },
        lone_clip: lone_clip.to_vec(),
        versions: Versions::current(),
        created: utc_now(),
    };
    encode_ensemble(&info, &encode_members(&parts)?)
}

fn encode_ensemble(info: &EnsembleInfo, members: &[Vec<u8>]) -> Result<Vec<u8>, ModelError> {
    let info = EnsembleInfo {
        format_version: ENSEMBLE_FORMAT_VERSION,
        ..info.clone()
    };
    let header = serde_json::to_vec(&info).map_err(|error| {
        ModelError::CorruptBundle(format!("cannot encode the ensemble header: {error}"))
    })?;
    let size = members.iter().map(|member| member.len() + 8).sum::<usize>();
    let mut bytes = Vec::with_capacity(PREAMBLE_LEN + header.len() + size);
    bytes.extend_from_slice(ENSEMBLE_MAGIC);
    bytes.extend_from_slice(&ENSEMBLE_FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for member in members {
        bytes.extend_from_slice(&(member.len() as u64).to_le_bytes());
        bytes.extend_from_slice(member);
    }
    Ok(bytes)
}

/// The model bundles an ensemble bundle joins, in its order (lone-clip substitutes last, as
/// `ensemble_bundle` takes them); a bundle of one model gives itself. Each loads on its own,
/// so one member can be retrained and the ensemble joined again without the others.
pub fn ensemble_members(bytes: &[u8]) -> Result<Vec<Vec<u8>>, ModelError> {
    decode_any(bytes)?
        .members
        .iter()
        .map(|member| encode(&member.info, &member.normalizer, &member.weights))
        .collect()
}

/// The bundle `bytes` (one model or an ensemble) with its model card changed by `edit`.
pub fn with_card(bytes: &[u8], edit: impl FnOnce(&mut ModelCard)) -> Result<Vec<u8>, ModelError> {
    match decode_any(bytes)? {
        Bundle {
            ensemble: Some(mut info),
            members,
        } => {
            edit(&mut info.card);
            encode_ensemble(&info, &encode_members(&members)?)
        }
        Bundle { ensemble: None, .. } => with_info(bytes, |info| edit(&mut info.card)),
    }
}

/// The bundle `bytes` with its description changed by `edit` (weights and normaliser kept).
pub fn with_info(bytes: &[u8], edit: impl FnOnce(&mut BundleInfo)) -> Result<Vec<u8>, ModelError> {
    let mut parts = decode(bytes)?;
    edit(&mut parts.info);
    encode(&parts.info, &parts.normalizer, &parts.weights)
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over the target, so readers never see a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let io_error = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&directory).map_err(io_error)?;
    let mut temporary = tempfile::NamedTempFile::new_in(&directory).map_err(io_error)?;
    temporary.write_all(bytes).map_err(io_error)?;
    // Temporary files are private (0600); the result is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temporary
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io_error)?;
    }
    temporary.as_file().sync_all().map_err(io_error)?;
    temporary
        .persist(path)
        .map_err(|error| io_error(error.error))?;
    Ok(())
}

/// The current UTC time as RFC 3339 (seconds precision).
pub(crate) fn utc_now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn refuses_other_versions_and_garbage() {
        let mut bytes = b"SERB".to_vec();
        bytes.extend_from_slice(&7u32.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        assert!(matches!(
            decode(&bytes),
            Err(ModelError::BundleVersion {
                found: 7,
                expected: BUNDLE_FORMAT_VERSION
            })
        ));
        assert!(matches!(
            decode(b"RIFF...."),
            Err(ModelError::CorruptBundle(_))
        ));
    }
}
