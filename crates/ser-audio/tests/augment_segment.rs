//! Augmentation (seeded, measurable) and speech segmentation on synthetic signals.

mod common;

use ser_audio::augment::{
    Degradation, add_noise_snr, add_reverb, apply_gain, pitch_shift, shift, speed_perturb,
    telephone, time_shift,
};
use ser_audio::segment::{Segment, SegmentConfig, split_speech};
use ser_audio::{Audio, AudioError};

fn tone(n: usize) -> Vec<f32> {
    common::sine(440.0, 16_000, n, 0.5)
        .iter()
        .map(|&s| s as f32)
        .collect()
}

#[test]
fn noise_has_the_requested_snr_and_is_seeded() {
    let clean = tone(32_000);
    for snr_db in [0.0f32, 10.0, 30.0] {
        let mut noisy = clean.clone();
        add_noise_snr(&mut noisy, snr_db, 7).unwrap();
        let signal: f64 = clean.iter().map(|&s| f64::from(s).powi(2)).sum();
        let noise: f64 = noisy
            .iter()
            .zip(&clean)
            .map(|(&n, &c)| f64::from(n - c).powi(2))
            .sum();
        let measured = 10.0 * (signal / noise).log10();
        assert!(
            (measured - f64::from(snr_db)).abs() < 0.1,
            "asked {snr_db} dB, got {measured}"
        );
    }
    let (mut a, mut b, mut c) = (clean.clone(), clean.clone(), clean.clone());
    add_noise_snr(&mut a, 10.0, 1).unwrap();
    add_noise_snr(&mut b, 10.0, 1).unwrap();
    add_noise_snr(&mut c, 10.0, 2).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let mut silence = vec![0.0f32; 8];
    add_noise_snr(&mut silence, 10.0, 1).unwrap();
    assert_eq!(silence, [0.0; 8]);
    assert!(matches!(
        add_noise_snr(&mut a, f32::NAN, 1),
        Err(AudioError::InvalidParameter(_))
    ));
}

#[test]
fn shifts_move_content_and_fill_with_zeros() {
    let mut samples = vec![1.0f32, 2.0, 3.0, 4.0];
    shift(&mut samples, 1);
    assert_eq!(samples, [0.0, 1.0, 2.0, 3.0]);
    shift(&mut samples, -2);
    assert_eq!(samples, [2.0, 3.0, 0.0, 0.0]);
    shift(&mut samples, 10);
    assert_eq!(samples, [0.0; 4]);

    let original: Vec<f32> = (1..=100).map(|i| i as f32).collect();
    let mut seen = std::collections::HashSet::new();
    for seed in 0..50 {
        let mut samples = original.clone();
        let offset = time_shift(&mut samples, 10, seed);
        assert!(offset.abs() <= 10);
        let mut again = original.clone();
        assert_eq!(time_shift(&mut again, 10, seed), offset, "seeded");
        let mut expected = original.clone();
        shift(&mut expected, offset);
        assert_eq!(samples, expected);
        seen.insert(offset);
    }
    assert!(seen.len() > 10, "offsets vary with the seed: {seen:?}");
}

#[test]
fn speed_perturbation_changes_length_and_pitch() {
    let audio = Audio::new(tone(16_000), 16_000);
    let faster = speed_perturb(&audio, 1.1).unwrap();
    assert_eq!(faster.sample_rate, 16_000);
    let expected = (16_000.0f64 / 1.1).round() as i64;
    assert!(
        (faster.samples.len() as i64 - expected).abs() <= 1,
        "{}",
        faster.samples.len()
    );
    // 440 Hz played 1.1x faster is 484 Hz: count zero crossings in the middle.
    let frequency = common::tone_frequency(&faster.samples[2000..12_000], 16_000);
    assert!((frequency - 484.0).abs() < 3.0, "{frequency}");
    assert_eq!(speed_perturb(&audio, 1.0).unwrap(), audio);
    assert!(speed_perturb(&audio, 0.0).is_err());
}

