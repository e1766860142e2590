//! `ser bench train`: training step time per architecture next to the Keras reference.

use std::process::ExitCode;

use ser_model::{Architecture, ModelConfig, keras_reference_config, time_training_step};

#[derive(clap::Args)]
pub struct BenchTrainArgs {
    /// Architectures to time (default: the Keras reference network, then all five).
    #[arg(long, value_delimiter = ',')]
    pub architectures: Vec<Architecture>,
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Feature rows per frame (40 MFCCs by default).
    #[arg(long, default_value_t = 40)]
    pub features: usize,
    #[arg(long, default_value_t = 128)]
    pub frames: usize,
    /// Timed steps per architecture (after 3 warm-up steps).
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Training examples per epoch, for the per-epoch estimate (TESS, 80 % train split).
    #[arg(long, default_value_t = 2240)]
    pub epoch_examples: usize,
    /// Keras/TF-CPU ms per step of the reference network on this machine
    /// (tools/keras_step_time.py).
    #[arg(long, default_value_t = 30.0)]
    pub keras_ms: f64,
}

pub fn run(args: BenchTrainArgs) -> anyhow::Result<ExitCode> {
    let mut networks: Vec<(String, ModelConfig)> = Vec::new();
    let architectures = if args.architectures.is_empty() {
        networks.push((
            "conv1d-3 (Keras reference)".into(),
            keras_reference_config(),
        ));
        Architecture::ALL.to_vec()
    } else {
        args.architectures.clone()
    };
    networks.extend(architectures.into_iter().map(|architecture| {
        (
            architecture.to_string(),
            ModelConfig::for_architecture(architecture),
        )
    }));
    let steps_per_epoch = args.epoch_examples.div_ceil(args.batch.max(1));
    println!(
        "training step, batch {} x {} features x {} frames, {} timed steps (Keras/TF-CPU reference: {:.0} ms/step)",
        args.batch, args.features, args.frames, args.steps, args.keras_ms
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "network", "params", "ms/step", "forward", "x Keras", "s/epoch"
    );
    for (name, mut config) in networks {
        config.frames = args.frames;
        let timing = time_training_step(&config, args.features, args.batch, 3, args.steps)?;
        println!(
            "{name:<28} {:>10} {:>10.1} {:>10.1} {:>10.2} {:>10.1}",
            timing.params,
            timing.ms_per_step,
            timing.forward_ms,
            timing.ms_per_step / args.keras_ms,
            timing.ms_per_step * steps_per_epoch as f64 / 1000.0
        );
    }
    Ok(ExitCode::SUCCESS)
}
