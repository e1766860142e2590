//! Decoding with symphonia: the container is found by sniffing the content (never from the
//! file name), packets are decoded one at a time and downmixed to mono as they come.

use std::fs::File;
use std::io::{Cursor, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, SignalSpec};
use symphonia::core::codecs::{self, CODEC_TYPE_NULL, CodecParameters, Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::sample::SampleFormat;

use crate::{Audio, AudioError, AudioInfo, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, check_samples};

/// A decoded file: what was found in it, and its samples downmixed to mono at the native rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub info: AudioInfo,
    pub audio: Audio,
}

/// Decode a whole file. The format is found from the content, so AIFF data named `.wav`
/// (as in TESS) loads like any other file.
pub fn decode_file(path: &Path) -> Result<Decoded, AudioError> {
    AudioStream::open(path)?.collect_all()
}

/// Decode an in-memory file (an HTTP upload, stdin). `name` labels errors.
pub fn decode_bytes(bytes: Vec<u8>, name: &str) -> Result<Decoded, AudioError> {
    AudioStream::from_bytes(bytes, name)?.collect_all()
}

/// A decoded file with its channels kept apart (`librosa.load(mono=False)`).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedChannels {
    pub info: AudioInfo,
    /// One buffer per channel, each `info.frames` samples long, at `info.sample_rate`.
    pub channels: Vec<Vec<f32>>,
}

/// Decode a whole file without downmixing.
pub fn decode_file_channels(path: &Path) -> Result<DecodedChannels, AudioError> {
    AudioStream::open_with(path, Channels::Keep)?.collect_channels()
}

/// Decode an in-memory file without downmixing. `name` labels errors.
pub fn decode_bytes_channels(bytes: Vec<u8>, name: &str) -> Result<DecodedChannels, AudioError> {
    AudioStream::from_bytes_with(bytes, name, Channels::Keep)?.collect_channels()
}

/// What the stream does with several channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channels {
    /// Average them into one (every public stream).
    Downmix,
    /// Keep them, interleaved frame by frame, for [`DecodedChannels`].
    Keep,
}

/// Streaming decoder: an iterator over chunks of mono `f32` samples (one codec packet each),
/// so long recordings never need a second full-length copy of the data.
///
/// Opening decodes the first packet, so [`AudioStream::info`] reports the rate and channel
/// count the decoder really produces and broken files fail at open. `info().frames` is the
/// number of frames decoded so far; it is the file's total once the iterator has ended.
pub struct AudioStream {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    channels: Channels,
    info: AudioInfo,
    /// Frame count the header declares, if it declares one.
    declared_frames: Option<u64>,
    /// The last packet converted to f32, reused across packets.
    converted: Option<AudioBuffer<f32>>,
    /// The first chunk, decoded at open time and handed out first.
    pending: Option<Vec<f32>>,
    /// First packet that failed to decode (corrupt packets are skipped, as players do).
    first_decode_error: Option<String>,
    finished: bool,
}

