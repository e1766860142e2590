//! Shapes and edge cases: short signals, silence, DC, single samples, config round trips.

use proptest::prelude::*;
use ser_audio::{Audio, PreprocessConfig};
use ser_features::*;

fn native_rate_config(kind: FeatureKind) -> FeatureConfig {
    FeatureConfig {
        audio: PreprocessConfig {
            sample_rate: None,
            ..PreprocessConfig::default()
        },
        kind,
        ..FeatureConfig::default()
    }
}

fn extract(config: &FeatureConfig, samples: Vec<f32>, sample_rate: u32) -> FeatureMatrix {
    config
        .extract(&Audio::new(samples, sample_rate))
        .expect("extraction")
}

/// Frames librosa produces with center=True for an even n_fft.
fn expected_frames(len: usize, hop: usize) -> usize {
    1 + len / hop
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_kind_has_the_advertised_shape(
        len in 1usize..6000,
        kind in prop_oneof![Just(FeatureKind::Mfcc), Just(FeatureKind::LogMel), Just(FeatureKind::Pitch), Just(FeatureKind::All)],
        order in 0usize..3,
        seed in any::<u32>(),
        voice_quality in any::<bool>(),
    ) {
        let mut config = native_rate_config(kind);
        config.deltas.order = order;
        config.voice_quality = voice_quality && kind == FeatureKind::All;
        let samples: Vec<f32> = (0..len).map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32) - 0.5).collect();
        let matrix = extract(&config, samples, 16_000);
        prop_assert_eq!(matrix.n_features, config.n_features());
        prop_assert_eq!(matrix.n_features, config.feature_names().len());
        prop_assert_eq!(matrix.n_frames, expected_frames(len, 512));
        prop_assert!(matrix.data.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn pooled_vectors_are_feature_major(rows in 1usize..5, cols in 1usize..40, seed in any::<u16>()) {
        let data: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919 + usize::from(seed)) % 101) as f32).collect();
        let matrix = FeatureMatrix::new(rows, cols, data);
        let stats = [Statistic::Mean, Statistic::Std, Statistic::Min, Statistic::Max, Statistic::Percentile(50)];
        let pooled = pool_statistics(&matrix, &stats);
        prop_assert_eq!(pooled.len(), rows * stats.len());
        for row in 0..rows {
            let values = matrix.row(row);
            let (min, max) = values.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            let chunk = &pooled[row * stats.len()..(row + 1) * stats.len()];
            prop_assert_eq!(chunk[2], min);
            prop_assert_eq!(chunk[3], max);
            prop_assert!(chunk[0] >= min && chunk[0] <= max);
            prop_assert!(chunk[4] >= min && chunk[4] <= max);
            prop_assert!(chunk[1] >= 0.0);
        }
    }
}

#[test]
fn single_sample_gives_one_frame_everywhere() {
    for kind in [
        FeatureKind::Mfcc,
        FeatureKind::LogMel,
        FeatureKind::Pitch,
        FeatureKind::All,
    ] {
        let mut config = native_rate_config(kind);
        config.deltas.order = 2;
        let matrix = extract(&config, vec![0.5], 22_050);
        assert_eq!(
            (matrix.n_features, matrix.n_frames),
            (config.n_features(), 1),
            "{kind:?}"
        );
        // Too short for any delta window: derivatives are zero, not an error.
        if kind == FeatureKind::Mfcc {
            assert!(matrix.data[config.mfcc.n_mfcc..].iter().all(|&v| v == 0.0));
        }
    }
}