#[test]
fn pitch_shift_moves_the_pitch_and_keeps_the_length() {
    let audio = Audio::new(tone(16_000), 16_000);
    for (semitones, expected) in [(4.0f32, 554.37), (-4.0, 349.23), (12.0, 880.0)] {
        let shifted = pitch_shift(&audio, semitones).unwrap();
        assert_eq!(shifted.sample_rate, 16_000);
        assert_eq!(shifted.samples.len(), 16_000);
        // The middle: resampling and overlap-add settle at the ends.
        let frequency = common::tone_frequency(&shifted.samples[2_000..14_000], 16_000);
        assert!(
            (frequency - expected).abs() < expected * 0.01,
            "{semitones} semitones: {frequency} Hz, expected {expected}"
        );
        // The level stays that of the tone: the overlap-add neither drops nor doubles it.
        let middle = &shifted.samples[2_000..14_000];
        assert!((amplitude(middle, 16_000, expected) - 0.5).abs() < 0.1);
    }
    assert_eq!(pitch_shift(&audio, 0.0).unwrap(), audio);
    for bad in [f32::NAN, 12.5, -13.0] {
        assert!(matches!(
            pitch_shift(&audio, bad),
            Err(AudioError::InvalidParameter(_))
        ));
    }
    let empty = Audio::new(Vec::new(), 16_000);
    assert!(pitch_shift(&empty, 3.0).unwrap().samples.is_empty());
    // Shorter than one WSOLA frame: still the input's length.
    let click = Audio::new(vec![0.1; 10], 16_000);
    assert_eq!(pitch_shift(&click, -3.0).unwrap().samples.len(), 10);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Any clip, any shift in range, any common rate: a clip of the same length and rate.
    #[test]
    fn pitch_shift_keeps_any_clip_whole(
        samples in proptest::collection::vec(-1.0f32..1.0, 0..6_000),
        semitones in -12.0f32..12.0,
        rate in proptest::sample::select(vec![8_000u32, 16_000, 22_050, 48_000]),
    ) {
        let audio = Audio::new(samples, rate);
        let shifted = pitch_shift(&audio, semitones).unwrap();
        proptest::prop_assert_eq!(shifted.samples.len(), audio.samples.len());
        proptest::prop_assert_eq!(shifted.sample_rate, rate);
        proptest::prop_assert!(shifted.samples.iter().all(|s| s.is_finite()));
    }
}

#[test]
fn speech_bursts_become_segments() {
    let rate = 16_000;
    // 1 s silence, 1 s tone, 0.1 s gap, 0.5 s tone, 1 s silence, 0.05 s click, 1 s silence.
    let mut samples = vec![0.0f32; rate];
    samples.extend(tone(rate));
    samples.extend(vec![0.0; rate / 10]);
    samples.extend(tone(rate / 2));
    samples.extend(vec![0.0; rate]);
    samples.extend(tone(rate / 20));
    samples.extend(vec![0.0; rate]);
    let audio = Audio::new(samples, rate as u32);
    let config = SegmentConfig {
        frame_length: 512,
        hop_length: 128,
        ..SegmentConfig::default()
    };
    let segments = split_speech(&audio, &config);
    assert_eq!(segments.len(), 1, "{segments:?}");
    let Segment { start, end } = segments[0];
    // The short gap is bridged; the click is dropped. Frame edges blur by one frame.
    assert!(
        start.abs_diff(rate) <= 512 && end.abs_diff(rate * 26 / 10) <= 512,
        "{start}..{end}"
    );

    // Over-long speech is cut into equal pieces no longer than the maximum.
    let long = Audio::new(tone(rate * 5), rate as u32);
    let pieces = split_speech(
        &long,
        &SegmentConfig {
            max_segment_seconds: 2.0,
            ..config.clone()
        },
    );
    assert_eq!(pieces.len(), 3);
    assert!(pieces.iter().all(|p| p.len() <= 2 * rate));
    assert!(pieces.windows(2).all(|w| w[0].end == w[1].start));
    assert!(split_speech(&Audio::new(vec![0.0; rate], rate as u32), &config).is_empty());
    let hum: Vec<f32> = tone(rate).iter().map(|s| s * 1e-4).collect();
    assert!(
        split_speech(&Audio::new(hum, rate as u32), &config).is_empty(),
        "below the floor"
    );
}

