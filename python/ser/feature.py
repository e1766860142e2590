"""librosa-compatible features: same names, keyword arguments, defaults, shapes and dtypes as
``librosa.feature`` (plus ``power_to_db``, ``yin`` and ``pyin``), computed by ser-features.

Replacing ``librosa.feature`` by ``ser.feature`` gives the same arrays within ser's parity
tolerance. Inputs are mono (1-D ``y``) or 2-D spectrograms ``S``; parameter values ser does
not implement raise ``NotImplementedError`` naming the supported ones.
"""

from ser._ser import (
    chroma_stft,
    delta,
    melspectrogram,
    mfcc,
    power_to_db,
    pyin,
    rms,
    spectral_bandwidth,
    spectral_centroid,
    spectral_contrast,
    spectral_flatness,
    spectral_rolloff,
    yin,
    zero_crossing_rate,
)

__all__ = [
    "chroma_stft",
    "delta",
    "melspectrogram",
    "mfcc",
    "power_to_db",
    "pyin",
    "rms",
    "spectral_bandwidth",
    "spectral_centroid",
    "spectral_contrast",
    "spectral_flatness",
    "spectral_rolloff",
    "yin",
    "zero_crossing_rate",
]
