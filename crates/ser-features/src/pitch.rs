//! Fundamental frequency: plain YIN (`librosa.yin`) and probabilistic YIN with HMM Viterbi
//! decoding (`librosa.pyin`), ported step by step from librosa 0.11.

use realfft::num_complex::Complex;
use serde::{Deserialize, Serialize};

use crate::FeatureError;
use crate::stft::{PadMode, forward_plan, framed_signal, inverse_plan};

/// C2 and C7, the range librosa's documentation uses for speech and song.
pub const DEFAULT_FMIN: f64 = 65.406_391_325_149_66;
pub const DEFAULT_FMAX: f64 = 2_093.004_522_404_789;

/// Parameters shared by YIN and pYIN, named as librosa names them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct YinConfig {
    pub fmin: f64,
    pub fmax: f64,
    pub frame_length: usize,
    /// `None` = frame_length / 4.
    pub hop_length: Option<usize>,
    pub center: bool,
}

impl Default for YinConfig {
    fn default() -> Self {
        Self {
            fmin: DEFAULT_FMIN,
            fmax: DEFAULT_FMAX,
            frame_length: 2048,
            hop_length: None,
            center: true,
        }
    }
}

/// pYIN's probabilistic parameters (librosa defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PyinConfig {
    pub n_thresholds: usize,
    pub beta_parameters: (f64, f64),
    pub boltzmann_parameter: f64,
    /// Pitch-bin resolution in semitones.
    pub resolution: f64,
    /// Largest pitch change, in octaves per second.
    pub max_transition_rate: f64,
    pub switch_prob: f64,
    pub no_trough_prob: f64,
}

impl Default for PyinConfig {
    fn default() -> Self {
        Self {
            n_thresholds: 100,
            beta_parameters: (2.0, 18.0),
            boltzmann_parameter: 2.0,
            resolution: 0.1,
            max_transition_rate: 35.92,
            switch_prob: 0.01,
            no_trough_prob: 0.01,
        }
    }
}

/// pYIN output per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PyinOutput {
    /// F0 in Hz; NaN where unvoiced (librosa's `fill_na=np.nan`).
    pub f0: Vec<f64>,
    pub voiced_flag: Vec<bool>,
    pub voiced_prob: Vec<f64>,
}

/// Parabolic-interpolation offset of a local extremum at the middle of three samples
/// (librosa's `_pi_stencil`).
pub(crate) fn parabolic_shift(left: f64, middle: f64, right: f64) -> f64 {
    let a = right + left - 2.0 * middle;
    let b = (right - left) / 2.0;
    if b.abs() >= a.abs() { 0.0 } else { -b / a }
}

/// Frames of cumulative-mean-normalised differences (index 0 = lag `min_period`) plus their
/// parabolic shifts, shared by YIN and pYIN.
struct YinFrames {
    min_period: usize,
    /// Per frame: normalised difference for lags min_period..=max_period.
    values: Vec<Vec<f64>>,
    shifts: Vec<Vec<f64>>,
}

impl YinConfig {
    pub(crate) fn hop(&self) -> usize {
        self.hop_length.unwrap_or(self.frame_length / 4)
    }

    pub(crate) fn validate(&self, sr: f64) -> Result<(), FeatureError> {
        if self.fmax > sr / 2.0 {
            return Err(FeatureError::invalid(format!(
                "fmax={:.3} cannot exceed the Nyquist frequency {}",
                self.fmax,
                sr / 2.0
            )));
        }
        if !(self.fmin > 0.0 && self.fmin < self.fmax) {
            return Err(FeatureError::invalid(format!(
                "pitch range needs 0 < fmin < fmax (got fmin={:.3}, fmax={:.3})",
                self.fmin, self.fmax
            )));
        }
        if sr / self.fmin >= self.frame_length as f64 - 1.0 {
            return Err(FeatureError::invalid(format!(
                "fmin={:.3} is too small for frame_length={} at sr={sr}: raise fmin to {:.3}",
                self.fmin,
                self.frame_length,
                sr / (self.frame_length as f64 - 1.0)
            )));
        }
        if self.hop() == 0 {
            return Err(FeatureError::invalid("hop_length must be positive"));
        }
        Ok(())
    }

