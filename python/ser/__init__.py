"""ser: speech emotion recognition on a Rust core.

Loading like ``librosa.load``, librosa-compatible features in :mod:`ser.feature`, and
:class:`Model` predicting the emotion of recordings as dicts in the schema of
``ser predict --format jsonl``. Batch jobs over a Ray cluster: ``python -m ser.ray``.

Every call runs in Rust with the GIL released, so threads run in parallel.
"""

from ser import feature
from ser._ser import (
    AUDIO_EXTENSIONS,
    AudioError,
    FeatureExtractor,
    Model,
    ModelError,
    __version__,
    load,
    power_to_db,
    pyin,
    yin,
)

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioError",
    "FeatureExtractor",
    "Model",
    "ModelError",
    "__version__",
    "feature",
    "load",
    "power_to_db",
    "pyin",
    "yin",
]
