#!/usr/bin/env python3
"""Keras/TensorFlow-CPU reference for `ser bench train`: ms per training step of the
3-layer conv1d benchmark network (batch 64, 40 MFCC x 128 frames, 7 classes).

Needs: pip install tensorflow-cpu
"""
import json
import time

import numpy as np
from tensorflow import keras

BATCH, FEATURES, FRAMES, CLASSES, STEPS = 64, 40, 128, 7, 50

model = keras.Sequential(
    [
        keras.layers.Input(shape=(FRAMES, FEATURES)),
        keras.layers.Conv1D(64, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling1D(2),
        keras.layers.Conv1D(128, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling1D(2),
        keras.layers.Conv1D(128, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
rng = np.random.default_rng(0)
x = rng.standard_normal((BATCH, FRAMES, FEATURES), dtype=np.float32)
y = rng.integers(0, CLASSES, BATCH)
for _ in range(5):
    model.train_on_batch(x, y)
start = time.perf_counter()
for _ in range(STEPS):
    model.train_on_batch(x, y)
ms = (time.perf_counter() - start) / STEPS * 1000
print(json.dumps({"framework": "keras", "network": "conv1d-3", "batch": BATCH,
                  "input": [FEATURES, FRAMES], "ms_per_step": round(ms, 2),
                  "params": int(model.count_params())}))