    fn yin_frames(&self, y: &[f32], sr: f64) -> Result<YinFrames, FeatureError> {
        self.validate(sr)?;
        let frame_length = self.frame_length;
        let hop = self.hop();
        let (signal, n_frames) =
            framed_signal(y, frame_length, hop, self.center, PadMode::Constant)?;
        let min_period = (sr / self.fmax).floor() as usize;
        let max_period = ((sr / self.fmin).ceil() as usize).min(frame_length - 1);
        let autocorrelation = Autocorrelation::new(frame_length);
        let mut values = Vec::with_capacity(n_frames);
        let mut shifts = Vec::with_capacity(n_frames);
        for t in 0..n_frames {
            let frame = &signal[t * hop..t * hop + frame_length];
            let yin = normalized_difference(
                frame,
                &autocorrelation.compute(frame, max_period + 1)?,
                min_period,
                max_period,
            );
            let mut shift = vec![0.0; yin.len()];
            for i in 1..yin.len().saturating_sub(1) {
                shift[i] = parabolic_shift(yin[i - 1], yin[i], yin[i + 1]);
            }
            values.push(yin);
            shifts.push(shift);
        }
        Ok(YinFrames {
            min_period,
            values,
            shifts,
        })
    }
}

/// FFT autocorrelation (`librosa.autocorrelate`) with reusable plans.
pub(crate) struct Autocorrelation {
    size: usize,
}

impl Autocorrelation {
    pub(crate) fn new(frame_length: usize) -> Self {
        Self {
            size: (2 * frame_length - 1).next_power_of_two(),
        }
    }

    pub(crate) fn compute(&self, frame: &[f64], max_size: usize) -> Result<Vec<f64>, FeatureError> {
        let forward = forward_plan(self.size);
        let inverse = inverse_plan(self.size);
        let mut input = vec![0.0; self.size];
        input[..frame.len()].copy_from_slice(frame);
        let mut spectrum = forward.make_output_vec();
        let fft_error = |error| FeatureError::invalid(format!("FFT failed: {error}"));
        forward
            .process(&mut input, &mut spectrum)
            .map_err(fft_error)?;
        spectrum
            .iter_mut()
            .for_each(|c| *c = Complex::new(c.norm_sqr(), 0.0));
        let mut output = inverse.make_output_vec();
        inverse
            .process(&mut spectrum, &mut output)
            .map_err(fft_error)?;
        let scale = self.size as f64;
        Ok(output[..max_size].iter().map(|v| v / scale).collect())
    }
}

/// librosa's `_cumulative_mean_normalized_difference` for one frame.
fn normalized_difference(
    frame: &[f64],
    acf: &[f64],
    min_period: usize,
    max_period: usize,
) -> Vec<f64> {
    let mut energy = Vec::with_capacity(max_period);
    let mut running = 0.0;
    for x in &frame[..max_period] {
        running += x * x;
        energy.push(running);
    }
    // librosa zeroes the first energy term before using it (`yin_frames[..., 0, :] = 0`).
    energy[0] = 0.0;
    // difference[tau] for tau = 1..=max_period (librosa's approximation of the YIN difference).
    let difference: Vec<f64> = (1..=max_period)
        .map(|tau| 2.0 * (acf[0] - acf[tau]) - energy[tau - 1])
        .collect();
    let mut cumulative = Vec::with_capacity(max_period);
    let mut sum = 0.0;
    for (i, d) in difference.iter().enumerate() {
        sum += d;
        cumulative.push(sum / (i + 1) as f64);
    }
    (min_period..=max_period)
        .map(|tau| difference[tau - 1] / (cumulative[tau - 1] + f64::MIN_POSITIVE))
        .collect()
}

/// `util.localmin` along lags with librosa's override for the first lag.
fn troughs(yin: &[f64]) -> Vec<bool> {
    let n = yin.len();
    (0..n)
        .map(|i| {
            if i == 0 {
                n > 1 && yin[0] < yin[1]
            } else {
                yin[i] < yin[i - 1] && yin[i] <= yin[(i + 1).min(n - 1)]
            }
        })
        .collect()
}

