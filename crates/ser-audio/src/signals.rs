//! Synthetic recordings without speech — silence, noise, hum, tones, chords, melodies,
//! clicks and clipped bursts — deterministic for a seed, to test that a speech detector turns
//! them all down (see [`no_speech_catalogue`]).

use std::f64::consts::TAU;

use crate::Audio;

/// A deterministic uniform/normal generator (SplitMix64), so signals never change with a
/// dependency's version.
struct Random(u64);

impl Random {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        (-2.0 * u.ln()).sqrt() * (TAU * self.uniform()).cos()
    }
}

fn sample_count(rate: u32, seconds: f64) -> usize {
    (seconds.max(0.0) * f64::from(rate)).round() as usize
}

/// Scales `samples` to an RMS level of `dbfs` (silence stays silent).
fn at_level(mut samples: Vec<f64>, dbfs: f64, rate: u32) -> Audio {
    let rms = (samples.iter().map(|s| s * s).sum::<f64>() / samples.len().max(1) as f64).sqrt();
    if rms > 0.0 {
        let gain = 10f64.powf(dbfs / 20.0) / rms;
        samples.iter_mut().for_each(|s| *s *= gain);
    }
    Audio::new(
        samples
            .into_iter()
            .map(|s| s.clamp(-1.0, 1.0) as f32)
            .collect(),
        rate,
    )
}

/// Digital zeros.
pub fn silence(rate: u32, seconds: f64) -> Audio {
    Audio::new(vec![0.0; sample_count(rate, seconds)], rate)
}

/// Gaussian white noise at an RMS level of `dbfs`.
pub fn white_noise(rate: u32, seconds: f64, dbfs: f64, seed: u64) -> Audio {
    let mut random = Random(seed);
    let samples = (0..sample_count(rate, seconds))
        .map(|_| random.normal())
        .collect();
    at_level(samples, dbfs, rate)
}

/// Pink (1/f) noise: white noise through Paul Kellet's refined pink filter.
pub fn pink_noise(rate: u32, seconds: f64, dbfs: f64, seed: u64) -> Audio {
    at_level(pink(rate, seconds, seed), dbfs, rate)
}

fn pink(rate: u32, seconds: f64, seed: u64) -> Vec<f64> {
    let mut random = Random(seed);
    let mut b = [0.0f64; 7];
    (0..sample_count(rate, seconds))
        .map(|_| {
            let white = random.normal();
            b[0] = 0.99886 * b[0] + white * 0.0555179;
            b[1] = 0.99332 * b[1] + white * 0.0750759;
            b[2] = 0.96900 * b[2] + white * 0.1538520;
            b[3] = 0.86650 * b[3] + white * 0.3104856;
            b[4] = 0.55000 * b[4] + white * 0.5329522;
            b[5] = -0.7616 * b[5] - white * 0.0168980;
            let pink = b[..6].iter().sum::<f64>() + b[6] + white * 0.5362;
            b[6] = white * 0.115926;
            pink
        })
        .collect()
}

/// Room tone: pink noise plus a low rumble (white noise through a leaky integrator), as an
/// empty room with ventilation sounds.
pub fn room_noise(rate: u32, seconds: f64, dbfs: f64, seed: u64) -> Audio {
    let mut random = Random(seed ^ 0x5EED);
    let leak = (-TAU * 40.0 / f64::from(rate)).exp();
    let mut rumble = 0.0;
    let samples = pink(rate, seconds, seed)
        .into_iter()
        .map(|p| {
            rumble = leak * rumble + (1.0 - leak) * random.normal() * 30.0;
            p + rumble
        })
        .collect();
    at_level(samples, dbfs, rate)
}

/// Mains hum: `mains_hz` (50 or 60) and its harmonics up to the 10th, odd ones stronger, as a
/// transformer or a ground loop makes it.
pub fn hum(rate: u32, seconds: f64, mains_hz: f64, dbfs: f64) -> Audio {
    let partials: Vec<(f64, f64)> = (1..=10)
        .map(|k| {
            let amplitude = if k % 2 == 1 { 1.0 } else { 0.4 } / f64::from(k);
            (mains_hz * f64::from(k), amplitude)
        })
        .collect();
    at_level(partial_sum(rate, seconds, &partials), dbfs, rate)
}

/// A steady sine tone.
pub fn tone(rate: u32, seconds: f64, hz: f64, dbfs: f64) -> Audio {
    at_level(partial_sum(rate, seconds, &[(hz, 1.0)]), dbfs, rate)
}

/// A steady chord of organ-like notes (six harmonics each, falling as 1/k).
pub fn chord(rate: u32, seconds: f64, notes_hz: &[f64], dbfs: f64) -> Audio {
    let partials: Vec<(f64, f64)> = notes_hz
        .iter()
        .flat_map(|&f| (1..=6).map(move |k| (f * f64::from(k), 1.0 / f64::from(k))))
        .collect();
    at_level(partial_sum(rate, seconds, &partials), dbfs, rate)
}

/// A tune of steady notes (a C major scale up and down, 0.35 s each with a 50-ms gap), each
/// note organ-like as in [`chord`].
pub fn melody(rate: u32, seconds: f64, dbfs: f64) -> Audio {
    const SCALE: [f64; 8] = [261.63, 293.66, 329.63, 349.23, 392.0, 440.0, 493.88, 523.25];
    let note_len = sample_count(rate, 0.35);
    let gap_len = sample_count(rate, 0.05);
    let total = sample_count(rate, seconds);
    let rate_hz = f64::from(rate);
    let samples = (0..total)
        .map(|i| {
            let (note, within) = (i / (note_len + gap_len), i % (note_len + gap_len));
            if within >= note_len {
                return 0.0;
            }
            let step = note % 14;
            let hz = SCALE[if step < 8 { step } else { 14 - step }];
            let t = i as f64 / rate_hz;
            (1..=6)
                .map(|k| (TAU * hz * f64::from(k) * t).sin() / f64::from(k))
                .sum()
        })
        .collect();
    at_level(samples, dbfs, rate)
}

