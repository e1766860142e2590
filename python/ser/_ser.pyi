"""Type stubs of the native module ``ser._ser`` (see ``ser`` and ``ser.feature``)."""

import os
from typing import Any, BinaryIO, Callable, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
AUDIO_EXTENSIONS: list[str]

AudioSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]
Window = Literal["hann", "hamming", "blackman", "boxcar"]
PadMode = Literal["constant", "edge", "reflect"]
Segmenting = Literal["auto", "always", "never"]
Prediction = dict[str, Any]

class AudioError(ValueError):
    """Audio that cannot be decoded or used; the message names the file and the reason."""

class ModelError(ValueError):
    """A model bundle that cannot be loaded, or a model that fails to predict or train."""

def load(
    path: AudioSource,
    *,
    sr: Optional[float] = 22050,
    mono: bool = True,
    offset: float = 0.0,
    duration: Optional[float] = None,
    dtype: npt.DTypeLike = np.float32,
    res_type: str = "soxr_hq",
) -> Tuple[np.ndarray, int]:
    """Load an audio file as floating-point samples, like ``librosa.load``.

    ``path`` is a path, the bytes of a file, or a binary file object. The format is found
    from the content (WAV, AIFF, FLAC, MP3, Ogg/Vorbis, CAF, MP4/AAC/ALAC, MKV). ``offset``
    and ``duration`` cut at the native rate, then channels are averaged (``mono``) and
    resampled to ``sr`` (``None`` keeps the native rate). ``res_type`` is accepted for
    compatibility: ser always uses its own FFT sinc resampler, within ~2e-3 of soxr_hq.
    Returns ``(y, sr)``: ``y`` is 1-D, or ``(channels, samples)`` when ``mono=False`` and the
    file has several channels.

    Raises ``FileNotFoundError``/``OSError`` for unreadable paths, ``ser.AudioError`` for
    broken audio, ``ValueError`` for bad arguments.
    """

def mfcc(
    *,
    y: Optional[npt.ArrayLike] = None,
    sr: float = 22050,
    S: Optional[npt.ArrayLike] = None,
    n_mfcc: int = 20,
    dct_type: int = 2,
    norm: Optional[str] = "ortho",
    lifter: float = 0,
    mel_norm: Union[Literal["slaney"], float, None] = "slaney",
    **kwargs: Any,
) -> np.ndarray:
    """Mel-frequency cepstral coefficients, like ``librosa.feature.mfcc``: (n_mfcc, frames).

    ``S`` is a log-power mel spectrogram; otherwise ``y`` goes through ``melspectrogram``
    (``**kwargs``: n_fft, hop_length, win_length, window, center, pad_mode, power, n_mels,
    fmin, fmax, htk) and ``power_to_db``. Only dct_type=2 with norm='ortho' is implemented.
    """

def melspectrogram(
    *,
    y: Optional[npt.ArrayLike] = None,
    sr: float = 22050,
    S: Optional[npt.ArrayLike] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Window = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
    power: float = 2.0,
    **kwargs: Any,
) -> np.ndarray:
    """Mel spectrogram, like ``librosa.feature.melspectrogram``: (n_mels, frames).

    ``**kwargs`` go to the filterbank as in ``librosa.filters.mel``: n_mels=128, fmin=0.0,
    fmax=None (sr/2), htk=False, norm='slaney' (or a p-norm order, or None).
    """

def power_to_db(
    S: npt.ArrayLike,
    *,
    ref: Union[float, Callable[[np.ndarray], Any]] = 1.0,
    amin: float = 1e-10,
    top_db: Optional[float] = 80.0,
) -> np.ndarray:
    """Power to decibels, like ``librosa.power_to_db`` (any shape; ``ref`` may be ``np.max``)."""

def delta(
    data: npt.ArrayLike,
    *,
    width: int = 9,
    order: int = 1,
    axis: int = -1,
    mode: str = "interp",
) -> np.ndarray:
    """Savitzky-Golay derivative along the last axis, like ``librosa.feature.delta``."""

def rms(
    *,
    y: Optional[npt.ArrayLike] = None,
    S: Optional[npt.ArrayLike] = None,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    pad_mode: PadMode = "constant",
    dtype: npt.DTypeLike = np.float32,
) -> np.ndarray:
    """Root-mean-square energy per frame, like ``librosa.feature.rms``: (1, frames)."""

def zero_crossing_rate(
    y: npt.ArrayLike,
    *,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    **kwargs: Any,
) -> np.ndarray:
    """Zero-crossing rate per frame, like ``librosa.feature.zero_crossing_rate``: (1, frames),
    float64. ``**kwargs`` (threshold, ref_magnitude, pad, zero_pos, axis) keep librosa's
    defaults only."""