/// `librosa.yin(y, fmin, fmax, sr, frame_length, hop_length, trough_threshold, center)`.
pub fn yin(
    y: &[f32],
    sr: f64,
    config: &YinConfig,
    trough_threshold: f64,
) -> Result<Vec<f64>, FeatureError> {
    let frames = config.yin_frames(y, sr)?;
    Ok(frames
        .values
        .iter()
        .zip(&frames.shifts)
        .map(|(yin, shift)| {
            let is_trough = troughs(yin);
            let first_below = (0..yin.len()).find(|&i| is_trough[i] && yin[i] < trough_threshold);
            let index = first_below.unwrap_or_else(|| argmin(yin));
            sr / (frames.min_period as f64 + index as f64 + shift[index])
        })
        .collect())
}

fn argmin(values: &[f64]) -> usize {
    (0..values.len()).fold(0, |best, i| if values[i] < values[best] { i } else { best })
}

/// Regularised incomplete beta function I_x(a, b) (= scipy.stats.beta.cdf), by Lentz's
/// continued fraction.
fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let log_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        log_front.exp() * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - log_front.exp() * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    d = if d.abs() < TINY { TINY } else { d };
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=10_000 {
        let m = f64::from(m);
        for numerator in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + numerator * d;
            d = if d.abs() < TINY { TINY } else { d };
            c = 1.0 + numerator / c;
            c = if c.abs() < TINY { TINY } else { c };
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = COEFFICIENTS[1..]
        .iter()
        .enumerate()
        .fold(COEFFICIENTS[0], |acc, (i, c)| {
            acc + c / (x + i as f64 + 1.0)
        });
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// Banded pitch transition matrix (`librosa.sequence.transition_local(n, width,
/// window="triangle", wrap=False)`): for each row its first non-zero column and weights.
fn local_transition(n_states: usize, width: usize) -> Result<Vec<(usize, Vec<f64>)>, FeatureError> {
    if n_states < 2 || width == 0 || width > n_states {
        return Err(FeatureError::invalid(format!(
            "pitch transition width {width} does not fit {n_states} pitch bins: widen fmin..fmax"
        )));
    }
    // scipy.signal.get_window("triangle", width, fftbins=False) = scipy.signal.windows.triang.
    let triangle: Vec<f64> = (1..=width)
        .map(|n| {
            let n = n as f64;
            let w = width as f64;
            if width % 2 == 1 {
                1.0 - (2.0 * n - (w + 1.0)).abs() / (w + 1.0)
            } else {
                1.0 - (2.0 * n - (w + 1.0)).abs() / w
            }
        })
        .collect();
    let offset = (n_states - width) / 2;
    let mut centred = vec![0.0; n_states];
    centred[offset..offset + width].copy_from_slice(&triangle);
    let mut rows = Vec::with_capacity(n_states);
    for i in 0..n_states {
        let shift = (n_states / 2 + i + 1) % n_states;
        let low = i.saturating_sub(width / 2);
        let high = (i + width / 2 + 1).min(n_states);
        // np.roll(row, shift): out[j] = in[(j - shift) mod n].
        let row: Vec<f64> = (low..high)
            .map(|j| centred[(j + n_states - shift) % n_states])
            .collect();
        let total: f64 = row.iter().sum();
        let first = row.iter().position(|&v| v != 0.0).unwrap_or(0);
        let last = row.iter().rposition(|&v| v != 0.0).map_or(first, |l| l + 1);
        rows.push((
            low + first,
            row[first..last].iter().map(|v| v / total).collect(),
        ));
    }
    Ok(rows)
}

#[derive(Clone, Copy)]
struct Best {
    value: f64,
    index: usize,
}

impl Best {
    const NONE: Best = Best {
        value: f64::NEG_INFINITY,
        index: usize::MAX,
    };

    /// numpy argmax semantics: larger value wins, ties go to the smaller index.
    fn offer(&mut self, value: f64, index: usize) {
        if value > self.value || (value == self.value && index < self.index) {
            *self = Best { value, index };
        }
    }
}

/// `librosa.sequence.viterbi` for pYIN's state space (voiced pitch bins, then unvoiced ones)
/// with transition `kron([[1-s, s], [s, 1-s]], pitch_transition)`. Zero transitions contribute
/// `log(tiny)` exactly as in librosa's dense computation, found here with prefix/suffix maxima
/// instead of a dense N^2 scan.
fn viterbi_pyin(
    observations: &[Vec<f64>],
    pitch: &[(usize, Vec<f64>)],
    switch_prob: f64,
) -> Vec<usize> {
    let n_pitch = pitch.len();
    let n_states = 2 * n_pitch;
    let tiny = f64::MIN_POSITIVE;
    let log_zero = tiny.ln();
    let switch = [
        [1.0 - switch_prob, switch_prob],
        [switch_prob, 1.0 - switch_prob],
    ];
    // Column view of the pitch transition: for target p, (source p', weight) pairs.
    let mut columns: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n_pitch];
    for (source, (start, weights)) in pitch.iter().enumerate() {
        for (k, weight) in weights.iter().enumerate() {
            columns[start + k].push((source, *weight));
        }
    }
    let log_init = (1.0 / n_states as f64 + tiny).ln();
    let mut value: Vec<f64> = observations[0]
        .iter()
        .map(|p| (p + tiny).ln() + log_init)
        .collect();
    let mut pointers: Vec<Vec<usize>> = Vec::with_capacity(observations.len());
    pointers.push(Vec::new());
    let mut next = vec![0.0; n_states];
    for observation in &observations[1..] {
        // Prefix/suffix maxima per voicing block for the zero-transition candidates.
        let mut prefix = vec![[Best::NONE; 2]; n_pitch + 1];
        let mut suffix = vec![[Best::NONE; 2]; n_pitch + 1];
        for block in 0..2 {
            for p in 0..n_pitch {
                let mut best = prefix[p][block];
                best.offer(value[block * n_pitch + p], block * n_pitch + p);
                prefix[p + 1][block] = best;
            }
            for p in (0..n_pitch).rev() {
                let mut best = suffix[p + 1][block];
                best.offer(value[block * n_pitch + p], block * n_pitch + p);
                suffix[p][block] = best;
            }
        }
        let mut step_pointers = vec![0usize; n_states];
        for target_block in 0..2 {
            for (p, sources) in columns.iter().enumerate() {
                let target = target_block * n_pitch + p;
                let mut best = Best::NONE;
                let (low, high) = match (sources.first(), sources.last()) {
                    (Some(first), Some(last)) => (first.0, last.0 + 1),
                    _ => (n_pitch, n_pitch),
                };
                for (source_block, switch_row) in switch.iter().enumerate() {
                    let factor = switch_row[target_block];
                    for &(source, weight) in sources {
                        let index = source_block * n_pitch + source;
                        best.offer(value[index] + (factor * weight + tiny).ln(), index);
                    }
                    for outside in [
                        prefix[low.min(n_pitch)][source_block],
                        suffix[high.min(n_pitch)][source_block],
                    ] {
                        if outside.index != usize::MAX {
                            best.offer(outside.value + log_zero, outside.index);
                        }
                    }
                }
                next[target] = best.value + (observation[target] + tiny).ln();
                step_pointers[target] = best.index;
            }
        }
        std::mem::swap(&mut value, &mut next);
        pointers.push(step_pointers);
    }
    let mut states = vec![0usize; observations.len()];
    let last = (0..n_states).fold(Best::NONE, |mut best, i| {
        best.offer(value[i], i);
        best
    });
    states[observations.len() - 1] = last.index;
    for t in (0..observations.len() - 1).rev() {
        states[t] = pointers[t + 1][states[t + 1]];
    }
    states
}

