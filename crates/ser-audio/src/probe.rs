//! symphonia's probe with the RIFF readers (WAV, AIFF/AIFC) behind a header check.
//!
//! symphonia-format-riff 0.5.5 builds a `TimeBase` from the sample rate of every `fmt `
//! (WAV) or `COMM` (AIFF) chunk, which panics when the rate is 0 (upstream issues #299 and
//! #488). The readers registered here walk the chunk headers first and reject a zero rate
//! with [`ZERO_SAMPLE_RATE`], then hand the stream, rewound, to symphonia's reader. The
//! probe finds a container after any leading junk, and these readers start where it found
//! the marker, so a header with bytes before it is checked as well.

use std::io::{Seek, SeekFrom};
use std::sync::LazyLock;

use extended::Extended;
use symphonia::core::errors::{Error, Result};
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, ReadBytes};
use symphonia::core::probe::{Descriptor, Instantiate, Probe, QueryDescriptor};
use symphonia::default::formats::{AiffReader, WavReader};

/// The decode error for a RIFF/AIFF header whose sample rate is 0 Hz.
pub(crate) const ZERO_SAMPLE_RATE: &str = "the header's sample rate is 0 Hz";

/// Every format symphonia knows; WAV and AIFF through the checked readers, which are
/// registered first so their markers match before those of symphonia's own readers.
pub(crate) fn probe() -> &'static Probe {
    static PROBE: LazyLock<Probe> = LazyLock::new(|| {
        let mut probe = Probe::default();
        probe.register(&Descriptor {
            inst: Instantiate::Format(open_wav),
            ..WavReader::query()[0]
        });
        probe.register(&Descriptor {
            inst: Instantiate::Format(open_aiff),
            ..AiffReader::query()[0]
        });
        symphonia::default::register_enabled_formats(&mut probe);
        probe
    });
    &PROBE
}

fn open_wav(
    mut source: MediaSourceStream,
    options: &FormatOptions,
) -> Result<Box<dyn FormatReader>> {
    reject_zero_sample_rate(&mut source, Riff::Wave)?;
    Ok(Box::new(WavReader::try_new(source, options)?))
}

fn open_aiff(
    mut source: MediaSourceStream,
    options: &FormatOptions,
) -> Result<Box<dyn FormatReader>> {
    reject_zero_sample_rate(&mut source, Riff::Aiff)?;
    Ok(Box::new(AiffReader::try_new(source, options)?))
}

#[derive(Clone, Copy)]
enum Riff {
    /// Little-endian chunks; the rate is a u32 at offset 4 of `fmt `.
    Wave,
    /// Big-endian chunks; the rate is an 80-bit float at offset 8 of `COMM`.
    Aiff,
}

/// Fails with [`ZERO_SAMPLE_RATE`] if a format chunk before the sample data declares 0 Hz;
/// leaves the stream where it was. Any other defect is left for symphonia to report.
fn reject_zero_sample_rate(source: &mut MediaSourceStream, riff: Riff) -> Result<()> {
    let start = source.pos();
    let found = first_zero_rate_chunk(source, riff);
    source.seek(SeekFrom::Start(start))?;
    match found {
        Ok(true) => Err(Error::DecodeError(ZERO_SAMPLE_RATE)),
        _ => Ok(()),
    }
}

/// Walks the chunks as symphonia's `ChunksReader` does (2-byte alignment, lengths bounded
/// by the parent's) up to the sample data; `true` if a format chunk declares 0 Hz.
fn first_zero_rate_chunk(source: &mut MediaSourceStream, riff: Riff) -> std::io::Result<bool> {
    let read_u32 = |source: &mut MediaSourceStream| match riff {
        Riff::Wave => source.read_u32(),
        Riff::Aiff => source.read_be_u32(),
    };
    source.read_quad_bytes()?; // RIFF or FORM
    let parent_len = read_u32(source)?;
    source.read_quad_bytes()?; // WAVE, AIFF or AIFC
    let mut consumed: u32 = 0;
    loop {
        if consumed & 1 == 1 {
            source.read_u8()?;
            consumed = consumed.saturating_add(1);
        }
        if u64::from(consumed) + 8 > u64::from(parent_len) {
            return Ok(false);
        }
        let tag = source.read_quad_bytes()?;
        let len = read_u32(source)?;
        consumed += 8;
        let streamed = parent_len == len && len == u32::MAX; // ffmpeg writing to a pipe
        if parent_len - consumed < len && !streamed {
            return Ok(false);
        }
        consumed = consumed.saturating_add(len);
        let read = match (riff, &tag) {
            (Riff::Wave, b"data") | (Riff::Aiff, b"SSND") => return Ok(false),
            (Riff::Wave, b"fmt ") if len >= 16 => {
                source.read_u32()?; // format tag, channels
                if source.read_u32()? == 0 {
                    return Ok(true);
                }
                8
            }
            (Riff::Aiff, b"COMM") if len >= 18 => {
                source.ignore_bytes(8)?; // channels, frames, sample size
                let mut rate = [0; 10];
                source.read_buf_exact(&mut rate)?;
                // The same conversion as symphonia's: NaN and negative rates become 0.
                if Extended::from_be_bytes(rate).to_f64() as u32 == 0 {
                    return Ok(true);
                }
                18
            }
            _ => 0,
        };
        source.ignore_bytes(u64::from(len) - read)?;
    }
}