impl std::fmt::Debug for AudioStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioStream")
            .field("path", &self.path)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl AudioStream {
    /// Open a file for streaming decode.
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        Self::open_with(path, Channels::Downmix)
    }

    fn open_with(path: &Path, channels: Channels) -> Result<Self, AudioError> {
        let io_error = |source| AudioError::Io {
            path: path.to_path_buf(),
            source,
        };
        let metadata = std::fs::metadata(path).map_err(io_error)?;
        if metadata.is_dir() {
            return Err(AudioError::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        if metadata.len() == 0 {
            return Err(AudioError::EmptyFile {
                path: path.to_path_buf(),
            });
        }
        let mut file = File::open(path).map_err(io_error)?;
        let mut head = Vec::with_capacity(MAGIC_LEN);
        (&mut file)
            .take(MAGIC_LEN as u64)
            .read_to_end(&mut head)
            .map_err(io_error)?;
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        Self::from_source(path.to_path_buf(), &head, Box::new(file), channels)
    }

    /// Stream from an in-memory file. `name` labels errors.
    pub fn from_bytes(bytes: Vec<u8>, name: &str) -> Result<Self, AudioError> {
        Self::from_bytes_with(bytes, name, Channels::Downmix)
    }

    fn from_bytes_with(bytes: Vec<u8>, name: &str, channels: Channels) -> Result<Self, AudioError> {
        let path = PathBuf::from(name);
        if bytes.is_empty() {
            return Err(AudioError::EmptyFile { path });
        }
        let head = bytes[..bytes.len().min(MAGIC_LEN)].to_vec();
        Self::from_source(path, &head, Box::new(Cursor::new(bytes)), channels)
    }

    fn from_source(
        path: PathBuf,
        head: &[u8],
        source: Box<dyn MediaSource>,
        channels: Channels,
    ) -> Result<Self, AudioError> {
        let stream = MediaSourceStream::new(source, Default::default());
        let format_options = FormatOptions {
            // Drop encoder delay and padding (MP3/AAC), as libsndfile and ffmpeg do.
            enable_gapless: true,
            ..Default::default()
        };
        let probed = crate::probe::probe()
            .format(
                &Hint::new(),
                stream,
                &format_options,
                &MetadataOptions::default(),
            )
            .map_err(|e| map_error(&path, e, "reading the header"))?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| AudioError::Unsupported {
                path: path.clone(),
                reason: "the container holds no audio track".into(),
            })?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        let codecs = symphonia::default::get_codecs();
        let codec = codecs
            .get_codec(params.codec)
            .map(|descriptor| descriptor.short_name.to_string())
            .ok_or_else(|| AudioError::Unsupported {
                path: path.clone(),
                reason: format!("no decoder for codec {}", params.codec),
            })?;
        if let Some(rate) = params.sample_rate {
            check_sample_rate(&path, rate)?;
        }
        let decoder = codecs
            .make(&params, &DecoderOptions::default())
            .map_err(|e| map_error(&path, e, "opening the decoder"))?;
        let container = sniff_container(head)
            .or_else(|| container_from_codec(&codec))
            .unwrap_or("unknown")
            .to_string();
        let info = AudioInfo {
            container,
            codec,
            sample_rate: params.sample_rate.unwrap_or(0),
            channels: params.channels.map_or(0, |c| c.count() as u16),
            bits_per_sample: bits_per_sample(&params),
            frames: 0,
        };
        let mut stream = AudioStream {
            path,
            format,
            decoder,
            track_id,
            channels,
            info,
            declared_frames: params.n_frames,
            converted: None,
            pending: None,
            first_decode_error: None,
            finished: false,
        };
        let mut first_chunk = Vec::new();
        if !stream.decode_next_into(&mut first_chunk)? {
            return Err(stream.no_samples_error());
        }
        stream.pending = Some(first_chunk);
        Ok(stream)
    }

    /// What the decoder found; `frames` counts the frames decoded so far.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// Frame count declared by the header, if any (may disagree with a truncated file).
    pub fn declared_frames(&self) -> Option<u64> {
        self.declared_frames
    }

    /// The name errors are reported under.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Decode everything that is left into one buffer.
    pub fn collect_all(self) -> Result<Decoded, AudioError> {
        let (info, samples) = self.collect_samples()?;
        let audio = Audio::new(samples, info.sample_rate);
        Ok(Decoded { info, audio })
    }

    /// Decode everything that is left and split the interleaved frames into channels.
    fn collect_channels(self) -> Result<DecodedChannels, AudioError> {
        let (info, interleaved) = self.collect_samples()?;
        let count = usize::from(info.channels).max(1);
        let channels = (0..count)
            .map(|channel| {
                interleaved
                    .iter()
                    .skip(channel)
                    .step_by(count)
                    .copied()
                    .collect()
            })
            .collect();
        Ok(DecodedChannels { info, channels })
    }

    /// Everything that is left, mono or interleaved as the stream was opened.
    fn collect_samples(mut self) -> Result<(AudioInfo, Vec<f32>), AudioError> {
        let width = match self.channels {
            Channels::Downmix => 1,
            Channels::Keep => usize::from(self.info.channels).max(1),
        };
        let capacity = self
            .declared_frames
            // A header can lie; never reserve more than a plausible hour of audio up front.
            .map_or(0, |n| {
                n.min(u64::from(self.info.sample_rate) * 3600) as usize * width
            });
        let mut samples = self.pending.take().unwrap_or_default();
        samples.reserve(capacity.saturating_sub(samples.len()));
        // Packets are decoded straight onto the end of the buffer: no per-packet chunks.
        while !self.finished {
            let appended = self.decode_next_into(&mut samples);
            if !matches!(appended, Ok(true)) {
                self.finished = true;
            }
            appended?;
        }
        Ok((self.info, samples))
    }

    /// Decode packets until one yields samples and append them (mono) to `out`; `false` at
    /// the end of the stream.
    fn decode_next_into(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(packet) => packet,
                // The end of the data, or a file cut short: keep what was decoded.
                Err(SymphoniaError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                // A chained stream with new parameters: the first stream is the recording.
                Err(SymphoniaError::ResetRequired) => return Ok(false),
                Err(e) => return Err(map_error(&self.path, e, "reading a packet")),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buffer) => {
                    if buffer.frames() == 0 {
                        continue;
                    }
                    if buffer.spec().channels.count() == 0 {
                        return Err(AudioError::Malformed {
                            path: self.path.clone(),
                            reason: "decoded audio has no channels".into(),
                        });
                    }
                    check_spec(&self.path, &mut self.info, *buffer.spec(), self.channels)?;
                    let start = out.len();
                    let width = match self.channels {
                        Channels::Downmix => {
                            append_mono(&buffer, &mut self.converted, out);
                            1
                        }
                        Channels::Keep => {
                            append_interleaved(&buffer, &mut self.converted, out);
                            usize::from(self.info.channels)
                        }
                    };
                    // Integer samples are within full scale by construction; float ones may
                    // be anything.
                    if matches!(buffer, AudioBufferRef::F32(_) | AudioBufferRef::F64(_)) {
                        check_samples(&out[start..]).map_err(|(index, value)| {
                            AudioError::InvalidSamples {
                                path: self.path.clone(),
                                reason: format!(
                                    "frame {} is {value:e} ({})",
                                    self.info.frames + (index / width) as u64,
                                    crate::SAMPLE_LIMIT_REASON
                                ),
                            }
                        })?;
                    }
                    self.info.frames += ((out.len() - start) / width) as u64;
                    return Ok(true);
                }
                Err(SymphoniaError::DecodeError(reason)) => {
                    self.first_decode_error.get_or_insert_with(|| reason.into());
                }
                Err(SymphoniaError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(e) => return Err(map_error(&self.path, e, "decoding")),
            }
        }
    }

    fn no_samples_error(&self) -> AudioError {
        match &self.first_decode_error {
            Some(reason) => AudioError::Malformed {
                path: self.path.clone(),
                reason: format!("no packet could be decoded ({reason})"),
            },
            None => AudioError::NoSamples {
                path: self.path.clone(),
            },
        }
    }
}