/// `librosa.pyin(y, fmin, fmax, sr, frame_length, hop_length, ...)`.
pub fn pyin(
    y: &[f32],
    sr: f64,
    config: &YinConfig,
    params: &PyinConfig,
) -> Result<PyinOutput, FeatureError> {
    if params.n_thresholds == 0 || !(params.resolution > 0.0 && params.resolution <= 1.0) {
        return Err(FeatureError::invalid(
            "pyin needs n_thresholds >= 1 and 0 < resolution <= 1",
        ));
    }
    if !(0.0..=1.0).contains(&params.switch_prob) || !(0.0..=1.0).contains(&params.no_trough_prob) {
        return Err(FeatureError::invalid(
            "pyin probabilities must lie in [0, 1]",
        ));
    }
    let frames = config.yin_frames(y, sr)?;
    let thresholds: Vec<f64> = crate::mel::linspace(0.0, 1.0, params.n_thresholds + 1);
    let (alpha, beta) = params.beta_parameters;
    let beta_cdf_values: Vec<f64> = thresholds
        .iter()
        .map(|&x| beta_cdf(x, alpha, beta))
        .collect();
    let beta_probs: Vec<f64> = beta_cdf_values.windows(2).map(|w| w[1] - w[0]).collect();

    let bins_per_semitone = (1.0 / params.resolution).ceil() as usize;
    let n_pitch =
        (12.0 * bins_per_semitone as f64 * (config.fmax / config.fmin).log2()).floor() as usize + 1;
    let hop = config.hop();
    let max_semitones_per_frame =
        (params.max_transition_rate * 12.0 * hop as f64 / sr).round() as usize;
    let transition_width = max_semitones_per_frame * bins_per_semitone + 1;
    let pitch_transition = local_transition(n_pitch, transition_width)?;

    let mut observations = Vec::with_capacity(frames.values.len());
    let mut voiced_prob = Vec::with_capacity(frames.values.len());
    for (yin, shift) in frames.values.iter().zip(&frames.shifts) {
        let probs = trough_probabilities(yin, &thresholds[1..], &beta_probs, params);
        let mut observation = vec![0.0; 2 * n_pitch];
        for (lag, prob) in probs.iter().enumerate().filter(|(_, p)| **p != 0.0) {
            let period = frames.min_period as f64 + lag as f64 + shift[lag];
            let f0 = sr / period;
            let bin =
                (12.0 * bins_per_semitone as f64 * (f0 / config.fmin).log2()).round_ties_even();
            let bin = bin.clamp(0.0, n_pitch as f64) as usize;
            // librosa writes bin == n_pitch into the first unvoiced row, overwritten below.
            if bin < n_pitch {
                observation[bin] = *prob;
            }
        }
        let voiced = observation[..n_pitch].iter().sum::<f64>().clamp(0.0, 1.0);
        observation[n_pitch..].fill((1.0 - voiced) / n_pitch as f64);
        observations.push(observation);
        voiced_prob.push(voiced);
    }
    let states = viterbi_pyin(&observations, &pitch_transition, params.switch_prob);
    let f0 = states
        .iter()
        .map(|&state| {
            if state < n_pitch {
                config.fmin * 2f64.powf(state as f64 / (12 * bins_per_semitone) as f64)
            } else {
                f64::NAN
            }
        })
        .collect();
    Ok(PyinOutput {
        f0,
        voiced_flag: states.iter().map(|&state| state < n_pitch).collect(),
        voiced_prob,
    })
}