def spectral_centroid(
    *,
    y: Optional[npt.ArrayLike] = None,
    sr: float = 22050,
    S: Optional[npt.ArrayLike] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    freq: None = None,
    win_length: Optional[int] = None,
    window: Window = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
) -> np.ndarray:
    """Spectral centroid per frame, like ``librosa.feature.spectral_centroid``: (1, frames)."""

def spectral_bandwidth(
    *,
    y: Optional[npt.ArrayLike] = None,
    sr: float = 22050,
    S: Optional[npt.ArrayLike] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Window = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
    freq: None = None,
    centroid: None = None,
    norm: bool = True,
    p: float = 2,
) -> np.ndarray:
    """Spectral bandwidth per frame, like ``librosa.feature.spectral_bandwidth``: (1, frames)."""

def spectral_rolloff(
    *,
    y: Optional[npt.ArrayLike] = None,
    sr: float = 22050,
    S: Optional[npt.ArrayLike] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Window = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
    freq: None = None,
    roll_percent: float = 0.85,
) -> np.ndarray:
    """Roll-off frequency per frame, like ``librosa.feature.spectral_rolloff``: (1, frames)."""

def spectral_flatness(
    *,
    y: Optional[npt.ArrayLike] = None,
    S: Optional[npt.ArrayLike] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Window = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
    amin: float = 1e-10,
    power: float = 2.0,
) -> np.ndarray:
    """Spectral flatness per frame, like ``librosa.feature.spectral_flatness``: (1, frames)."""

def spectral_contrast(
    *,
    y: Optional[npt.ArrayLike] = None,
    sr: float = 22050,
    S: Optional[npt.ArrayLike] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Window = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
    freq: None = None,
    fmin: float = 200.0,
    n_bands: int = 6,
    quantile: float = 0.02,
    linear: bool = False,
) -> np.ndarray:
    """Spectral contrast, like ``librosa.feature.spectral_contrast``: (n_bands + 1, frames)."""

def chroma_stft(
    *,
    y: Optional[npt.ArrayLike] = None,
    sr: float = 22050,
    S: Optional[npt.ArrayLike] = None,
    norm: Optional[float] = np.inf,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Window = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
    tuning: Optional[float] = None,
    n_chroma: int = 12,
    **kwargs: Any,
) -> np.ndarray:
    """Chromagram, like ``librosa.feature.chroma_stft``: (n_chroma, frames). ``S`` is a power
    spectrogram; ``tuning=None`` estimates the tuning as librosa does."""

def yin(
    y: npt.ArrayLike,
    *,
    fmin: float,
    fmax: float,
    sr: float = 22050,
    frame_length: int = 2048,
    win_length: None = None,
    hop_length: Optional[int] = None,
    trough_threshold: float = 0.1,
    center: bool = True,
    pad_mode: Literal["constant"] = "constant",
) -> np.ndarray:
    """Fundamental frequency per frame (Hz, float64) with YIN, like ``librosa.yin``."""

