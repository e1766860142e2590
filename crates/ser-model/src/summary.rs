//! Keras-style `model.summary()`: layers, output shapes and parameter counts, found by
//! running one example through the network and recording every layer's output.

use burn::tensor::{Device, Tensor};

use crate::ModelError;
use crate::config::ModelConfig;
use crate::nets::{Network, ParamCount, Tap};

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LayerSummary {
    pub name: String,
    pub kind: String,
    /// Output shape without the batch dimension.
    pub output_shape: Vec<usize>,
    pub trainable_params: usize,
    pub non_trainable_params: usize,
}

/// The whole summary of one network for a given input size.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModelSummary {
    pub architecture: String,
    /// Input shape without the batch dimension: `[n_features, frames]`.
    pub input_shape: Vec<usize>,
    pub layers: Vec<LayerSummary>,
}

impl ModelSummary {
    pub fn trainable_params(&self) -> usize {
        self.layers.iter().map(|layer| layer.trainable_params).sum()
    }

    pub fn non_trainable_params(&self) -> usize {
        self.layers
            .iter()
            .map(|layer| layer.non_trainable_params)
            .sum()
    }

    pub fn total_params(&self) -> usize {
        self.trainable_params() + self.non_trainable_params()
    }
}

struct Recorder(Vec<LayerSummary>);

impl Tap for Recorder {
    fn layer(&mut self, name: String, kind: &str, output: &[usize], params: ParamCount) {
        self.0.push(LayerSummary {
            name,
            kind: kind.to_string(),
            output_shape: output[1..].to_vec(),
            trainable_params: params.trainable,
            non_trainable_params: params.non_trainable,
        });
    }
}

/// Build the network of `config` for clips of `n_features` feature rows and `n_classes`
/// outputs, and describe it layer by layer.
pub fn summarize(
    config: &ModelConfig,
    n_features: usize,
    n_classes: usize,
) -> Result<ModelSummary, ModelError> {
    config.validate()?;
    if n_features == 0 || n_classes == 0 {
        return Err(ModelError::Config(
            "the network needs at least one feature and one class".into(),
        ));
    }
    let device = Device::flex();
    let input_features = config.input_features(n_features);
    let network = Network::new(config, input_features, n_classes, &device, 0);
    Ok(summarize_network(&network, config, input_features, &device))
}

pub(crate) fn summarize_network(
    network: &Network,
    config: &ModelConfig,
    n_features: usize,
    device: &Device,
) -> ModelSummary {
    let input = Tensor::<3>::zeros([1, n_features, config.input_frames()], device);
    let mut recorder = Recorder(Vec::new());
    use burn::module::Module;
    network.valid().forward_tapped(input, &mut recorder);
    ModelSummary {
        architecture: config.architecture.to_string(),
        input_shape: vec![n_features, config.input_frames()],
        layers: recorder.0,
    }
}

fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = std::iter::once("None".to_string())
        .chain(shape.iter().map(usize::to_string))
        .collect();
    format!("({})", dims.join(", "))
}

fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

impl std::fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows: Vec<[String; 3]> = self
            .layers
            .iter()
            .map(|layer| {
                [
                    format!("{} ({})", layer.name, layer.kind),
                    shape_text(&layer.output_shape),
                    thousands(layer.trainable_params + layer.non_trainable_params),
                ]
            })
            .collect();
        let header = ["Layer (type)", "Output Shape", "Param #"];
        let width = |column: usize| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .chain([header[column].len()])
                .max()
                .unwrap_or(0)
                + 4
        };
        let widths = [width(0).max(30), width(1).max(24), width(2).max(10)];
        let line_width: usize = widths.iter().sum();
        let row_text = |cells: [&str; 3]| {
            format!(
                " {:<w0$}{:<w1$}{:<w2$}",
                cells[0],
                cells[1],
                cells[2],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )
        };
        writeln!(f, "Model: \"{}\"", self.architecture)?;
        writeln!(f, "Input shape: {}", shape_text(&self.input_shape))?;
        writeln!(f, "{}", "_".repeat(line_width))?;
        writeln!(f, "{}", row_text(header).trim_end())?;
        writeln!(f, "{}", "=".repeat(line_width))?;
        for (index, row) in rows.iter().enumerate() {
            writeln!(f, "{}", row_text([&row[0], &row[1], &row[2]]).trim_end())?;
            if index + 1 < rows.len() {
                writeln!(f)?;
            }
        }
        writeln!(f, "{}", "=".repeat(line_width))?;
        let total = self.total_params();
        writeln!(
            f,
            "Total params: {} ({})",
            thousands(total),
            human_bytes(total * 4)
        )?;
        writeln!(
            f,
            "Trainable params: {}",
            thousands(self.trainable_params())
        )?;
        writeln!(
            f,
            "Non-trainable params: {}",
            thousands(self.non_trainable_params())
        )?;
        write!(f, "{}", "_".repeat(line_width))
    }
}

fn human_bytes(bytes: usize) -> String {
    let bytes = bytes as f64;
    if bytes >= 1024.0 * 1024.0 {
        format!("{:.2} MB", bytes / (1024.0 * 1024.0))
    } else {
        format!("{:.2} KB", bytes / 1024.0)
    }
}