#[test]
fn segment_config_validation_names_the_bad_length() {
    assert!(SegmentConfig::default().validate().is_ok());
    let cases = [
        (
            SegmentConfig {
                min_speech_seconds: -1.0,
                ..SegmentConfig::default()
            },
            "min_speech_seconds",
        ),
        (
            SegmentConfig {
                min_silence_seconds: f32::NAN,
                ..SegmentConfig::default()
            },
            "min_silence_seconds",
        ),
        (
            SegmentConfig {
                max_segment_seconds: 0.2,
                ..SegmentConfig::default()
            },
            "at least min_speech_seconds",
        ),
    ];
    for (config, expected) in cases {
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains(expected), "{error}");
    }
}

fn energy(samples: &[f32]) -> f64 {
    samples.iter().map(|&s| f64::from(s).powi(2)).sum()
}

/// Amplitude of the `frequency` component (projection on sine and cosine).
fn amplitude(samples: &[f32], rate: u32, frequency: f64) -> f64 {
    let (mut sine, mut cosine) = (0.0, 0.0);
    for (n, &s) in samples.iter().enumerate() {
        let phase = std::f64::consts::TAU * frequency * n as f64 / f64::from(rate);
        sine += f64::from(s) * phase.sin();
        cosine += f64::from(s) * phase.cos();
    }
    2.0 * (sine * sine + cosine * cosine).sqrt() / samples.len() as f64
}

#[test]
fn gain_scales_by_decibels() {
    let mut samples = vec![0.5f32, -0.25];
    apply_gain(&mut samples, 20.0);
    assert!((samples[0] - 5.0).abs() < 1e-5 && (samples[1] + 2.5).abs() < 1e-5);
    apply_gain(&mut samples, -6.0206);
    assert!((samples[0] - 2.5).abs() < 1e-3);
}

#[test]
fn reverb_follows_the_room_it_is_asked_for() {
    // An impulse comes out as the room's response (scaled to the input's level).
    let rate = 16_000;
    let mut impulse = vec![0.0f32; rate as usize];
    impulse[0] = 1.0;
    let (rt60, drr_db) = (0.5f32, 3.0f32);
    let response = add_reverb(&Audio::new(impulse.clone(), rate), rt60, drr_db, 9).unwrap();
    assert_eq!(response.samples.len(), impulse.len());
    assert!((energy(&response.samples) - energy(&impulse)).abs() < 1e-4);
    let measured_drr =
        10.0 * (energy(&response.samples[..1]) / energy(&response.samples[1..])).log10();
    assert!(
        (measured_drr - 3.0).abs() < 0.01,
        "direct-to-reverberant {measured_drr} dB"
    );
    // 60 dB per rt60: 0.3 s apart is 36 dB (windows of 50 ms; the tail is random).
    let window = |start: f32| {
        let from = (start * rate as f32) as usize;
        energy(&response.samples[from..from + 800])
    };
    let decay_db = 10.0 * (window(0.05) / window(0.35)).log10();
    assert!(
        (decay_db - 36.0).abs() < 3.0,
        "decay over 0.3 s: {decay_db} dB"
    );
    // Seeded, level-preserving on speech-like input, and parameters are checked.
    let tone = Audio::new(tone(16_000), 16_000);
    let a = add_reverb(&tone, 0.4, 5.0, 1).unwrap();
    assert_eq!(a, add_reverb(&tone, 0.4, 5.0, 1).unwrap());
    assert_ne!(a, add_reverb(&tone, 0.4, 5.0, 2).unwrap());
    assert!((energy(&a.samples) / energy(&tone.samples) - 1.0).abs() < 1e-4);
    for (rt60, drr) in [
        (0.0, 0.0),
        (f32::NAN, 0.0),
        (11.0, 0.0),
        (0.5, f32::INFINITY),
    ] {
        assert!(matches!(
            add_reverb(&tone, rt60, drr, 1),
            Err(AudioError::InvalidParameter(_))
        ));
    }
    assert!(
        add_reverb(&Audio::new(Vec::new(), 16_000), 0.5, 0.0, 1)
            .unwrap()
            .samples
            .is_empty()
    );
}

