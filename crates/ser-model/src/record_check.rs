//! Checks a burnpack record against the network it is about to be loaded into, before burn
//! loads it. burn 0.22.1 trusts what a record says about its tensors: an optimiser state
//! tensor without a parameter id panics in `ModuleOptimizer::load_record`, and a `__rank`
//! scalar, shape or dtype that does not fit its parameter panics in `Tensor::from_data` or in
//! the next training step (found by fuzzing checkpoints). burn-pack's reader already checks
//! each tensor's byte length against its shape and dtype. Reading a pack's tensor list is
//! cheap: tensor data are views, not copies.

use std::collections::{BTreeMap, HashMap};

use burn::module::Module;
use burn::tensor::Bytes;
use burn_pack::{DType, Reader, Scalar, Shape, Tensor};

use crate::nets::Network;

/// The scalar burn-optim stores per parameter as `{param_id}.__rank`.
const RANK_SUFFIX: &str = ".__rank";

/// A parameter as the network itself would write it.
struct Parameter {
    dtype: DType,
    shape: Shape,
}

impl Parameter {
    fn check(&self, tensor: &Tensor) -> Result<(), String> {
        if tensor.shape != self.shape {
            return Err(format!(
                "tensor {:?} has shape {:?}, the network's parameter {:?}",
                tensor.name, tensor.shape, self.shape
            ));
        }
        if tensor.dtype != self.dtype {
            return Err(format!(
                "tensor {:?} holds {:?}, the network's parameter {:?}",
                tensor.name, tensor.dtype, self.dtype
            ));
        }
        Ok(())
    }
}

/// The network's parameters by module path and by parameter id, read from its own record.
struct Parameters {
    by_path: HashMap<String, Parameter>,
    by_id: HashMap<u64, String>,
}

impl Parameters {
    fn of(network: &Network) -> Result<Self, String> {
        let bytes = network
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|error| format!("cannot serialise the network: {error}"))?;
        let Pack { tensors, .. } = read_pack(bytes)?;
        let mut parameters = Self {
            by_path: HashMap::new(),
            by_id: HashMap::new(),
        };
        for tensor in tensors {
            if let Some(id) = tensor.param_id {
                parameters.by_id.insert(id, tensor.name.clone());
            }
            parameters.by_path.insert(
                tensor.name.clone(),
                Parameter {
                    dtype: tensor.dtype,
                    shape: tensor.shape,
                },
            );
        }
        Ok(parameters)
    }
}

/// A burnpack's tensors (data as views) and scalars.
struct Pack {
    tensors: Vec<Tensor>,
    scalars: BTreeMap<String, Scalar>,
}

fn read_pack(bytes: Bytes) -> Result<Pack, String> {
    let reader = Reader::from_bytes(bytes).map_err(|error| error.to_string())?;
    let scalars = reader.scalars().clone();
    let tensors = reader.into_tensors().map_err(|error| error.to_string())?;
    Ok(Pack { tensors, scalars })
}

/// Every tensor of a module record that names a parameter of the network must have its shape
/// and dtype (missing and unused tensors are burn's to report).
pub(crate) fn check_module_record(bytes: &[u8], network: &Network) -> Result<(), String> {
    let parameters = Parameters::of(network)?;
    let Pack { tensors, .. } = read_pack(Bytes::from_bytes_vec(bytes.to_vec()))?;
    for tensor in &tensors {
        if let Some(parameter) = parameters.by_path.get(&tensor.name) {
            parameter.check(tensor)?;
        }
    }
    Ok(())
}

/// Every optimiser state tensor must name a parameter of the network (by id, and by the id
/// its name starts with) and have that parameter's shape and dtype (Adam and
/// AdamW keep moments shaped like their parameter); every rank scalar must be its parameter's.
/// `network` is the one the checkpoint's model section was loaded into, so ids match.
pub(crate) fn check_optimizer_record(bytes: &[u8], network: &Network) -> Result<(), String> {
    let parameters = Parameters::of(network)?;
    let Pack { tensors, scalars } = read_pack(Bytes::from_bytes_vec(bytes.to_vec()))?;
    let parameter_of = |id: u64| {
        parameters
            .by_id
            .get(&id)
            .and_then(|path| parameters.by_path.get(path))
    };
    for tensor in &tensors {
        let id = tensor
            .param_id
            .ok_or_else(|| format!("tensor {:?} names no parameter", tensor.name))?;
        let parameter = parameter_of(id)
            .filter(|_| tensor.name.starts_with(&format!("{id}.")))
            .ok_or_else(|| {
                format!(
                    "tensor {:?} belongs to no parameter of the network",
                    tensor.name
                )
            })?;
        parameter.check(tensor)?;
    }
    for (key, value) in &scalars {
        let Some(id) = key.strip_suffix(RANK_SUFFIX) else {
            continue;
        };
        let rank = id
            .parse::<u64>()
            .ok()
            .and_then(parameter_of)
            .map(|parameter| parameter.shape.num_dims());
        if rank.is_none() || usize::try_from(*value).ok() != rank {
            return Err(format!(
                "scalar {key:?} = {value:?} is not the rank of a parameter of the network"
            ));
        }
    }
    Ok(())
}