/// The sum of two recordings of the same rate and length, clipped to [-1, 1].
pub fn mix(a: &Audio, b: &Audio) -> Audio {
    let samples = a
        .samples
        .iter()
        .zip(&b.samples)
        .map(|(x, y)| (x + y).clamp(-1.0, 1.0))
        .collect();
    Audio::new(samples, a.sample_rate)
}

fn partial_sum(rate: u32, seconds: f64, partials: &[(f64, f64)]) -> Vec<f64> {
    let rate = f64::from(rate);
    let nyquist = rate / 2.0;
    (0..sample_count(rate as u32, seconds))
        .map(|i| {
            let t = i as f64 / rate;
            partials
                .iter()
                .filter(|(hz, _)| *hz < nyquist)
                .map(|(hz, amplitude)| amplitude * (TAU * hz * t).sin())
                .sum()
        })
        .collect()
}

/// Single-sample clicks of random sign and height, `per_second` on average, at random times.
pub fn clicks(rate: u32, seconds: f64, per_second: f64, seed: u64) -> Audio {
    let mut random = Random(seed);
    let probability = per_second / f64::from(rate);
    let samples = (0..sample_count(rate, seconds))
        .map(|_| {
            if random.uniform() < probability {
                let height = 0.3 + 0.7 * random.uniform();
                if random.uniform() < 0.5 {
                    height
                } else {
                    -height
                }
            } else {
                0.0
            }
        })
        .map(|s| s as f32)
        .collect();
    Audio::new(samples, rate)
}

/// Bursts of hard-clipped noise, 20-80 ms long, one every 0.2-0.6 s, over silence: a faulty
/// connector or a microphone knocked about.
pub fn clipped_noise_bursts(rate: u32, seconds: f64, seed: u64) -> Audio {
    let mut random = Random(seed);
    let mut samples = vec![0.0f32; sample_count(rate, seconds)];
    let mut at = sample_count(rate, 0.1 * random.uniform());
    while at < samples.len() {
        let len = sample_count(rate, 0.02 + 0.06 * random.uniform());
        for sample in samples.iter_mut().skip(at).take(len) {
            *sample = (4.0 * random.normal()).clamp(-1.0, 1.0) as f32;
        }
        at += len + sample_count(rate, 0.2 + 0.4 * random.uniform());
    }
    Audio::new(samples, rate)
}

/// An alarm: a 1-kHz sine overdriven into clipping, 150 ms on, 250 ms off.
pub fn clipped_beeps(rate: u32, seconds: f64) -> Audio {
    let period = sample_count(rate, 0.4);
    let on = sample_count(rate, 0.15);
    let rate_hz = f64::from(rate);
    let samples = (0..sample_count(rate, seconds))
        .map(|i| {
            if i % period < on {
                (5.0 * (TAU * 1000.0 * i as f64 / rate_hz).sin()).clamp(-1.0, 1.0) as f32
            } else {
                0.0
            }
        })
        .collect();
    Audio::new(samples, rate)
}

/// Every kind of no-speech signal above at `seconds` and `rate`, at quiet, medium and loud
/// levels where the level is a parameter, each with a name such as `pink noise -30 dBFS`.
pub fn no_speech_catalogue(rate: u32, seconds: f64) -> Vec<(String, Audio)> {
    let mut signals = vec![
        ("digital silence".to_string(), silence(rate, seconds)),
        ("clicks".to_string(), clicks(rate, seconds, 8.0, 7)),
        (
            "clipped noise bursts".to_string(),
            clipped_noise_bursts(rate, seconds, 11),
        ),
        ("clipped beeps".to_string(), clipped_beeps(rate, seconds)),
    ];
    for dbfs in [-50.0, -30.0, -10.0] {
        let level = |name: &str| format!("{name} {dbfs} dBFS");
        signals.extend([
            (level("white noise"), white_noise(rate, seconds, dbfs, 1)),
            (level("pink noise"), pink_noise(rate, seconds, dbfs, 2)),
            (level("room noise"), room_noise(rate, seconds, dbfs, 3)),
            (level("50 Hz hum"), hum(rate, seconds, 50.0, dbfs)),
            (level("60 Hz hum"), hum(rate, seconds, 60.0, dbfs)),
            (level("440 Hz tone"), tone(rate, seconds, 440.0, dbfs)),
            (level("150 Hz tone"), tone(rate, seconds, 150.0, dbfs)),
            (
                level("C major chord"),
                chord(rate, seconds, &[261.63, 329.63, 392.0], dbfs),
            ),
            (
                level("A minor chord"),
                chord(rate, seconds, &[110.0, 220.0, 261.63, 329.63], dbfs),
            ),
            (level("melody"), melody(rate, seconds, dbfs)),
            (
                level("50 Hz hum in room noise"),
                mix(
                    &hum(rate, seconds, 50.0, dbfs),
                    &room_noise(rate, seconds, dbfs - 10.0, 4),
                ),
            ),
            (
                level("440 Hz tone in white noise"),
                mix(
                    &tone(rate, seconds, 440.0, dbfs),
                    &white_noise(rate, seconds, dbfs - 10.0, 5),
                ),
            ),
        ]);
    }
    signals
}
