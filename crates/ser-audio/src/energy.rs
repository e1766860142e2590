//! Frame loudness with the framing of `librosa.feature.rms(center=True, pad_mode="constant")`,
//! shared by silence trimming and speech segmentation.

/// Power floor of `librosa.amplitude_to_db` (amin = 1e-5, squared).
const POWER_FLOOR: f64 = 1e-10;

/// For each centred frame, whether its RMS is within `top_db` dB of the loudest frame
/// (librosa's `_signal_to_frame_nonsilent` with `ref=np.max`) and, if `floor_dbfs` is given,
/// also above that absolute level. Mean squares use 64-bit sums.
/// Returns no frames when the frame or hop length is zero.
pub fn non_silent_frames(
    samples: &[f32],
    frame_length: usize,
    hop_length: usize,
    top_db: f32,
    floor_dbfs: Option<f32>,
) -> Vec<bool> {
    if frame_length == 0 || hop_length == 0 || samples.is_empty() {
        return Vec::new();
    }
    let mean_squares = frame_mean_squares(samples, frame_length, hop_length);
    let loudest = mean_squares.iter().copied().fold(0.0, f64::max);
    let reference_db = power_db(loudest);
    mean_squares
        .iter()
        .map(|&power| {
            let level_db = power_db(power);
            level_db - reference_db > -f64::from(top_db)
                && floor_dbfs.is_none_or(|floor| level_db > f64::from(floor))
        })
        .collect()
}

fn power_db(power: f64) -> f64 {
    10.0 * power.max(POWER_FLOOR).log10()
}

/// Mean square of each frame of `frame_length` samples, hop `hop_length`, with the signal
/// zero-padded by `frame_length / 2` on both sides.
fn frame_mean_squares(samples: &[f32], frame_length: usize, hop_length: usize) -> Vec<f64> {
    let pad = frame_length / 2;
    let padded_len = samples.len() + 2 * pad;
    if padded_len < frame_length {
        return Vec::new();
    }
    let frames = 1 + (padded_len - frame_length) / hop_length;
    // prefix[i] = sum of squares of samples[..i]
    let mut prefix = Vec::with_capacity(samples.len() + 1);
    prefix.push(0.0f64);
    let mut total = 0.0f64;
    for &s in samples {
        total += f64::from(s) * f64::from(s);
        prefix.push(total);
    }
    (0..frames)
        .map(|frame| {
            // The frame covers padded[frame*hop ..][..frame_length]; shift back by `pad`.
            let start = (frame * hop_length).saturating_sub(pad).min(samples.len());
            let end = (frame * hop_length + frame_length)
                .saturating_sub(pad)
                .min(samples.len());
            (prefix[end] - prefix[start]) / frame_length as f64
        })
        .collect()
}

/// Sample intervals `[start, end)` of the runs of non-silent frames (librosa.effects.split's
/// frame-to-sample mapping: start = frame * hop, end = min(len, (last + 1) * hop)).
pub(crate) fn non_silent_intervals(
    samples: &[f32],
    frame_length: usize,
    hop_length: usize,
    top_db: f32,
    floor_dbfs: Option<f32>,
) -> Vec<std::ops::Range<usize>> {
    let flags = non_silent_frames(samples, frame_length, hop_length, top_db, floor_dbfs);
    let mut intervals = Vec::new();
    let mut run_start = None;
    for (frame, &loud) in flags.iter().chain(std::iter::once(&false)).enumerate() {
        match (loud, run_start) {
            (true, None) => run_start = Some(frame),
            (false, Some(first)) => {
                let start = (first * hop_length).min(samples.len());
                let end = (frame * hop_length).min(samples.len());
                if start < end {
                    intervals.push(start..end);
                }
                run_start = None;
            }
            _ => {}
        }
    }
    intervals
}