/// One second of sine tones of `amplitude` each, summed.
fn tones(rate: u32, amplitude: f64, frequencies: &[f64]) -> Audio {
    let samples = (0..rate as usize)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            let sum: f64 = frequencies
                .iter()
                .map(|frequency| (std::f64::consts::TAU * frequency * t).sin())
                .sum();
            (amplitude * sum) as f32
        })
        .collect();
    Audio::new(samples, rate)
}

#[test]
fn telephone_keeps_the_voice_band_at_8_khz() {
    let mix = tones(16_000, 0.2, &[100.0, 1_000.0, 3_800.0, 6_000.0]);
    let phone = telephone(&mix).unwrap();
    assert_eq!(phone.sample_rate, 8_000);
    assert_eq!(phone.samples.len(), 8_000);
    // Away from the edges (the band filter works on the whole clip, as a circle).
    let middle = &phone.samples[800..7_200];
    let kept = amplitude(middle, 8_000, 1_000.0);
    assert!((kept - 0.2).abs() < 0.01, "1 kHz amplitude {kept}");
    for frequency in [100.0, 3_800.0] {
        let left = amplitude(middle, 8_000, frequency);
        assert!(
            left < 0.2 * 0.01,
            "{frequency} Hz left at {left} (more than -40 dB)"
        );
    }
    // mu-law is a coarse quantiser: its noise stays ~35 dB below the signal.
    let clean = telephone(&Audio::new(vec![0.0; 100], 8_000)).unwrap();
    assert!(clean.samples.iter().all(|&s| s == 0.0));
}

#[test]
fn the_wideband_channel_keeps_what_is_below_8_khz() {
    let wideband = Degradation {
        wideband: true,
        ..Degradation::default()
    };
    let heard = wideband
        .apply(&tones(48_000, 0.3, &[3_000.0, 10_000.0]))
        .unwrap();
    assert_eq!(heard.sample_rate, 16_000);
    assert_eq!(heard.samples.len(), 16_000);
    let middle = &heard.samples[1_600..14_400];
    let kept = amplitude(middle, 16_000, 3_000.0);
    assert!((kept - 0.3).abs() < 0.01, "3 kHz amplitude {kept}");
    // 10 kHz cannot exist at 16 kHz: it must not fold back to 6 kHz either.
    let folded = amplitude(middle, 16_000, 6_000.0);
    assert!(folded < 0.3 * 0.01, "10 kHz folded to 6 kHz at {folded}");
    // A recording at 16 kHz or less is already wideband.
    let phone = Audio::new(tone(8_000), 8_000);
    assert_eq!(wideband.apply(&phone).unwrap(), phone);
}

#[test]
fn a_degradation_chain_is_seeded_and_the_default_changes_nothing() {
    let audio = Audio::new(tone(16_000), 16_000);
    assert_eq!(Degradation::default().apply(&audio).unwrap(), audio);
    let chain = Degradation {
        speed: Some(1.1),
        pitch_semitones: Some(-2.0),
        reverb: Some((0.3, 5.0, 4)),
        noise: Some((15.0, 5)),
        wideband: true,
        telephone: true,
        gain_db: -6.0,
    };
    let degraded = chain.apply(&audio).unwrap();
    assert_eq!(degraded, chain.apply(&audio).unwrap());
    assert_eq!(degraded.sample_rate, 8_000);
    // 1.1 times faster: 1/1.1 of the length, at half the rate.
    assert!((degraded.samples.len() as f64 - 16_000.0 / 1.1 / 2.0).abs() < 2.0);
    let level = energy(&degraded.samples) / degraded.samples.len() as f64;
    let original = energy(&audio.samples) / audio.samples.len() as f64;
    assert!((10.0 * (level / original).log10() + 6.0).abs() < 1.5);
}
