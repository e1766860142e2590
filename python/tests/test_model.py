"""ser.Model: the same JSON as `ser predict --format jsonl`, exceptions for broken files,
and use from two threads at once."""

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import ser


def cli_jsonl(ser_bin, paths, *flags):
    result = subprocess.run(
        [str(ser_bin), "predict", "--quiet", "--format", "jsonl", *flags, *map(str, paths)],
        capture_output=True,
        text=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def model():
    return ser.Model.default()


def test_default_model_describes_itself(model):
    assert model.labels == ["angry", "disgust", "fear", "happy", "neutral", "pleasant_surprise", "sad"]
    assert model.info["labels"] == model.labels
    # The embedded ensemble's three models read Whisper's encoder after 1, 2 and 3 of its
    # blocks, at 16 kHz; the bundle carries the weights, named by their digest.
    assert model.feature_configs[0] == model.feature_config
    assert [config["kind"] for config in model.feature_configs] == ["whisper"] * 3
    assert [config["whisper"]["blocks"] for config in model.feature_configs] == [1, 2, 3]
    assert all(config["whisper"]["weights"].startswith("sha256:") for config in model.feature_configs)
    assert [config["audio"]["sample_rate"] for config in model.feature_configs] == [16000] * 3
    assert "angry" in repr(model)


def test_predict_files_equals_the_cli(model, ser_bin, parity_clips, broken_files, tmp_path):
    paths = [*parity_clips, broken_files["text"], tmp_path / "missing.wav"]
    ours = model.predict_files(paths)
    assert ours == cli_jsonl(ser_bin, paths)
    assert [p["error"] is None for p in ours] == [True] * len(parity_clips) + [False, False]
    # The default model was trained on TESS, but judged alone (against the average voice) a
    # clip is a voice heard without its speaker's other clips: about 70 % right for voices it
    # never heard (README), and these training voices fare no better, since its linear
    # classifiers do not learn voices by heart. Most come out right, and a wrong answer is
    # never near-certain (as the Rust test real_model_predicts_tess_clips asks).
    right = 0
    for prediction, clip in zip(ours, parity_clips):
        truth = clip.stem.split("_")[-1]
        if prediction["emotion"] == {"ps": "pleasant_surprise"}.get(truth, truth):
            right += 1
        else:
            assert prediction["confidence"] < 0.9, prediction
        assert list(prediction["probabilities"]) == model.labels
    assert right > len(parity_clips) / 2


def test_segmented_predictions_equal_the_cli(model, ser_bin, parity_clips):
    flags = ["--segment", "always", "--min-segment", "0.2"]
    ours = model.predict_files(parity_clips[:2], segment="always", min_segment=0.2)
    assert ours == cli_jsonl(ser_bin, parity_clips[:2], *flags)
    assert all(p["segments"] for p in ours)


def test_speaker_grouping_equals_the_cli(model, ser_bin, parity_clips):
    together = model.predict_files(parity_clips, speakers="all")
    assert together == cli_jsonl(ser_bin, parity_clips, "--speakers", "all")
    # The built-in model normalises speakers: heard as one voice, the clips get other
    # probabilities than each alone.
    alone = model.predict_files(parity_clips)
    assert [p["probabilities"] for p in together] != [p["probabilities"] for p in alone]
    with pytest.raises(ValueError, match="speakers must be"):
        model.predict_files(parity_clips, speakers="nobody")


def test_speech_settings_equal_the_cli(model, ser_bin, parity_clips):
    # TESS clips hold about a second of speech: 5 s is too little, 0.1 s enough.
    too_short = model.predict_files(parity_clips[:2], min_speech=5.0)
    assert too_short == cli_jsonl(ser_bin, parity_clips[:2], "--min-speech", "5")
    assert all(p["too_short"] and p["emotion"] is None and p["probabilities"] == {} for p in too_short)
    doubtful = model.predict_files(parity_clips, min_speech=0.1, uncertain_below=1.0)
    assert doubtful == cli_jsonl(ser_bin, parity_clips, "--min-speech", "0.1", "--uncertain-below", "1")
    assert all(p["emotion"] and p["uncertain"] == (p["confidence"] < 1.0) for p in doubtful)
    with pytest.raises(ValueError, match="uncertain_below must be a probability"):
        model.predict_files([], uncertain_below=2.0)


def test_predict_and_predict_file_agree_with_the_batch(model, parity_clips):
    clip = parity_clips[0]
    [batch] = model.predict_files([clip])
    assert model.predict_file(clip) == batch
    assert model.predict_file(clip.read_bytes())["probabilities"] == batch["probabilities"]
    y, sr = ser.load(clip, sr=None)
    from_array = model.predict(y, sr, name=str(clip))
    assert from_array == batch


def test_mutated_files_give_a_record_each_like_the_cli(model, ser_bin, mutated_files):
    ours = model.predict_files(mutated_files)
    assert len(ours) == len(mutated_files)
    assert ours == cli_jsonl(ser_bin, mutated_files)
    for record, path in zip(ours, mutated_files):
        assert record["file"] == str(path)
        # Exactly one of: an error, an emotion, or a reason there is none.
        answers = [record["error"] is not None, record["emotion"] is not None, record["no_speech"] or record["too_short"]]
        assert answers.count(True) == 1, record
        if record["error"] is not None:
            assert record["error"].startswith(str(path))


def test_broken_inputs_raise_with_the_cli_messages(model, ser_bin, broken_files, tmp_path):
    for name, path in broken_files.items():
        [cli] = cli_jsonl(ser_bin, [path])
        with pytest.raises(ser.AudioError) as raised:
            model.predict_file(path)
        assert str(raised.value) == cli["error"], name
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        model.predict_file(tmp_path / "missing.wav")
    with pytest.raises(ser.ModelError):
        ser.Model.load(broken_files["text"])
    with pytest.raises(FileNotFoundError):
        ser.Model.load(tmp_path / "missing.serb")
    with pytest.raises(ValueError, match="segment must be"):
        model.predict_file(broken_files["text"], segment="sometimes")
    with pytest.raises(ValueError, match="min_speech_seconds"):
        model.predict_files([], min_segment=-1.0)


def test_two_threads_at_once_give_the_serial_results(model, tess_clips):
    clips = tess_clips[::100][:20]
    serial = [model.predict_file(clip) for clip in clips]
    features = [ser.feature.mfcc(y=ser.load(clip)[0], sr=22050) for clip in clips]

    def work(clip):
        y, sr = ser.load(clip)
        return model.predict_file(clip), ser.feature.mfcc(y=y, sr=sr)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(work, clips))
    assert [prediction for prediction, _ in results] == serial
    for (_, ours), expected in zip(results, features):
        np.testing.assert_array_equal(ours, expected)


def test_feature_extractor_uses_a_feature_config(model, parity_clips, broken_files):
    extractor = ser.FeatureExtractor(model.feature_config, pool=["mean", "std"])
    # The embedded model's features: Whisper's encoder (its weights loaded with the model).
    assert len(extractor.names) == 2 * 512 and extractor.names[:2] == ["whisper_0_mean", "whisper_0_std"]
    vector = extractor.extract_file(parity_clips[0])
    assert vector.shape == (1024,) and vector.dtype == np.float32
    frames = ser.FeatureExtractor({"kind": "mfcc"}).extract_file(parity_clips[0])
    y, sr = ser.load(parity_clips[0])
    np.testing.assert_allclose(frames, ser.feature.mfcc(y=y, sr=sr, n_mfcc=40), rtol=1e-5, atol=1e-3)
    results = extractor.extract_recordings([("a.flac", parity_clips[0].read_bytes()), ("bad.wav", b"junk")])
    np.testing.assert_array_equal(results[0][0], vector)
    assert results[1][0] is None and results[1][1].startswith("bad.wav: ")
    with pytest.raises(ValueError, match="invalid feature configuration"):
        ser.FeatureExtractor({"kind": "loudness"})