#[test]
fn silence_is_floored_and_unvoiced() {
    let config = native_rate_config(FeatureKind::LogMel);
    let matrix = extract(&config, vec![0.0; 8000], 16_000);
    // power_to_db(0) = 10 log10(amin) = -100 dB, and the top_db floor keeps it there.
    assert!(matrix.data.iter().all(|&v| (v + 100.0).abs() < 1e-4));

    let pitch = extract(
        &native_rate_config(FeatureKind::Pitch),
        vec![0.0; 8000],
        16_000,
    );
    assert!(
        pitch.row(0).iter().all(|&f0| f0 == 0.0),
        "silence has no f0"
    );
    assert!(pitch.row(1).iter().all(|&voiced| voiced == 0.0));

    let zcr = zero_crossing_rate(&[0.0; 4096], &Framing::default()).unwrap();
    assert!(zcr.data.iter().all(|&v| v == 0.0));
}

#[test]
fn intonation_track_is_the_pitch_kind_of_its_settings_appended_to_all() {
    let audio = ser_audio::signals::melody(16_000, 1.0, -12.0);
    let all = native_rate_config(FeatureKind::All);
    let mut intonation = native_rate_config(FeatureKind::Pitch);
    intonation.pitch.unit = PitchUnit::Semitones;
    intonation.pitch.fmin = 55.0;
    intonation.pitch.fmax = 600.0;
    intonation.pitch.frame_length = 1024;
    let with = FeatureConfig {
        intonation: Some(intonation.pitch),
        ..all.clone()
    };
    let names = with.feature_names();
    assert_eq!(names.len(), all.n_features() + 3);
    assert_eq!(
        names[all.n_features()..],
        [
            "intonation_f0_semitones",
            "intonation_voiced_flag",
            "intonation_voiced_prob"
        ]
    );
    assert!(
        with.describe()
            .ends_with("intonation by pYIN pitch in semitones")
    );
    let (with, without, track) = (
        with.extract(&audio).unwrap(),
        all.extract(&audio).unwrap(),
        intonation.extract(&audio).unwrap(),
    );
    // The rows before it are unchanged; its rows are the pitch kind's of the same settings.
    assert_eq!(with.data[..without.data.len()], without.data[..]);
    assert_eq!(with.data[without.data.len()..], track.data[..]);
    // Off, it leaves a configuration's bytes (and feature cache keys) as they were.
    assert!(!serde_json::to_string(&all).unwrap().contains("intonation"));
}

#[test]
fn semitone_pitch_reads_a_tone_and_fills_silence_with_the_middle_of_the_range() {
    let mut config = native_rate_config(FeatureKind::Pitch);
    config.pitch.unit = PitchUnit::Semitones;
    // 220 Hz, half a second of it between silences: 36 semitones above 27.5 Hz throughout,
    // the silent frames carried over from their voiced neighbours.
    let tone = ser_audio::signals::tone(16_000, 0.5, 220.0, -12.0).samples;
    let samples = [vec![0.0; 4000], tone, vec![0.0; 4000]].concat();
    let pitch = extract(&config, samples, 16_000);
    assert!(pitch.row(1).contains(&0.0), "the silences are unvoiced");
    let contour = pitch.row(0);
    let within =
        |frames: &[f32], semitones: f32| frames.iter().all(|&st| (st - 36.0).abs() < semitones);
    // Frames wholly inside the tone read it to a tenth of a semitone; the partly silent frames
    // at its edges (and the silence held from them) within a semitone and a half.
    assert!(within(&contour[9..23], 0.1), "{contour:?}");
    assert!(within(contour, 1.5), "{contour:?}");
    let silence = extract(&config, vec![0.0; 8000], 16_000);
    let middle = 12.0 * ((config.pitch.fmin * config.pitch.fmax).sqrt() / 27.5).log2();
    assert!(
        silence
            .row(0)
            .iter()
            .all(|&st| (f64::from(st) - middle).abs() < 1e-4)
    );
}

