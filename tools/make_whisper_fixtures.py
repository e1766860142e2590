"""Golden values for ser-features' Whisper encoder (crates/ser-features/tests/whisper.rs).

A synthetic voice (not corpus audio: no licence to respect), 2.5 s at 16 kHz: a glottal-like
harmonic series on a gliding F0 with vibrato, formant-shaped, with a noise burst and a pause.
Its int16 samples go to `whisper_voice.i16`; `whisper_voice.json` holds openai-whisper's
log-mel spectrogram of exactly those samples (`whisper.audio.log_mel_spectrogram`, written
with librosa as whisper computes it) and CTranslate2's encoder output for that spectrogram
(float32 compute, the model given as the first argument: a faster-whisper model folder, e.g.
Systran/faster-whisper-base). It also writes `models/whisper-base-encoder.bin`: that model's
`model.bin` with the encoder's tensors alone, copied byte for byte (CTranslate2's format, float16).

    pip install ctranslate2 librosa numpy
    python3 tools/make_whisper_fixtures.py MODEL_DIR
"""
import json
import struct
import sys
from pathlib import Path

import ctranslate2
import librosa
import numpy as np

SR = 16000
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/ser-features/tests/fixtures"


def write_encoder(model_bin, out):
    """Copies the header and the `encoder/` tensors of a CTranslate2 model file."""
    data = Path(model_bin).read_bytes()
    pos = 0

    def take(n):
        nonlocal pos
        pos += n
        return data[pos - n:pos]

    def string():
        (n,) = struct.unpack("<H", take(2))
        return take(n)[:-1].decode()

    header = take(4)
    spec = string()
    revision = take(4)
    (count,) = struct.unpack("<I", take(4))
    kept = []
    for _ in range(count):
        start = pos
        name = string()
        (rank,) = struct.unpack("<B", take(1))
        take(4 * rank + 1)
        (n_bytes,) = struct.unpack("<I", take(4))
        take(n_bytes)
        if name.startswith("encoder/"):
            kept.append(data[start:pos])
    name = spec.encode() + b"\0"
    with open(out, "wb") as f:
        f.write(header + struct.pack("<H", len(name)) + name + revision)
        f.write(struct.pack("<I", len(kept)) + b"".join(kept) + struct.pack("<I", 0))


def synthetic_voice():
    t = np.arange(int(2.5 * SR)) / SR
    f0 = 140 + 60 * t / 2.5 + 6 * np.sin(2 * np.pi * 5.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase) / k ** 1.2 for k in range(1, 30))
    # Formant-like emphasis: amplitude modulated by slow vowel changes.
    voice *= 0.4 + 0.3 * np.sin(2 * np.pi * 1.3 * t) ** 2
    rng = np.random.default_rng(7)
    burst = (t > 1.2) & (t < 1.35)
    voice[burst] = rng.normal(0, 0.3, burst.sum())
    voice[(t > 1.7) & (t < 1.9)] *= 0.001
    voice *= 0.3 / np.abs(voice).max()
    return np.round(voice * 32767).astype(np.int16)


def whisper_log_mel(audio):
    stft = librosa.stft(audio, n_fft=400, hop_length=160, window="hann", center=True, pad_mode="reflect")
    magnitudes = np.abs(stft[:, :-1]) ** 2
    filters = librosa.filters.mel(sr=SR, n_fft=400, n_mels=80)
    log_spec = np.log10(np.maximum(filters @ magnitudes, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def main():
    samples = synthetic_voice()
    samples.tofile(OUT / "whisper_voice.i16")
    audio = samples.astype(np.float32) / 32768.0
    mel = whisper_log_mel(audio).astype(np.float32)
    model = ctranslate2.models.Whisper(sys.argv[1], device="cpu", compute_type="float32")
    encoded = np.array(model.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True))[0]
    frames = encoded.shape[0]
    doc = {
        "sample_rate": SR,
        "mel_shape": list(mel.shape),
        "mel": mel.round(6).tolist(),
        "encoded_shape": list(encoded.shape),
        "encoded_mean": encoded.mean(0).round(6).tolist(),
        "encoded_frames": {str(i): encoded[i].round(6).tolist() for i in (0, frames // 2, frames - 1)},
    }
    (OUT / "whisper_voice.json").write_text(json.dumps(doc))
    write_encoder(Path(sys.argv[1]) / "model.bin", ROOT / "models/whisper-base-encoder.bin")
    print(mel.shape, encoded.shape)


if __name__ == "__main__":
    main()
