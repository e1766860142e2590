//! Deep-learning models, training and model bundles for ser (burn).