def pyin(
    y: npt.ArrayLike,
    *,
    fmin: float,
    fmax: float,
    sr: float = 22050,
    frame_length: int = 2048,
    win_length: None = None,
    hop_length: Optional[int] = None,
    n_thresholds: int = 100,
    beta_parameters: Tuple[float, float] = (2, 18),
    boltzmann_parameter: float = 2,
    resolution: float = 0.1,
    max_transition_rate: float = 35.92,
    switch_prob: float = 0.01,
    no_trough_prob: float = 0.01,
    fill_na: float = np.nan,
    center: bool = True,
    pad_mode: Literal["constant"] = "constant",
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f0, voiced_flag, voiced_prob) per frame with probabilistic YIN, like ``librosa.pyin``."""

class Model:
    """A trained emotion model; predictions are dicts in the schema of
    ``ser predict --format jsonl`` (file, duration_seconds, speech_seconds, no_speech,
    too_short, emotion, confidence, uncertain, probabilities, segments, error). Recordings
    without speech (or with less than ``min_speech`` seconds) get no emotion. Thread-safe;
    work runs without the GIL."""

    @staticmethod
    def default() -> "Model":
        """The model built into ser (an MLP on utterance statistics, trained on TESS)."""
    @staticmethod
    def load(path: Union[str, "os.PathLike[str]"]) -> "Model":
        """A model bundle (``.serb``) written by ``ser train`` or ``Model.train``."""
    @staticmethod
    def train(
        out: Union[str, "os.PathLike[str]"],
        *,
        corpus: Union[str, Sequence[str]] = "tess",
        config: Union[str, "os.PathLike[str]", None] = None,
        architecture: Optional[str] = None,
        split: str = "random",
        validation: float = 0.1,
        epochs: Optional[int] = None,
        batch_size: Optional[int] = None,
        seed: Optional[int] = None,
        resume: bool = False,
        cache_dir: Union[str, "os.PathLike[str]", None] = None,
        no_cache: bool = False,
    ) -> "Model":
        """Train as ``ser train`` does (same arguments as its flags) and return the model.

        ``corpus`` is ``KIND[=PATH]`` or a list of them (``["tess", "ravdess=data/ravdess"]``),
        as ``ser train --corpus``; without a path a corpus is read from its default folder."""
    @property
    def labels(self) -> list[str]:
        """Class names, in the order of every probability."""
    @property
    def info(self) -> dict[str, Any]:
        """Architecture, feature configuration, labels and training facts."""
    @property
    def feature_config(self) -> dict[str, Any]:
        """The feature configuration the model was trained with (of an ensemble whose models
        read different features, the first model's)."""
    @property
    def feature_configs(self) -> list[dict[str, Any]]:
        """Every feature configuration the model reads, each once (one for a single model)."""
    def predict(
        self,
        y: npt.ArrayLike,
        sr: float,
        *,
        name: str = "<array>",
        segment: Segmenting = "auto",
        min_segment: Optional[float] = None,
        max_segment: Optional[float] = None,
        min_silence: Optional[float] = None,
        min_speech: Optional[float] = None,
        uncertain_below: Optional[float] = None,
    ) -> Prediction:
        """Predict mono samples ``y`` at ``sr`` Hz; raises on failure."""
    def predict_file(
        self,
        path: AudioSource,
        *,
        segment: Segmenting = "auto",
        min_segment: Optional[float] = None,
        max_segment: Optional[float] = None,
        min_silence: Optional[float] = None,
        min_speech: Optional[float] = None,
        uncertain_below: Optional[float] = None,
    ) -> Prediction:
        """Predict one audio file (path, bytes or binary file object); raises on failure."""
    def predict_files(
        self,
        paths: Sequence[Union[str, "os.PathLike[str]"]],
        *,
        segment: Segmenting = "auto",
        min_segment: Optional[float] = None,
        max_segment: Optional[float] = None,
        min_silence: Optional[float] = None,
        min_speech: Optional[float] = None,
        uncertain_below: Optional[float] = None,
        speakers: Literal["recording", "folder", "all"] = "recording",
    ) -> list[Prediction]:
        """Predict files, folders and globs exactly as ``ser predict --format jsonl``, in
        parallel; a broken file gives a dict with its ``error``, never an exception.
        ``speakers``: which files are one speaker (``ser predict --speakers``)."""
    def predict_recordings(
        self,
        recordings: Sequence[Tuple[str, bytes]],
        *,
        segment: Segmenting = "auto",
        min_segment: Optional[float] = None,
        max_segment: Optional[float] = None,
        min_silence: Optional[float] = None,
        min_speech: Optional[float] = None,
        uncertain_below: Optional[float] = None,
    ) -> list[Prediction]:
        """Predict in-memory files given as ``(name, bytes)`` pairs, in parallel; a broken one
        gives a dict with its ``error``."""

class FeatureExtractor:
    """A whole ``FeatureConfig`` extraction (the JSON of ``ser features --config`` or a model's
    ``feature_config``): float32 (n_features, n_frames), or one vector per recording with
    ``pool`` (e.g. ``["mean", "std", "p50"]``)."""

    def __init__(
        self,
        config: Union[dict[str, Any], str, None] = None,
        *,
        pool: Optional[Sequence[str]] = None,
    ) -> None: ...
    @property
    def names(self) -> list[str]:
        """Row names, or the pooled vector's column names."""
    @property
    def config(self) -> dict[str, Any]:
        """The whole configuration."""
    def extract(self, y: npt.ArrayLike, sr: float) -> np.ndarray:
        """Features of mono samples ``y`` at ``sr`` Hz (preprocessed as configured)."""
    def extract_file(self, path: AudioSource) -> np.ndarray:
        """Features of an audio file: a path, bytes, or a binary file object."""
    def extract_recordings(
        self, recordings: Sequence[Tuple[str, bytes]]
    ) -> list[Tuple[Optional[np.ndarray], Optional[str]]]:
        """Features of in-memory files given as ``(name, bytes)`` pairs, in parallel:
        ``(features, None)`` each, or ``(None, error)`` for one that cannot be decoded."""

def expand_inputs(arguments: Sequence[Union[str, "os.PathLike[str]"]]) -> list[Tuple[str, Optional[str]]]:
    """Files, folders and globs expanded as ``ser predict`` does: ``(path, None)`` per
    recording, ``(argument, reason)`` for an argument that names none."""

def failed_record(file: str, error: str) -> Prediction:
    """The record ``ser predict`` writes for a recording that failed with ``error``."""

def example_record(labels: Sequence[str]) -> Prediction:
    """A prediction with every field set, probabilities over ``labels`` (for column types)."""