impl Iterator for AudioStream {
    type Item = Result<Vec<f32>, AudioError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(chunk) = self.pending.take() {
            return Some(Ok(chunk));
        }
        if self.finished {
            return None;
        }
        let mut chunk = Vec::new();
        let next = self.decode_next_into(&mut chunk);
        if !matches!(next, Ok(true)) {
            self.finished = true;
        }
        match next {
            Ok(true) => Some(Ok(chunk)),
            Ok(false) => None,
            Err(error) => Some(Err(error)),
        }
    }
}

/// Check a decoded packet's signal against the stream so far; the first packet sets the
/// stream's rate and channel count (the decoder's view wins over the header's: it is what
/// the samples really are).
fn check_spec(
    path: &Path,
    info: &mut AudioInfo,
    spec: SignalSpec,
    channels: Channels,
) -> Result<(), AudioError> {
    check_sample_rate(path, spec.rate)?;
    if info.frames == 0 {
        info.sample_rate = spec.rate;
        info.channels = spec.channels.count() as u16;
    } else if channels == Channels::Keep && spec.channels.count() != usize::from(info.channels) {
        return Err(AudioError::Unsupported {
            path: path.to_path_buf(),
            reason: format!(
                "channel count changes mid-stream ({} -> {})",
                info.channels,
                spec.channels.count()
            ),
        });
    } else if spec.rate != info.sample_rate {
        return Err(AudioError::Unsupported {
            path: path.to_path_buf(),
            reason: format!(
                "sample rate changes mid-stream ({} Hz -> {} Hz)",
                info.sample_rate, spec.rate
            ),
        });
    }
    Ok(())
}

/// `buffer` converted to f32 in `converted`, which is reused across packets.
fn convert<'a>(
    buffer: &AudioBufferRef,
    converted: &'a mut Option<AudioBuffer<f32>>,
) -> &'a AudioBuffer<f32> {
    // AudioBuffer::convert needs the same spec and at least the same capacity.
    let fits =
        |c: &AudioBuffer<f32>| c.spec() == buffer.spec() && c.capacity() >= buffer.capacity();
    if !converted.as_ref().is_some_and(fits) {
        *converted = None;
    }
    let converted = converted.get_or_insert_with(|| buffer.make_equivalent());
    buffer.convert(converted);
    converted
}

/// Append a decoded packet's frames to `out`, channel after channel within each frame.
fn append_interleaved(
    buffer: &AudioBufferRef,
    converted: &mut Option<AudioBuffer<f32>>,
    out: &mut Vec<f32>,
) {
    let converted = convert(buffer, converted);
    let planes = converted.planes();
    let planes = planes.planes();
    let frames = planes.first().map_or(0, |plane| plane.len());
    out.reserve(frames * planes.len());
    for frame in 0..frames {
        out.extend(planes.iter().map(|plane| plane[frame]));
    }
}

