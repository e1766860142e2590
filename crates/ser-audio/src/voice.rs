//! Voice-activity decision: does a recording (or a segment of one) hold speech, and how much?
//!
//! Speech is recognised by what sets it apart from the sounds people record by accident:
//! - **voicing**: stretches where the waveform repeats with a pitch between 60 and 600 Hz
//!   (YIN's cumulative mean normalised difference below a threshold). White, pink and room
//!   noise, clipped noise bursts and clicks are aperiodic;
//! - **pitch tracks**: voiced frames that follow each other with a continuous pitch for at
//!   least 50 ms, so chance periodicity in noise does not count;
//! - **intonation**: the pitch of speech moves all the time. Mains hum, steady tones, chords
//!   and tunes of steady notes are periodic but hold their pitch, so recordings whose
//!   tracked pitch barely moves are not speech;
//! - **level**: only frames above an absolute floor and within 50 dB of the loudest frame are
//!   analysed, in the speech band (70 Hz high-pass, low-pass below 3.5 kHz).
//!
//! The analysis runs on a copy decimated to 7-14 kHz, so it costs about a millisecond per
//! second of audio whatever the file's rate.
//!
//! Known limits: a steady tone under loud white noise (less than about 5 dB below it) jitters
//! enough in pitch to pass for speech; a siren or singing moves its pitch as speech does and
//! is taken for speech.

use serde::{Deserialize, Serialize};

use crate::Audio;

/// Settings of the speech decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VoiceConfig {
    /// Frames quieter than this (dB relative to full scale, in the speech band) are silence.
    pub floor_dbfs: f32,
    /// Less speech than this (seconds, see [`VoiceActivity::speech_seconds`]) is too little to
    /// judge an emotion from.
    pub min_speech_seconds: f32,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        Self {
            floor_dbfs: -70.0,
            min_speech_seconds: 0.3,
        }
    }
}

/// What a recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeechVerdict {
    Speech,
    /// Silence, noise, hum, tones, clicks: nothing spoken.
    NoSpeech,
    /// Speech, but less than [`VoiceConfig::min_speech_seconds`] of it (or a recording
    /// shorter than that, too short to tell).
    TooShort,
}

/// The decision and the measurements behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceActivity {
    pub verdict: SpeechVerdict,
    /// Seconds of speech: the stretches of sound (frames above the silence floor, in a row)
    /// that hold a pitch track; 0 when the recording is not speech.
    pub speech_seconds: f64,
    /// Seconds of frames on pitch tracks.
    pub voiced_seconds: f64,
    /// How much the pitch moves along the tracks: the mean absolute difference (semitones)
    /// between the mean pitch of 50 ms and of the next 50 ms, over every 100-ms stretch of a
    /// track (shorter tracks: halves of the track). 0.06 or less for hum, tones, chords and
    /// tunes of steady notes, even 10 dB above white noise; 0.16 and more for every TESS and
    /// RAVDESS clip (median 0.8).
    pub pitch_movement_semitones: f64,
}

/// Lowest rate the analysis copy is decimated to (speech band up to 3.5 kHz).
const MIN_ANALYSIS_RATE: u32 = 7_000;
const HOP_SECONDS: f64 = 0.010;
const MIN_PITCH_HZ: f64 = 60.0;
const MAX_PITCH_HZ: f64 = 600.0;
const HIGH_PASS_HZ: f64 = 70.0;
/// Frames this far below the loudest one are background, not analysed.
const DYNAMIC_RANGE_DB: f64 = 50.0;
/// YIN threshold on the cumulative mean normalised difference: below it, a frame is periodic.
/// Rough (shouted, creaky) voices reach 0.3-0.45; noise seldom dips below 0.6.
const APERIODICITY_THRESHOLD: f32 = 0.45;
/// Neighbouring voiced frames further apart in pitch than this start a new track.
const MAX_PITCH_STEP_SEMITONES: f64 = 2.0;
/// Shorter runs of voiced frames are chance periodicity, not voice.
const MIN_TRACK_FRAMES: usize = 5;
/// Frames averaged on each side of a point where the pitch movement is measured, so the
/// frame-to-frame jitter of the estimate averages out.
const HALF_WINDOW_FRAMES: usize = 5;
/// Less pitch movement than this is a steady sound (see
/// [`VoiceActivity::pitch_movement_semitones`]).
const MIN_PITCH_MOVEMENT_SEMITONES: f64 = 0.1;