/// pYIN's per-lag probability of being the period (librosa's `__pyin_helper`, one frame).
fn trough_probabilities(
    yin: &[f64],
    thresholds: &[f64],
    beta_probs: &[f64],
    params: &PyinConfig,
) -> Vec<f64> {
    let mut probs = vec![0.0; yin.len()];
    let trough_lags: Vec<usize> = troughs(yin)
        .iter()
        .enumerate()
        .filter_map(|(lag, &is_trough)| is_trough.then_some(lag))
        .collect();
    if trough_lags.is_empty() {
        return probs;
    }
    let lambda = params.boltzmann_parameter;
    let mut prior = vec![0.0; trough_lags.len()];
    for (threshold, beta_prob) in thresholds.iter().zip(beta_probs) {
        let below: Vec<usize> = (0..trough_lags.len())
            .filter(|&i| yin[trough_lags[i]] < *threshold)
            .collect();
        let n_troughs = below.len() as f64;
        let normaliser = (1.0 - (-lambda).exp()) / (1.0 - (-lambda * n_troughs).exp());
        for (position, &i) in below.iter().enumerate() {
            prior[i] += normaliser * (-lambda * position as f64).exp() * beta_prob;
        }
    }
    let heights: Vec<f64> = trough_lags.iter().map(|&lag| yin[lag]).collect();
    let global_min = argmin(&heights);
    let n_below_min = thresholds
        .iter()
        .filter(|&&t| t <= heights[global_min])
        .count();
    prior[global_min] += params.no_trough_prob * beta_probs[..n_below_min].iter().sum::<f64>();
    for (&lag, p) in trough_lags.iter().zip(prior) {
        probs[lag] = p;
    }
    probs
}