/// Append a decoded packet, downmixed to mono, to `out`.
fn append_mono(
    buffer: &AudioBufferRef,
    converted: &mut Option<AudioBuffer<f32>>,
    out: &mut Vec<f32>,
) {
    let converted = convert(buffer, converted);
    let planes = converted.planes();
    let Some((first, others)) = planes.planes().split_first() else {
        return;
    };
    let start = out.len();
    out.extend_from_slice(first);
    if !others.is_empty() {
        let mono = &mut out[start..];
        for plane in others {
            mono.iter_mut().zip(*plane).for_each(|(sum, s)| *sum += s);
        }
        let scale = 1.0 / (others.len() + 1) as f32;
        mono.iter_mut().for_each(|s| *s *= scale);
    }
}

/// Bytes needed to recognise every container [`sniff_container`] knows.
const MAGIC_LEN: usize = 12;

/// Name the container from its magic bytes: what the file is, whatever it is called.
fn sniff_container(head: &[u8]) -> Option<&'static str> {
    let tag = |range: std::ops::Range<usize>| head.get(range).unwrap_or_default();
    match (tag(0..4), tag(8..12)) {
        (b"RIFF", b"WAVE") => Some("wav"),
        (b"RF64", b"WAVE") => Some("rf64"),
        (b"FORM", b"AIFF") => Some("aiff"),
        (b"FORM", b"AIFC") => Some("aifc"),
        (b"fLaC", _) => Some("flac"),
        (b"OggS", _) => Some("ogg"),
        (b"caff", _) => Some("caf"),
        ([0x1a, 0x45, 0xdf, 0xa3], _) => Some("mkv"),
        _ if tag(4..8) == b"ftyp" => Some("mp4"),
        _ if tag(0..3) == b"ID3" => Some("mp3"),
        _ => None,
    }
}

/// Containers without a fixed magic (a raw MP3 or ADTS stream starts with a frame header).
fn container_from_codec(codec: &str) -> Option<&'static str> {
    match codec {
        "mp1" | "mp2" | "mp3" => Some("mp3"),
        "aac" => Some("adts"),
        _ => None,
    }
}

/// Stored bits per sample; float formats only state it through their sample format.
fn bits_per_sample(params: &CodecParameters) -> Option<u32> {
    params
        .bits_per_sample
        .or(params.bits_per_coded_sample)
        .or_else(|| {
            params.sample_format.map(|format| match format {
                SampleFormat::U8 | SampleFormat::S8 => 8,
                SampleFormat::U16 | SampleFormat::S16 => 16,
                SampleFormat::U24 | SampleFormat::S24 => 24,
                SampleFormat::U32 | SampleFormat::S32 | SampleFormat::F32 => 32,
                SampleFormat::F64 => 64,
            })
        })
        .or(match params.codec {
            codecs::CODEC_TYPE_PCM_F32LE | codecs::CODEC_TYPE_PCM_F32BE => Some(32),
            codecs::CODEC_TYPE_PCM_F64LE | codecs::CODEC_TYPE_PCM_F64BE => Some(64),
            _ => None,
        })
}

fn check_sample_rate(path: &Path, sample_rate: u32) -> Result<(), AudioError> {
    if (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        Ok(())
    } else {
        Err(AudioError::InvalidSampleRate {
            path: path.to_path_buf(),
            sample_rate,
        })
    }
}

/// Turn a symphonia error into one that names the file and says what went wrong.
fn map_error(path: &Path, error: SymphoniaError, stage: &str) -> AudioError {
    let path = path.to_path_buf();
    match error {
        SymphoniaError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof => {
            AudioError::Malformed {
                path,
                reason: format!("truncated: the data ends while {stage}"),
            }
        }
        SymphoniaError::IoError(source) => AudioError::Io { path, source },
        SymphoniaError::DecodeError(crate::probe::ZERO_SAMPLE_RATE) => {
            AudioError::InvalidSampleRate {
                path,
                sample_rate: 0,
            }
        }
        SymphoniaError::Unsupported(what) if what.contains("no suitable format reader") => {
            AudioError::Unsupported {
                path,
                reason: "not a recognised audio format (supported: WAV, AIFF/AIFC, FLAC, MP3, \
                         OGG/Vorbis, CAF, MP4/AAC/ALAC, MKV)"
                    .into(),
            }
        }
        SymphoniaError::Unsupported(what) => AudioError::Unsupported {
            path,
            reason: format!("{what} (while {stage})"),
        },
        SymphoniaError::DecodeError(what) | SymphoniaError::LimitError(what) => {
            AudioError::Malformed {
                path,
                reason: format!("{what} (while {stage})"),
            }
        }
        other => AudioError::Malformed {
            path,
            reason: format!("{other} (while {stage})"),
        },
    }
}
