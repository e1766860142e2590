//! CTranslate2's model file (`model.bin`, the format of faster-whisper's models): a version, the
//! spec's name and revision, then named tensors (name, shape, data type, bytes) and aliases.
//! Only what a Whisper encoder needs is read: its tensors in float32 or float16, the head
//! count as an int16 or int32 scalar.

use std::collections::HashMap;
use std::io::Read;

use crate::FeatureError;

/// The only file version read (CTranslate2 4.x writes 6).
const BINARY_VERSION: u32 = 6;
const FLOAT32: u8 = 0;
const INT16: u8 = 2;
const INT32: u8 = 3;
const FLOAT16: u8 = 4;

/// One stored tensor, its values widened to f32.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// What [`read_tensors`] kept of a model file.
pub struct ModelFile {
    /// The spec's name, e.g. `WhisperSpec`.
    pub spec: String,
    pub tensors: HashMap<String, Tensor>,
    /// The model file of these tensors alone: the same header and tensor records, byte for
    /// byte, without the others and without aliases (what a model bundle carries).
    pub kept: Vec<u8>,
}

/// The tensors of a model file's bytes that `keep` accepts by name, keyed by name. Other
/// tensors (a Whisper decoder, 60 % of the file) are skipped without being decoded.
pub fn read_tensors(bytes: &[u8], keep: impl Fn(&str) -> bool) -> Result<ModelFile, FeatureError> {
    let mut reader = bytes;
    let version = read_u32(&mut reader)?;
    if version != BINARY_VERSION {
        return Err(bad(format!(
            "CTranslate2 model file version {version}; this reader knows version {BINARY_VERSION}"
        )));
    }
    let spec = read_string(&mut reader)?;
    let revision = read_u32(&mut reader)?;
    let count = read_u32(&mut reader)?;
    // Written as it is read, with the tensor count patched in at the end: an encoder's file
    // is copied once (loading is mostly fresh memory being touched).
    let mut kept = Vec::with_capacity(bytes.len());
    kept.extend_from_slice(&BINARY_VERSION.to_le_bytes());
    write_string(&mut kept, &spec);
    kept.extend_from_slice(&revision.to_le_bytes());
    let count_at = kept.len();
    kept.extend_from_slice(&0u32.to_le_bytes());
    let mut tensors = HashMap::new();
    let mut n_kept: u32 = 0;
    for _ in 0..count {
        let name = read_string(&mut reader)?;
        let rank = read_u8(&mut reader)?;
        let shape = (0..rank)
            .map(|_| read_u32(&mut reader).map(|dim| dim as usize))
            .collect::<Result<Vec<_>, _>>()?;
        let dtype = read_u8(&mut reader)?;
        let n_bytes = read_u32(&mut reader)? as usize;
        let data = reader
            .get(..n_bytes)
            .ok_or_else(|| bad("truncated model file".into()))?;
        reader = &reader[n_bytes..];
        if !keep(&name) {
            continue;
        }
        let elements = shape
            .iter()
            .try_fold(1usize, |total, &dim| total.checked_mul(dim))
            .ok_or_else(|| bad(format!("{name}: shape {shape:?} overflows")))?;
        let width = match dtype {
            FLOAT32 | INT32 => 4,
            FLOAT16 | INT16 => 2,
            other => {
                return Err(bad(format!(
                    "{name}: data type {other} (only float32, float16 and integer scalars are read; \
                     convert quantised models with ct2-transformers-converter --quantization float16)"
                )));
            }
        };
        if elements.checked_mul(width) != Some(n_bytes) {
            return Err(bad(format!(
                "{name}: {n_bytes} bytes for shape {shape:?} of {width}-byte values"
            )));
        }
        write_string(&mut kept, &name);
        kept.push(rank);
        for &dim in &shape {
            kept.extend_from_slice(&(dim as u32).to_le_bytes());
        }
        kept.push(dtype);
        kept.extend_from_slice(&(n_bytes as u32).to_le_bytes());
        kept.extend_from_slice(data);
        n_kept += 1;
        let values = match dtype {
            FLOAT32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            FLOAT16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            INT16 => data
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])))
                .collect(),
            _ => data
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
                .collect(),
        };
        tensors.insert(name, Tensor { shape, values });
    }
    // Records written, not names: a damaged file naming a tensor twice is kept as it is.
    kept[count_at..count_at + 4].copy_from_slice(&n_kept.to_le_bytes());
    kept.extend_from_slice(&0u32.to_le_bytes());
    kept.shrink_to_fit();
    Ok(ModelFile {
        spec,
        tensors,
        kept,
    })
}

fn bad(reason: String) -> FeatureError {
    FeatureError::invalid(format!("Whisper model: {reason}"))
}

fn truncated(error: std::io::Error) -> FeatureError {
    bad(format!("truncated or unreadable model file ({error})"))
}

fn read_u8(reader: &mut impl Read) -> Result<u8, FeatureError> {
    let mut byte = [0u8; 1];
    reader.read_exact(&mut byte).map_err(truncated)?;
    Ok(byte[0])
}

fn read_u16(reader: &mut impl Read) -> Result<u16, FeatureError> {
    let mut bytes = [0u8; 2];
    reader.read_exact(&mut bytes).map_err(truncated)?;
    Ok(u16::from_le_bytes(bytes))
}

fn read_u32(reader: &mut impl Read) -> Result<u32, FeatureError> {
    let mut bytes = [0u8; 4];
    reader.read_exact(&mut bytes).map_err(truncated)?;
    Ok(u32::from_le_bytes(bytes))
}

/// A length (counting the terminating NUL) and the NUL-terminated UTF-8 bytes.
fn read_string(reader: &mut impl Read) -> Result<String, FeatureError> {
    let length = usize::from(read_u16(reader)?);
    let mut bytes = vec![0u8; length];
    reader.read_exact(&mut bytes).map_err(truncated)?;
    if bytes.pop() != Some(0) {
        return Err(bad("a name without its terminating NUL".into()));
    }
    String::from_utf8(bytes).map_err(|_| bad("a name that is not UTF-8".into()))
}

fn write_string(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u16 + 1).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.push(0);
}