#[test]
fn dc_energy_sits_in_the_first_bin() {
    let config = StftConfig {
        window: Window::Rectangular,
        center: false,
        ..StftConfig::default()
    };
    let s = spectrogram(&[0.25; 4096], &config, 1.0).unwrap();
    assert_eq!((s.rows, s.cols), (1025, 5));
    for t in 0..s.cols {
        assert!((s.get(0, t) - 0.25 * 2048.0).abs() < 1e-9);
        assert!((1..s.rows).all(|bin| s.get(bin, t).abs() < 1e-9));
    }
    let centroid = spectral_centroid(&s, 22_050.0, 2048).unwrap();
    assert!(centroid.data.iter().all(|&c| c.abs() < 1e-9));
    let rms_values = rms(
        &[0.25; 4096],
        &Framing {
            center: false,
            ..Framing::default()
        },
    )
    .unwrap();
    assert!(rms_values.data.iter().all(|&v| (v - 0.25).abs() < 1e-9));
}

#[test]
fn pure_tone_pitch_is_found() {
    let sr = 22_050.0;
    let tone: Vec<f32> = (0..22_050)
        .map(|i| (2.0 * std::f64::consts::PI * 220.0 * i as f64 / sr).sin() as f32 * 0.5)
        .collect();
    let track = pyin(&tone, sr, &YinConfig::default(), &PyinConfig::default()).unwrap();
    let middle = track.f0.len() / 2;
    assert!(track.voiced_flag[middle]);
    assert!(
        (track.f0[middle] - 220.0).abs() / 220.0 < 0.01,
        "pyin f0 {}",
        track.f0[middle]
    );
    let f0 = yin(&tone, sr, &YinConfig::default(), 0.1).unwrap();
    assert!(
        (f0[middle] - 220.0).abs() / 220.0 < 0.005,
        "yin f0 {}",
        f0[middle]
    );
}

#[test]
fn uncentred_analysis_rejects_signals_shorter_than_a_frame() {
    let config = StftConfig {
        center: false,
        ..StftConfig::default()
    };
    assert!(matches!(
        spectrogram(&[0.1; 100], &config, 2.0),
        Err(FeatureError::InvalidParameter(_))
    ));
    assert!(spectrogram(&[], &StftConfig::default(), 2.0).is_err());
}

#[test]
fn bad_parameters_are_errors_not_panics() {
    let y = vec![0.1f32; 4096];
    let zero_hop = StftConfig {
        hop_length: 0,
        ..StftConfig::default()
    };
    assert!(spectrogram(&y, &zero_hop, 2.0).is_err());
    let inverted = MelConfig {
        fmin: 9000.0,
        fmax: Some(100.0),
        ..MelConfig::default()
    };
    assert!(melspectrogram(&y, 22_050.0, &StftConfig::default(), &inverted).is_err());
    let too_low = YinConfig {
        fmin: 5.0,
        ..YinConfig::default()
    };
    assert!(yin(&y, 22_050.0, &too_low, 0.1).is_err());
    let s = spectrogram(&y, &StftConfig::default(), 1.0).unwrap();
    assert!(delta(&s, 4, 1).is_err());
    assert!(
        spectral_contrast(
            &s,
            22_050.0,
            2048,
            &ContrastConfig {
                n_bands: 9,
                ..ContrastConfig::default()
            }
        )
        .is_err()
    );
    let mut config = FeatureConfig::default();
    config.mfcc.n_mfcc = 500;
    assert!(config.extract(&Audio::new(y, 22_050)).is_err());
}

