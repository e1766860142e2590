//! The eGeMAPS voice-quality descriptors against values known in closed form: tones of set
//! levels, spectra of set slopes, a harmonic signal in noise of a set SNR.

use ser_audio::Audio;
use ser_audio::signals::{mix, silence, tone, white_noise};
use ser_features::*;

const SR: u32 = 22_050;
const N_FFT: usize = 2048;

/// A frequency on an FFT bin centre, so a Hann-windowed tone peaks at exactly its amplitude.
fn bin_hz(bin: usize) -> f64 {
    bin as f64 * f64::from(SR) / N_FFT as f64
}

fn magnitude(audio: &Audio) -> Matrix {
    spectrogram(&audio.samples, &StftConfig::default(), 1.0).unwrap()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Frames of a row away from the signal's edges (centred frames there see zero padding).
fn middle(row: &Matrix) -> Vec<f64> {
    row.data[4..row.cols - 4].to_vec()
}

#[test]
fn alpha_ratio_and_hammarberg_index_are_level_differences_of_two_tones() {
    // 20 dB between a tone at ~495 Hz and one at ~3 kHz (the 1-5 and 2-5 kHz bands).
    let audio = mix(
        &tone(SR, 1.0, bin_hz(46), -10.0),
        &tone(SR, 1.0, bin_hz(279), -30.0),
    );
    let s = magnitude(&audio);
    for value in middle(&alpha_ratio(&s, f64::from(SR), N_FFT).unwrap()) {
        assert!((value - 20.0).abs() < 0.05, "alpha ratio {value}");
    }
    for value in middle(&hammarberg_index(&s, f64::from(SR), N_FFT).unwrap()) {
        assert!((value - 20.0).abs() < 0.05, "Hammarberg index {value}");
    }
    // The other way round, and silence gives no difference at all.
    let flipped = mix(
        &tone(SR, 1.0, bin_hz(46), -30.0),
        &tone(SR, 1.0, bin_hz(279), -10.0),
    );
    let value = median(
        &alpha_ratio(&magnitude(&flipped), f64::from(SR), N_FFT)
            .unwrap()
            .data,
    );
    assert!((value + 20.0).abs() < 0.05, "alpha ratio {value}");
    let quiet = magnitude(&silence(SR, 0.5));
    assert!(
        alpha_ratio(&quiet, f64::from(SR), N_FFT)
            .unwrap()
            .data
            .iter()
            .all(|v| *v == 0.0)
    );
}

#[test]
fn spectral_slope_is_the_slope_of_the_spectrum_in_db_per_khz() {
    let freqs: Vec<f64> = (0..=N_FFT / 2).map(bin_hz).collect();
    // Two frames: the power spectrum falls by 12 dB per kHz, then rises by 3.
    let column = |db_per_khz: f64| -> Vec<f64> {
        freqs
            .iter()
            .map(|f| 10f64.powf(db_per_khz * f / 1000.0 / 20.0))
            .collect()
    };
    let (falling, rising) = (column(-12.0), column(3.0));
    let s = Matrix {
        rows: freqs.len(),
        cols: 2,
        data: falling
            .iter()
            .zip(&rising)
            .flat_map(|(a, b)| [*a, *b])
            .collect(),
    };
    for (low, high) in [(0.0, 500.0), (500.0, 1500.0)] {
        let slope = spectral_slope(&s, f64::from(SR), N_FFT, low, high).unwrap();
        assert!((slope.data[0] + 12.0).abs() < 1e-6, "{:?}", slope.data);
        assert!((slope.data[1] - 3.0).abs() < 1e-6, "{:?}", slope.data);
    }
    let error = spectral_slope(&s, f64::from(SR), N_FFT, 100.0, 105.0).unwrap_err();
    assert!(error.to_string().contains("two bins"), "{error}");
    assert!(spectral_slope(&s, f64::from(SR), 1024, 0.0, 500.0).is_err());
}

#[test]
fn spectral_flux_measures_how_much_the_spectrum_shape_changes() {
    let s = Matrix {
        rows: 2,
        cols: 4,
        // Per frame (columns): [1, 1], [2, 2] (the same shape, louder), [1, 0], [0, 0].
        data: vec![1.0, 2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0],
    };
    let flux = spectral_flux(&s).data;
    assert_eq!(flux[0], 0.0);
    assert_eq!(flux[1], 0.0);
    assert!((flux[2] - 0.5f64.sqrt()).abs() < 1e-12, "{flux:?}");
    assert_eq!(flux[3], 0.0);
}

#[test]
fn harmonics_to_noise_ratio_follows_the_snr_of_a_tone_in_noise() {
    let config = YinConfig {
        hop_length: Some(512),
        ..YinConfig::default()
    };
    let sr = f64::from(SR);
    let hnr = |audio: &Audio| median(&harmonics_to_noise(&audio.samples, sr, &config).unwrap());
    for snr_db in [0.0, 10.0] {
        let audio = mix(
            &tone(SR, 2.0, 200.0, -20.0),
            &white_noise(SR, 2.0, -20.0 - snr_db, 7),
        );
        let value = hnr(&audio);
        assert!((value - snr_db).abs() < 1.5, "SNR {snr_db} dB: HNR {value}");
    }
    assert!((hnr(&tone(SR, 1.0, 200.0, -20.0)) - voice::HNR_LIMIT_DB).abs() < 1e-9);
    assert!((hnr(&silence(SR, 1.0)) + voice::HNR_LIMIT_DB).abs() < 1e-9);
    assert!(hnr(&white_noise(SR, 1.0, -20.0, 1)) < -5.0);
}

#[test]
fn voice_quality_rows_follow_the_pitch_and_stay_out_of_old_configurations() {
    let mut config = FeatureConfig {
        kind: FeatureKind::All,
        ..FeatureConfig::default()
    };
    let plain = config.clone();
    config.voice_quality = true;
    let names = config.feature_names();
    assert_eq!(names.len(), plain.n_features() + 6);
    assert_eq!(
        &names[plain.n_features()..],
        [
            "alpha_ratio",
            "hammarberg_index",
            "spectral_slope_0_500",
            "spectral_slope_500_1500",
            "spectral_flux",
            "hnr"
        ]
    );
    assert!(config.describe().contains("voice quality"));
    // Off, the field is not written: old configurations (and feature cache keys) keep their bytes.
    assert!(
        !serde_json::to_string(&plain)
            .unwrap()
            .contains("voice_quality")
    );
    let read: FeatureConfig =
        serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
    assert_eq!(read, config);

    let audio = mix(
        &tone(16_000, 1.0, 200.0, -20.0),
        &white_noise(16_000, 1.0, -30.0, 2),
    );
    let with = config.extract(&audio).unwrap();
    let without = plain.extract(&audio).unwrap();
    assert_eq!(with.n_features, names.len());
    assert_eq!(with.n_frames, without.n_frames);
    // The first rows are the features without voice quality, unchanged.
    assert_eq!(
        &with.data[..without.data.len()],
        &without.data[..],
        "the rows before the voice-quality ones"
    );
    let hnr: Vec<f64> = with.data[(with.n_features - 1) * with.n_frames..]
        .iter()
        .map(|v| f64::from(*v))
        .collect();
    assert!((median(&hnr) - 10.0).abs() < 1.5, "HNR {}", median(&hnr));

    let mut mfcc_only = config.clone();
    mfcc_only.kind = FeatureKind::Mfcc;
    let error = mfcc_only.extract(&audio).unwrap_err();
    assert!(error.to_string().contains("voice_quality"), "{error}");
}