/// Decides whether `audio` holds speech and how much.
///
/// Order of the decision: a recording shorter than `min_speech_seconds` is
/// [`SpeechVerdict::TooShort`] (too little to tell); one without pitch tracks, or whose pitch
/// does not move, is [`SpeechVerdict::NoSpeech`]; speech shorter than `min_speech_seconds`
/// is [`SpeechVerdict::TooShort`].
pub fn detect_speech(audio: &Audio, config: &VoiceConfig) -> VoiceActivity {
    let frames = analyse_frames(audio, config);
    let tracks = pitch_tracks(&frames.pitches);
    let movement = pitch_movement(&tracks);
    let speech_like = !tracks.is_empty() && movement >= MIN_PITCH_MOVEMENT_SEMITONES;
    let speech_frames = if speech_like {
        frames_of_sounds_with_tracks(&frames.active, &tracks)
    } else {
        0
    };
    let speech_seconds = speech_frames as f64 * frames.hop_seconds;
    let min_speech = f64::from(config.min_speech_seconds);
    let verdict = if audio.duration_seconds() < min_speech {
        SpeechVerdict::TooShort
    } else if !speech_like {
        SpeechVerdict::NoSpeech
    } else if speech_seconds < min_speech {
        SpeechVerdict::TooShort
    } else {
        SpeechVerdict::Speech
    };
    VoiceActivity {
        verdict,
        speech_seconds,
        voiced_seconds: tracks.iter().map(|t| t.pitches.len()).sum::<usize>() as f64
            * frames.hop_seconds,
        pitch_movement_semitones: movement,
    }
}

/// Per analysis frame: whether it is above the silence floor, and its pitch (semitones
/// above 100 Hz) when it is voiced.
struct Frames {
    hop_seconds: f64,
    active: Vec<bool>,
    pitches: Vec<Option<f64>>,
}

fn analyse_frames(audio: &Audio, config: &VoiceConfig) -> Frames {
    let (mut samples, rate) = decimate(&audio.samples, audio.sample_rate);
    high_pass(&mut samples, rate);
    let rate = f64::from(rate);
    let max_lag = (rate / MIN_PITCH_HZ).ceil() as usize;
    let min_lag = ((rate / MAX_PITCH_HZ).floor() as usize).max(2);
    // One period of the lowest pitch: YIN's usual window.
    let window = max_lag;
    let hop = ((rate * HOP_SECONDS).round() as usize).max(1);
    let count = match samples.len().checked_sub(window + max_lag) {
        Some(room) => room / hop + 1,
        None => 0,
    };
    let levels: Vec<f64> = (0..count)
        .map(|frame| level_db(&samples[frame * hop..][..window]))
        .collect();
    let loudest = levels.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let floor = f64::from(config.floor_dbfs).max(loudest - DYNAMIC_RANGE_DB);
    let active: Vec<bool> = levels.iter().map(|&level| level > floor).collect();
    let mut difference = vec![0.0f32; max_lag + 1];
    let pitches = active
        .iter()
        .enumerate()
        .map(|(frame, &active)| {
            let start = frame * hop;
            let period = active.then(|| {
                yin_period(
                    &samples[start..start + window + max_lag],
                    window,
                    min_lag,
                    &mut difference,
                )
            })??;
            Some(semitones(rate / period))
        })
        .collect();
    Frames {
        hop_seconds: hop as f64 / rate,
        active,
        pitches,
    }
}

/// A run of voiced frames with a continuous pitch.
struct Track {
    first_frame: usize,
    pitches: Vec<f64>,
}

/// Runs of at least [`MIN_TRACK_FRAMES`] voiced frames whose pitch moves less than
/// [`MAX_PITCH_STEP_SEMITONES`] from frame to frame.
fn pitch_tracks(pitches: &[Option<f64>]) -> Vec<Track> {
    let mut tracks = Vec::new();
    let mut current = Track {
        first_frame: 0,
        pitches: Vec::new(),
    };
    for (frame, pitch) in pitches.iter().chain([&None]).enumerate() {
        match (*pitch, current.pitches.last()) {
            (Some(p), Some(&last)) if (p - last).abs() <= MAX_PITCH_STEP_SEMITONES => {
                current.pitches.push(p);
            }
            _ => {
                let next = Track {
                    first_frame: frame,
                    pitches: pitch.iter().copied().collect(),
                };
                let finished = std::mem::replace(&mut current, next);
                if finished.pitches.len() >= MIN_TRACK_FRAMES {
                    tracks.push(finished);
                }
            }
        }
    }
    tracks
}