#[test]
fn config_round_trips_and_rejects_unknown_fields() {
    let mut config = FeatureConfig {
        kind: FeatureKind::All,
        ..FeatureConfig::default()
    };
    config.deltas.order = 2;
    config.db.reference = DbReference::Max;
    config.mel.norm = MelNorm::Lp(2.0);
    let json = serde_json::to_string(&config).unwrap();
    let back: FeatureConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
    assert!(serde_json::from_str::<FeatureConfig>(r#"{"n_mfcc": 13}"#).is_err());
    let partial: FeatureConfig = serde_json::from_str(r#"{"mfcc": {"n_mfcc": 13}}"#).unwrap();
    assert_eq!(partial.mfcc.n_mfcc, 13);
    assert_eq!(partial.stft, StftConfig::default());
    let stats: Vec<Statistic> = serde_json::from_str(r#"["mean", "std", "p90"]"#).unwrap();
    assert_eq!(
        stats,
        vec![Statistic::Mean, Statistic::Std, Statistic::Percentile(90)]
    );
}

#[test]
fn default_config_is_forty_mfcc_at_22050() {
    let config = FeatureConfig::default();
    assert_eq!(config.audio.sample_rate, Some(22_050));
    assert_eq!(config.n_features(), 40);
    assert_eq!(config.feature_names()[0], "mfcc_0");
    let mut with_deltas = config.clone();
    with_deltas.deltas.order = 2;
    let names = with_deltas.feature_names();
    assert_eq!(names.len(), 120);
    assert_eq!(names[40], "d_mfcc_0");
    assert_eq!(names[80], "dd_mfcc_0");
    assert_eq!(config.describe(), "40 MFCC");
    assert_eq!(with_deltas.describe(), "40 MFCC + deltas and delta-deltas");
    // Input at another rate is resampled first: 0.5 s at 44.1 kHz -> 11025 samples at 22050.
    let matrix = config
        .extract(&Audio::new(vec![0.01; 22_050], 44_100))
        .unwrap();
    assert_eq!(matrix.n_frames, expected_frames(11_025, 512));
}

#[test]
fn percentiles_interpolate_like_numpy() {
    let matrix = FeatureMatrix::new(1, 4, vec![1.0, 2.0, 3.0, 4.0]);
    let pooled = pool_statistics(
        &matrix,
        &[
            Statistic::Percentile(50),
            Statistic::Percentile(25),
            Statistic::Std,
        ],
    );
    assert_eq!(pooled[0], 2.5);
    assert_eq!(pooled[1], 1.75);
    assert!((pooled[2] - 1.118_034).abs() < 1e-6);
}

/// Parseval: with a rectangular window and no centring, the RMS from the one-sided magnitude
/// spectrum equals the RMS of the samples themselves, for even and odd frame lengths.
#[test]
fn rms_from_spectrogram_equals_rms_of_the_frames() {
    let y: Vec<f32> = (0..6000)
        .map(|i| (0.01 * i as f32).sin() * 0.5 + 0.1 * (0.37 * i as f32).cos())
        .collect();
    for frame_length in [2048, 1001] {
        let stft = StftConfig {
            n_fft: frame_length,
            hop_length: 512,
            window: Window::Rectangular,
            center: false,
            ..StftConfig::default()
        };
        let s = spectrogram(&y, &stft, 1.0).unwrap();
        let from_spectrum = rms_from_spectrogram(&s, frame_length).unwrap();
        let framing = Framing {
            frame_length,
            hop_length: 512,
            center: false,
        };
        let direct = rms(&y, &framing).unwrap();
        assert_eq!(from_spectrum.cols, direct.cols);
        for (a, b) in from_spectrum.data.iter().zip(&direct.data) {
            assert!(
                (a - b).abs() < 1e-9 * b.max(1.0),
                "{frame_length}: {a} vs {b}"
            );
        }
    }
    let wrong = rms_from_spectrogram(&Matrix::zeros(10, 3), 2048).unwrap_err();
    assert!(wrong.to_string().contains("needs 1025"), "{wrong}");
}

/// In-memory files extract like the same file on disk; errors carry the given name.
#[test]
fn extract_bytes_matches_extract_file() {
    let data = std::env::var_os("SER_DATA_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        std::path::PathBuf::from,
    );
    let path = data.join("tess/OAF_angry/OAF_back_angry.flac");
    let config = FeatureConfig::default();
    let from_file = config.extract_file(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(config.extract_bytes(bytes, "clip.flac").unwrap(), from_file);
    let error = config
        .extract_bytes(b"RIFF----WAVEfmt ".to_vec(), "upload.wav")
        .unwrap_err();
    assert!(error.to_string().starts_with("upload.wav: "), "{error}");
}

/// `n` samples of a 220-Hz tone at half of full scale.
fn tone_220(rate: usize, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 220.0 * i as f32 / rate as f32).sin())
        .collect()
}

/// Tone, 1 s of digital silence, tone: with `silence`, the features are those of the whole
/// signal with the silent frames' columns taken out.
#[test]
fn silent_frames_are_dropped_after_extraction() {
    let rate = 16_000usize;
    let tone = |n: usize| tone_220(rate, n);
    let samples: Vec<f32> = [tone(rate / 2), vec![0.0; rate], tone(rate / 2)].concat();
    let mut config = native_rate_config(FeatureKind::All);
    config.deltas.order = 1;
    let whole = extract(&config, samples.clone(), rate as u32);
    config.silence = Some(SilenceConfig {
        top_db: 30.0,
        ..SilenceConfig::default()
    });
    let speech = extract(&config, samples.clone(), rate as u32);
    assert_eq!(speech.n_features, whole.n_features);

    let loud = ser_audio::non_silent_frames(&samples, 2048, 512, 30.0, None);
    let kept: Vec<usize> = (0..whole.n_frames).filter(|&col| loud[col]).collect();
    assert_eq!(speech.n_frames, kept.len());
    // A frame is silent once its 2048 samples lie in the silence: at least 27 of 31 frames
    // centred in it go, and none of the tone's.
    let silent_frames = whole.n_frames - speech.n_frames;
    assert!(
        (27..=31).contains(&silent_frames),
        "{silent_frames} frames dropped"
    );
    assert!(kept.contains(&0) && kept.contains(&(whole.n_frames - 1)));
    for row in 0..whole.n_features {
        let expected: Vec<f32> = kept.iter().map(|&col| whole.row(row)[col]).collect();
        assert_eq!(speech.row(row), expected.as_slice(), "row {row}");
    }

    // Digital silence is all at the loudest level: nothing is dropped.
    let quiet = extract(&config, vec![0.0; 8000], rate as u32);
    assert_eq!(quiet.n_frames, expected_frames(8000, 512));

    config.silence = Some(SilenceConfig {
        top_db: 0.0,
        ..SilenceConfig::default()
    });
    let error = config
        .extract(&Audio::new(samples, rate as u32))
        .unwrap_err();
    assert!(error.to_string().contains("silence.top_db"), "{error}");
}

/// Silence, tone, a pause, tone, silence: with `edges_only` the features are the whole
/// signal's from the first to the last loud frame, pause included; more silence around the
/// recording changes nothing but the frames' alignment.
#[test]
fn edge_silence_is_dropped_and_pauses_kept() {
    let rate = 16_000usize;
    let tone = |n: usize| tone_220(rate, n);
    let quiet = |n: usize| vec![0.0f32; n];
    let samples: Vec<f32> = [
        quiet(rate),
        tone(rate / 2),
        quiet(rate / 2),
        tone(rate / 2),
        quiet(rate),
    ]
    .concat();
    let mut config = native_rate_config(FeatureKind::All);
    let whole = extract(&config, samples.clone(), rate as u32);
    config.silence = Some(SilenceConfig {
        top_db: 30.0,
        edges_only: true,
    });
    let trimmed = extract(&config, samples.clone(), rate as u32);
    let loud = ser_audio::non_silent_frames(&samples, 2048, 512, 30.0, None);
    let first = loud.iter().position(|&l| l).unwrap();
    let last = loud.iter().rposition(|&l| l).unwrap();
    assert!(
        loud[first..=last].iter().any(|&l| !l),
        "the pause is silent"
    );
    assert_eq!(trimmed.n_frames, last - first + 1);
    // About 1 s of silence (31 frames) goes at each end.
    assert!(
        first >= 27 && whole.n_frames - 1 - last >= 27,
        "{first}, {last}"
    );
    for row in 0..whole.n_features {
        assert_eq!(trimmed.row(row), &whole.row(row)[first..=last], "row {row}");
    }
    assert!(
        config
            .describe()
            .ends_with("leading and trailing frames more than 30 dB below the loudest dropped")
    );
    // Half a second more silence on either side (a whole number of hops) changes nothing.
    let padded: Vec<f32> = [quiet(8192), samples.clone(), quiet(8192)].concat();
    assert_eq!(extract(&config, padded, rate as u32), trimmed);
    // Off, the option leaves the serialised form (and the feature cache keys) as before.
    let speech = SilenceConfig::default();
    assert_eq!(
        serde_json::to_string(&speech).unwrap(),
        r#"{"top_db":30.0}"#
    );
}

#[test]
fn chroma_can_be_left_out() {
    let mut config = native_rate_config(FeatureKind::All);
    let with_chroma = config.n_features();
    config.spectral.n_chroma = 0;
    let names = config.feature_names();
    assert_eq!(names.len(), with_chroma - 12);
    assert!(!names.iter().any(|name| name.starts_with("chroma")));
    assert_eq!(names.last().map(String::as_str), Some("voiced_prob"));
    let matrix = extract(&config, vec![0.1; 4096], 16_000);
    assert_eq!(matrix.n_features, names.len());
    assert!(!config.describe().contains("chroma"));
    config.silence = Some(SilenceConfig {
        top_db: 30.0,
        ..SilenceConfig::default()
    });
    assert!(
        config
            .describe()
            .ends_with("frames within 30 dB of the loudest")
    );
}

/// Configurations that analyse one signal together (an ensemble's feature sets) share its
/// spectrograms and pitch tracks, and each gets exactly what it gets alone.
#[test]
fn shared_analysis_changes_no_value() {
    let audio = ser_audio::signals::mix(
        &ser_audio::signals::melody(16_000, 1.5, -12.0),
        &ser_audio::signals::white_noise(16_000, 1.5, -40.0, 3),
    );
    let every_frame = native_rate_config(FeatureKind::All);
    let mut speech_frames = every_frame.clone();
    speech_frames.mfcc.n_mfcc = 13;
    speech_frames.spectral.n_chroma = 0;
    speech_frames.silence = Some(SilenceConfig {
        top_db: 30.0,
        ..SilenceConfig::default()
    });
    speech_frames.voice_quality = true;
    let mut other_hop = every_frame.clone();
    other_hop.stft.hop_length = 256;
    let mut pyin = every_frame.clone();
    pyin.pitch.method = PitchMethod::Pyin;
    let mut semitones = pyin.clone();
    semitones.pitch.unit = PitchUnit::Semitones;
    let mut intonation = every_frame.clone();
    intonation.intonation = Some(semitones.pitch);
    let mfcc = native_rate_config(FeatureKind::Mfcc);
    let configs = [
        every_frame,
        speech_frames,
        other_hop,
        pyin,
        semitones,
        intonation,
        mfcc,
    ];
    let sr = f64::from(audio.sample_rate);
    let mut shared = SharedAnalysis::new(&audio.samples, sr);
    for config in &configs {
        let together = config.extract_shared(&mut shared).unwrap();
        let alone = config.extract_prepared(&audio.samples, sr).unwrap();
        assert_eq!(together, alone, "{}", config.describe());
    }
    // From the recording: another sample rate is prepared apart, the rest share theirs.
    let mut resampled = configs[0].clone();
    resampled.audio.sample_rate = Some(22_050);
    let configs = [configs.to_vec(), vec![resampled]].concat();
    let each = FeatureConfig::extract_each(&configs, &audio).unwrap();
    assert_eq!(each.len(), configs.len());
    for (config, matrix) in configs.iter().zip(&each) {
        assert_eq!(
            matrix,
            &config.extract(&audio).unwrap(),
            "{}",
            config.describe()
        );
    }
}
