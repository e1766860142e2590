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

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            items.swap(index, self.below(index + 1));
        }
    }
}
