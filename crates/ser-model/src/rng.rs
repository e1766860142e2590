//! A small deterministic generator (SplitMix64): shuffling and augmentation draws are a pure
//! function of (seed, epoch, step), so a resumed run repeats exactly what an uninterrupted one
//! would have done without storing generator state.

#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator for one stream, e.g. `for_stream(seed, &[epoch, step])`.
    pub(crate) fn for_stream(seed: u64, stream: &[u64]) -> Self {
        let mut generator = Self(seed);
        for &part in stream {
            generator.0 ^= part.wrapping_mul(0xD1B5_4A32_D192_ED03);
            generator.next_u64();
        }
        generator
    }

    /// A stream part naming something by text (a speaker, a file), the same on every machine
    /// and in every order of the data (FNV-1a).
    pub(crate) fn name_id(name: &str) -> u64 {
        name.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3)
        })
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound` > 0).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A draw from the symmetric Beta(alpha, alpha) distribution, `alpha` in (0, 1] (Jöhnk's
    /// method: exact, and quick for such alphas, where most mass sits near 0 and 1).
    pub(crate) fn beta_symmetric(&mut self, alpha: f64) -> f64 {
        loop {
            // Logarithms keep x + y meaningful when both powers underflow.
            let log_x = self.unit().max(f64::MIN_POSITIVE).ln() / alpha;
            let log_y = self.unit().max(f64::MIN_POSITIVE).ln() / alpha;
            let log_sum = log_x.max(log_y) + (-(log_x - log_y).abs()).exp().ln_1p();
            if log_sum <= 0.0 {
                return (log_x - log_sum).exp();
            }
        }
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            items.swap(index, self.below(index + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Beta(a, a) has mean 1/2 and variance 1 / (4 (2a + 1)).
    #[test]
    fn symmetric_beta_draws_have_the_beta_moments() {
        for alpha in [0.2, 0.5, 1.0] {
            let mut rng = SplitMix64::for_stream(7, &[]);
            let draws: Vec<f64> = (0..200_000).map(|_| rng.beta_symmetric(alpha)).collect();
            assert!(draws.iter().all(|x| (0.0..=1.0).contains(x)));
            let mean = draws.iter().sum::<f64>() / draws.len() as f64;
            let variance =
                draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws.len() as f64;
            let expected = 1.0 / (4.0 * (2.0 * alpha + 1.0));
            assert!((mean - 0.5).abs() < 0.005, "alpha {alpha}: mean {mean}");
            assert!(
                (variance - expected).abs() < 0.004,
                "alpha {alpha}: variance {variance} vs {expected}"
            );
        }
    }
}