/// See [`VoiceActivity::pitch_movement_semitones`]; 0 without tracks.
fn pitch_movement(tracks: &[Track]) -> f64 {
    mean(tracks.iter().flat_map(|track| {
        let half = (track.pitches.len() / 2).min(HALF_WINDOW_FRAMES);
        track
            .pitches
            .windows(2 * half)
            .map(move |window| (average(&window[half..]) - average(&window[..half])).abs())
    }))
}

fn average(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Mean of the values, 0 for none.
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// Frames in the runs of active frames that overlap a track.
fn frames_of_sounds_with_tracks(active: &[bool], tracks: &[Track]) -> usize {
    let mut on_track = vec![false; active.len()];
    for track in tracks {
        on_track[track.first_frame..track.first_frame + track.pitches.len()].fill(true);
    }
    let mut total = 0;
    let mut run = (0, false); // (length, holds a track frame)
    for (&is_active, &voiced) in active.iter().zip(&on_track).chain([(&false, &false)]) {
        if is_active {
            run = (run.0 + 1, run.1 || voiced);
        } else {
            if run.1 {
                total += run.0;
            }
            run = (0, false);
        }
    }
    total
}

fn semitones(hz: f64) -> f64 {
    12.0 * (hz / 100.0).log2()
}

fn level_db(frame: &[f32]) -> f64 {
    let energy: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    10.0 * (energy / frame.len().max(1) as f64).max(1e-12).log10()
}

/// The period (in samples, refined between lags) of the first dip of YIN's cumulative mean
/// normalised difference below [`APERIODICITY_THRESHOLD`], or `None` for an aperiodic frame.
/// `frame` holds `window + max_lag` samples; `difference` has `max_lag + 1` slots.
fn yin_period(frame: &[f32], window: usize, min_lag: usize, difference: &mut [f32]) -> Option<f64> {
    let max_lag = difference.len() - 1;
    let head = &frame[..window];
    let mut running_sum = 0.0f32;
    let normalised =
        |lag: usize, d: f32, sum: f32| if sum > 0.0 { d * lag as f32 / sum } else { 1.0 };
    let mut lag = 1;
    while lag <= max_lag {
        difference[lag] = squared_distance(head, &frame[lag..lag + window]);
        running_sum += difference[lag];
        let value = normalised(lag, difference[lag], running_sum);
        if lag >= min_lag && value < APERIODICITY_THRESHOLD {
            // Follow the dip down to its bottom.
            let mut best = (lag, value);
            while best.0 < max_lag {
                let next = best.0 + 1;
                difference[next] = squared_distance(head, &frame[next..next + window]);
                running_sum += difference[next];
                let next_value = normalised(next, difference[next], running_sum);
                if next_value >= best.1 {
                    break;
                }
                best = (next, next_value);
            }
            return Some(refine(difference, best.0, max_lag));
        }
        lag += 1;
    }
    None
}

/// The lag of the minimum of the parabola through the difference at `lag - 1`, `lag` and
/// `lag + 1` (where those were computed), for a pitch finer than whole samples.
fn refine(difference: &[f32], lag: usize, computed_up_to: usize) -> f64 {
    if lag < 2 || lag + 1 > computed_up_to {
        return lag as f64;
    }
    let (before, at, after) = (
        f64::from(difference[lag - 1]),
        f64::from(difference[lag]),
        f64::from(difference[lag + 1]),
    );
    let curvature = before - 2.0 * at + after;
    if curvature <= 0.0 {
        return lag as f64;
    }
    lag as f64 + (0.5 * (before - after) / curvature).clamp(-0.5, 0.5)
}

/// Sum of squared differences, in eight lanes so the compiler can vectorise it.
fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = a.chunks_exact(8).zip(b.chunks_exact(8));
    for (x, y) in chunks {
        for lane in 0..8 {
            let d = x[lane] - y[lane];
            lanes[lane] += d * d;
        }
    }
    let tail = a.len() / 8 * 8;
    let rest: f32 = a[tail..]
        .iter()
        .zip(&b[tail..])
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    lanes.iter().sum::<f32>() + rest
}

