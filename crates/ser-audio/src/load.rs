//! `librosa.load` semantics: an optional window of the file (offset and duration at the
//! native rate), mono or every channel, then resampling.

use std::path::Path;

use crate::{AudioError, decode_bytes, decode_bytes_channels, decode_file, decode_file_channels};

/// Where the audio comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    File(&'a Path),
    /// An in-memory file and the name its errors carry.
    Bytes(&'a [u8], &'a str),
}

/// `librosa.load(path, sr, mono, offset, duration)`'s parameters, with its defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadOptions {
    /// Target rate; `None` keeps the file's rate (`sr=None`).
    pub sample_rate: Option<u32>,
    /// Average the channels into one.
    pub mono: bool,
    /// Seconds skipped from the start.
    pub offset_seconds: f64,
    /// Seconds kept after the offset; `None` = to the end.
    pub duration_seconds: Option<f64>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            sample_rate: Some(22_050),
            mono: true,
            offset_seconds: 0.0,
            duration_seconds: None,
        }
    }
}

/// Loaded audio: one buffer per channel (exactly one when mono), all of one length.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub channels: Vec<Vec<f32>>,
    pub sample_rate: u32,
}

impl LoadOptions {
    pub fn validate(&self) -> Result<(), AudioError> {
        if !(self.offset_seconds.is_finite() && self.offset_seconds >= 0.0) {
            return Err(AudioError::InvalidParameter(format!(
                "offset must be a finite number of seconds >= 0, got {}",
                self.offset_seconds
            )));
        }
        if let Some(duration) = self.duration_seconds
            && !(duration.is_finite() && duration >= 0.0)
        {
            return Err(AudioError::InvalidParameter(format!(
                "duration must be a finite number of seconds >= 0, got {duration}"
            )));
        }
        if let Some(rate) = self.sample_rate {
            crate::resample::check_rate(rate)?;
        }
        Ok(())
    }

    /// The kept sample range of `frames` native-rate frames, truncated as librosa truncates
    /// it (`int(sr * offset)`, then `int(sr * duration)` frames).
    fn window(&self, frames: usize, native_rate: u32) -> std::ops::Range<usize> {
        let rate = f64::from(native_rate);
        let start = ((rate * self.offset_seconds).trunc() as usize).min(frames);
        let end = self.duration_seconds.map_or(frames, |duration| {
            start.saturating_add((rate * duration).trunc() as usize)
        });
        start..end.min(frames)
    }
}

/// Decodes `source` as `librosa.load` would: window at the native rate, downmix (when mono),
/// then resample every channel. An offset past the end gives empty channels, as in librosa.
pub fn load_channels(source: Source, options: &LoadOptions) -> Result<Loaded, AudioError> {
    options.validate()?;
    let (native_rate, mut channels) = match (source, options.mono) {
        (Source::File(path), true) => {
            let decoded = decode_file(path)?;
            (decoded.audio.sample_rate, vec![decoded.audio.samples])
        }
        (Source::Bytes(bytes, name), true) => {
            let decoded = decode_bytes(bytes.to_vec(), name)?;
            (decoded.audio.sample_rate, vec![decoded.audio.samples])
        }
        (Source::File(path), false) => {
            let decoded = decode_file_channels(path)?;
            (decoded.info.sample_rate, decoded.channels)
        }
        (Source::Bytes(bytes, name), false) => {
            let decoded = decode_bytes_channels(bytes.to_vec(), name)?;
            (decoded.info.sample_rate, decoded.channels)
        }
    };
    let frames = channels.first().map_or(0, Vec::len);
    let window = options.window(frames, native_rate);
    for channel in &mut channels {
        channel.truncate(window.end);
        channel.drain(..window.start);
    }
    let sample_rate = options.sample_rate.unwrap_or(native_rate);
    if sample_rate != native_rate {
        for channel in &mut channels {
            *channel = crate::resample::resample_between(channel, native_rate, sample_rate)?;
        }
    }
    Ok(Loaded {
        channels,
        sample_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_truncates_like_librosa_and_stays_inside_the_file() {
        let options = |offset, duration| LoadOptions {
            offset_seconds: offset,
            duration_seconds: duration,
            ..LoadOptions::default()
        };
        assert_eq!(options(0.0, None).window(1000, 100), 0..1000);
        assert_eq!(options(0.5, Some(1.0)).window(1000, 100), 50..150);
        assert_eq!(options(0.125, Some(0.125)).window(1000, 100), 12..24);
        // 25.7 frames in, 3.9 kept: librosa's int() drops the fractions.
        assert_eq!(options(0.257, Some(0.039)).window(1000, 100), 25..28);
        assert_eq!(options(9.0, Some(5.0)).window(1000, 100), 900..1000);
        assert_eq!(options(20.0, None).window(1000, 100), 1000..1000);
    }

    #[test]
    fn bad_options_are_errors() {
        for options in [
            LoadOptions {
                offset_seconds: -1.0,
                ..LoadOptions::default()
            },
            LoadOptions {
                duration_seconds: Some(f64::NAN),
                ..LoadOptions::default()
            },
            LoadOptions {
                sample_rate: Some(10),
                ..LoadOptions::default()
            },
        ] {
            let error = load_channels(Source::Bytes(b"x", "x.wav"), &options).unwrap_err();
            assert!(matches!(error, AudioError::InvalidParameter(_)), "{error}");
        }
    }
}
