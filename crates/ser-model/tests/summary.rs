//! `ser model summary` numbers against hand-computed ones, and run-file parsing.

use ser_model::{Architecture, ModelConfig, RunConfig, summarize};

#[test]
fn cnn1d_parameter_counts_match_hand_computation() {
    let run = RunConfig::from_toml(
        r#"
        [model]
        architecture = "cnn1d"
        frames = 16
        [model.cnn1d]
        channels = [8, 6]
        kernel_sizes = [3]
        pool = 2
        "#,
    )
    .unwrap();
    let summary = summarize(&run.model, 4, 3).unwrap();
    // conv 4*8*3+8 = 104; batch norm 4*8 = 32 (half running statistics);
    // conv 8*6*3+6 = 150; batch norm 4*6 = 24; dense 6*3+3 = 21.
    assert_eq!(summary.total_params(), 104 + 32 + 150 + 24 + 21);
    assert_eq!(summary.non_trainable_params(), 16 + 12);
    let shapes: Vec<(&str, Vec<usize>)> = summary
        .layers
        .iter()
        .map(|layer| (layer.name.as_str(), layer.output_shape.clone()))
        .collect();
    assert_eq!(
        shapes,
        vec![
            ("conv1d_1", vec![8, 16]),
            ("batch_norm_1", vec![8, 16]),
            ("max_pool1d_1", vec![8, 8]),
            ("dropout_1", vec![8, 8]),
            ("conv1d_2", vec![6, 8]),
            ("batch_norm_2", vec![6, 8]),
            ("dropout_2", vec![6, 8]),
            ("global_avg_pool", vec![6]),
            ("dense", vec![3]),
        ]
    );
    let text = summary.to_string();
    assert!(text.contains("Layer (type)"), "{text}");
    assert!(text.contains("conv1d_1 (Conv1d+ReLU)"), "{text}");
    assert!(text.contains("Total params: 331"), "{text}");
    assert!(text.contains("Trainable params: 303"), "{text}");
}

#[test]
fn mlp_and_bilstm_parameter_counts() {
    let mut config = ModelConfig::for_architecture(Architecture::Mlp);
    config.mlp.hidden = vec![4];
    // statistics 2*5 = 10 -> dense 10*4+4 = 44 -> output 4*2+2 = 10.
    assert_eq!(summarize(&config, 5, 2).unwrap().total_params(), 54);

    let mut config = ModelConfig::for_architecture(Architecture::Bilstm);
    config.bilstm.hidden = 2;
    // Per direction 4 gates x (input 3*2+2 + hidden 2*2+2) = 56; two directions 112;
    // output 4*7+7 = 35.
    assert_eq!(summarize(&config, 3, 7).unwrap().total_params(), 112 + 35);
}

#[test]
fn every_architecture_builds_with_defaults() {
    for architecture in Architecture::ALL {
        let summary = summarize(&ModelConfig::for_architecture(architecture), 40, 7).unwrap();
        assert_eq!(
            summary.layers.last().unwrap().output_shape,
            vec![7],
            "{architecture}"
        );
        assert!(
            summary.total_params() < 1_000_000,
            "{architecture} stays small"
        );
    }
}

#[test]
fn run_files_reject_unknown_keys_and_round_trip() {
    let error = RunConfig::from_toml("[model]\narchitecure = \"cnn1d\"\n").unwrap_err();
    assert!(error.to_string().contains("architecure"), "{error}");
    let error = RunConfig::from_toml("[model]\narchitecture = \"transformer\"\n").unwrap_err();
    assert!(error.to_string().contains("transformer"), "{error}");
    let default = RunConfig::default();
    assert_eq!(RunConfig::from_toml(&default.to_toml()).unwrap(), default);
}

#[test]
fn shipped_example_run_file_is_valid() {
    let run = RunConfig::from_toml(include_str!("../configs/cnn2d-logmel.toml")).unwrap();
    assert_eq!(run.features.n_features(), 64);
    let summary = summarize(&run.model, run.features.n_features(), 7).unwrap();
    assert_eq!(summary.input_shape, vec![64, 128]);
}