/// A copy at `rate / k` Hz for the largest whole `k` that keeps the rate at or above
/// [`MIN_ANALYSIS_RATE`], low-passed first (Hann-windowed sinc at 0.45 of the new rate).
fn decimate(samples: &[f32], rate: u32) -> (Vec<f32>, u32) {
    let factor = (rate / MIN_ANALYSIS_RATE).max(1) as usize;
    if factor == 1 {
        return (samples.to_vec(), rate);
    }
    let half = 8 * factor;
    let cutoff = 0.45 / factor as f64;
    let taps: Vec<f32> = (0..=2 * half)
        .map(|n| {
            let x = n as f64 - half as f64;
            let sinc = if x == 0.0 {
                2.0 * cutoff
            } else {
                (std::f64::consts::TAU * cutoff * x).sin() / (std::f64::consts::PI * x)
            };
            let hann = 0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / (2 * half) as f64).cos();
            sinc * hann
        })
        .map(|t| t as f32)
        .collect();
    let gain: f32 = taps.iter().sum();
    let decimated = (0..samples.len().div_ceil(factor))
        .map(|m| {
            let centre = m * factor;
            let first = centre.saturating_sub(half);
            let last = (centre + half).min(samples.len() - 1);
            let sum: f32 = (first..=last)
                .map(|i| samples[i] * taps[i + half - centre])
                .sum();
            sum / gain
        })
        .collect();
    (decimated, rate / factor as u32)
}

/// Second-order Butterworth high-pass at [`HIGH_PASS_HZ`] (RBJ biquad), in place: removes DC
/// and the rumble and hum fundamental below the voice's pitch.
fn high_pass(samples: &mut [f32], rate: u32) {
    let w0 = std::f64::consts::TAU * HIGH_PASS_HZ / f64::from(rate);
    let alpha = w0.sin() / std::f64::consts::SQRT_2;
    let cos = w0.cos();
    let a0 = 1.0 + alpha;
    let (b0, b1, b2) = (
        (1.0 + cos) / 2.0 / a0,
        -(1.0 + cos) / a0,
        (1.0 + cos) / 2.0 / a0,
    );
    let (a1, a2) = (-2.0 * cos / a0, (1.0 - alpha) / a0);
    let (mut x1, mut x2, mut y1, mut y2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for sample in samples {
        let x = f64::from(*sample);
        let y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        (x2, x1, y2, y1) = (x1, x, y1, y);
        *sample = y as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::tone;

    fn rms(samples: &[f32]) -> f64 {
        let sum: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        (sum / samples.len() as f64).sqrt()
    }

    #[test]
    fn decimation_keeps_the_speech_band_and_removes_what_would_alias() {
        let (kept, rate) = decimate(&tone(48_000, 1.0, 300.0, -20.0).samples, 48_000);
        assert_eq!(rate, 8_000);
        assert_eq!(kept.len(), 8_000);
        assert!((rms(&kept[100..7_900]) - 0.1).abs() < 0.002);
        // 7 kHz would fold to 1 kHz at 8 kHz.
        let (removed, _) = decimate(&tone(48_000, 1.0, 7_000.0, -20.0).samples, 48_000);
        assert!(rms(&removed[100..7_900]) < 0.001);
        // Rates below twice the analysis rate are kept as they are.
        assert_eq!(decimate(&[0.5; 10], 11_025), (vec![0.5; 10], 11_025));
    }

    #[test]
    fn yin_finds_the_period_of_a_tone_and_none_in_noise() {
        let rate = 8_000.0;
        let samples = tone(8_000, 0.1, 200.0, -20.0).samples;
        let max_lag = (rate / MIN_PITCH_HZ).ceil() as usize;
        let mut difference = vec![0.0; max_lag + 1];
        let period = yin_period(&samples[..2 * max_lag], max_lag, 13, &mut difference).unwrap();
        assert!((period - 40.0).abs() < 0.05, "{period}");
        let noise = crate::signals::white_noise(8_000, 0.1, -20.0, 1).samples;
        assert_eq!(
            yin_period(&noise[..2 * max_lag], max_lag, 13, &mut difference),
            None
        );
    }

    #[test]
    fn tracks_need_five_continuous_frames() {
        let p = |v: f64| Some(v);
        let pitches = [
            p(10.0),
            p(10.5),
            p(11.0),
            p(11.5),
            p(12.0),
            // A jump of more than two semitones starts a new track, too short to count.
            p(20.0),
            p(20.1),
            None,
            p(5.0),
            p(5.0),
            p(5.0),
            p(5.0),
            p(5.0),
            p(5.0),
        ];
        let tracks = pitch_tracks(&pitches);
        let found: Vec<(usize, usize)> = tracks
            .iter()
            .map(|t| (t.first_frame, t.pitches.len()))
            .collect();
        assert_eq!(found, [(0, 5), (8, 6)]);
        // First track: halves of 2 frames, (10, 10.5 | 11, 11.5) and (10.5, 11 | 11.5, 12),
        // each moving 1 semitone; second track: halves of 3 frames, one window, no movement.
        assert!((pitch_movement(&tracks) - 2.0 / 3.0).abs() < 1e-12);
        let active = [true; 14];
        assert_eq!(frames_of_sounds_with_tracks(&active, &tracks), 14);
    }
}
