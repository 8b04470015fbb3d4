//! Maps an upstream state dict onto the `wct-vgg19/1` names of one network, driven by the
//! architecture's tensor list.
//!
//! Two key styles exist upstream:
//! - *indexed*: `nn.Sequential` positions (`0.weight`, `2.weight`, `5.weight`, …); the
//!   convolutions are taken in index order and matched to the plan's convolutions in order
//!   (padding, ReLU, pooling and upsampling layers have no parameters, so they leave gaps);
//! - *named*: the layer name is the second-to-last key part (`seq.conv3_1.weight`), matched
//!   to the plan by name whatever comes before it.

use std::collections::BTreeMap;
use std::path::Path;

use super::torch_legacy::{StateDict, TensorData};
use crate::error::{Error, Result};

/// One convolution the plan expects: its layer name and parameter shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvSlot {
    /// Layer name, e.g. `conv3_1`.
    pub layer: String,
    /// Shape of the weight, `[out, in, kh, kw]`.
    pub weight: Vec<usize>,
    /// Shape of the bias, `[out]`.
    pub bias: Vec<usize>,
}

/// Groups an architecture tensor list (`prefix.layer.weight`, `prefix.layer.bias`, …) into
/// convolutions, in order.
pub fn conv_slots(tensors: &[(String, Vec<usize>)]) -> Vec<ConvSlot> {
    let mut slots: Vec<ConvSlot> = Vec::new();
    for (name, shape) in tensors {
        let mut parts = name.rsplit('.');
        let (Some(kind), Some(layer)) = (parts.next(), parts.next()) else {
            continue;
        };
        if slots.last().is_none_or(|s| s.layer != layer) {
            slots.push(ConvSlot { layer: layer.to_string(), weight: Vec::new(), bias: Vec::new() });
        }
        if let Some(s) = slots.last_mut() {
            if kind == "weight" {
                s.weight = shape.clone();
            } else {
                s.bias = shape.clone();
            }
        }
    }
    slots
}

/// The parameters of one layer as found in a state dict.
#[derive(Default)]
struct Layer {
    weight: Option<TensorData>,
    bias: Option<TensorData>,
}

/// Key parts: the layer (`2`, `conv3_1`) and the parameter (`weight` / `bias`).
fn split_key(key: &str) -> Option<(&str, &str)> {
    let (rest, kind) = key.rsplit_once('.')?;
    let layer = rest.rsplit('.').next()?;
    matches!(kind, "weight" | "bias").then_some((layer, kind))
}

/// Maps `dict` onto `slots`, returning `(layer, weight, bias)` in plan order. Every tensor of
/// the file must be used and every shape must match; `path` labels messages.
pub fn map_layers(dict: StateDict, slots: &[ConvSlot], path: &Path) -> Result<Vec<(String, TensorData, TensorData)>> {
    let mut indexed: BTreeMap<usize, Layer> = BTreeMap::new();
    let mut named: BTreeMap<String, Layer> = BTreeMap::new();
    for (key, t) in dict {
        let Some((layer, kind)) = split_key(&key) else {
            return Err(Error::weights(path, format!("unexpected tensor '{key}' (not a layer's weight or bias)")));
        };
        let entry = match layer.parse::<usize>() {
            Ok(i) => indexed.entry(i).or_default(),
            Err(_) => named.entry(layer.to_string()).or_default(),
        };
        let place = if kind == "weight" { &mut entry.weight } else { &mut entry.bias };
        if place.replace(t).is_some() {
            return Err(Error::weights(path, format!("two tensors map to {layer}.{kind} (last one '{key}')")));
        }
    }
    let layers: Vec<(String, Layer)> = match (indexed.is_empty(), named.is_empty()) {
        (false, true) => {
            if indexed.len() != slots.len() {
                return Err(Error::weights(
                    path,
                    format!(
                        "expected {} convolutions ({}) but the file has {} parameterised layers (indices {})",
                        slots.len(),
                        list(slots.iter().map(|s| s.layer.clone())),
                        indexed.len(),
                        list(indexed.keys().map(|k| k.to_string())),
                    ),
                ));
            }
            slots.iter().map(|s| s.layer.clone()).zip(indexed.into_values()).collect()
        }
        (true, false) => {
            if let Some(extra) = named.keys().find(|k| !slots.iter().any(|s| &s.layer == *k)) {
                return Err(Error::weights(
                    path,
                    format!("unexpected layer '{extra}' (expected {})", list(slots.iter().map(|s| s.layer.clone()))),
                ));
            }
            let mut out = Vec::with_capacity(slots.len());
            for s in slots {
                let l = named
                    .remove(&s.layer)
                    .ok_or_else(|| Error::weights(path, format!("missing layer '{}'", s.layer)))?;
                out.push((s.layer.clone(), l));
            }
            out
        }
        (true, true) => return Err(Error::weights(path, "the state dict holds no tensors")),
        (false, false) => {
            return Err(Error::weights(path, "keys mix nn.Sequential indices and layer names; cannot map them"))
        }
    };
    layers
        .into_iter()
        .zip(slots)
        .map(|((layer, l), slot)| {
            let weight =
                l.weight.ok_or_else(|| Error::weights(path, format!("layer {layer} has a bias but no weight")))?;
            let bias = l.bias.ok_or_else(|| Error::weights(path, format!("layer {layer} has a weight but no bias")))?;
            for (what, t, want) in [("weight", &weight, &slot.weight), ("bias", &bias, &slot.bias)] {
                if &t.shape != want {
                    return Err(Error::weights(
                        path,
                        format!("{layer}.{what} has shape {:?}, expected {:?}", t.shape, want),
                    ));
                }
            }
            Ok((layer, weight, bias))
        })
        .collect()
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::architecture::{decoder_tensors, encoder_tensors};

    fn t(shape: &[usize], fill: f32) -> TensorData {
        TensorData { shape: shape.to_vec(), data: vec![fill; shape.iter().product()], storage: "FloatStorage".into() }
    }

    #[test]
    fn slots_follow_the_plan() {
        let s = conv_slots(&encoder_tensors(2));
        let names: Vec<_> = s.iter().map(|c| c.layer.as_str()).collect();
        assert_eq!(names, ["conv0", "conv1_1", "conv1_2", "conv2_1"]);
        assert_eq!(s[3].weight, [128, 64, 3, 3]);
        assert_eq!(s[3].bias, [128]);
    }

    #[test]
    fn indexed_keys_map_in_order() {
        let slots = conv_slots(&decoder_tensors(2));
        let dict: StateDict = vec![
            ("1.weight".into(), t(&[64, 128, 3, 3], 1.0)),
            ("1.bias".into(), t(&[64], 1.0)),
            ("5.weight".into(), t(&[64, 64, 3, 3], 2.0)),
            ("5.bias".into(), t(&[64], 2.0)),
            ("8.bias".into(), t(&[3], 3.0)),
            ("8.weight".into(), t(&[3, 64, 3, 3], 3.0)),
        ];
        let m = map_layers(dict, &slots, Path::new("x")).unwrap();
        let got: Vec<_> = m.iter().map(|(l, w, _)| (l.as_str(), w.data[0])).collect();
        assert_eq!(got, [("conv2_1", 1.0), ("conv1_2", 2.0), ("conv1_1", 3.0)]);
    }

    #[test]
    fn named_keys_map_by_name() {
        let slots = conv_slots(&decoder_tensors(1));
        let dict: StateDict =
            vec![("seq.conv1_1.bias".into(), t(&[3], 0.5)), ("seq.conv1_1.weight".into(), t(&[3, 64, 3, 3], 0.5))];
        let m = map_layers(dict, &slots, Path::new("x")).unwrap();
        assert_eq!(m[0].0, "conv1_1");
    }

    #[test]
    fn mismatches_are_errors() {
        let slots = conv_slots(&decoder_tensors(1));
        let wrong_shape: StateDict = vec![("0.weight".into(), t(&[3, 32, 3, 3], 0.5)), ("0.bias".into(), t(&[3], 0.5))];
        let e = map_layers(wrong_shape, &slots, Path::new("x")).unwrap_err().to_string();
        assert!(e.contains("conv1_1.weight has shape [3, 32, 3, 3]"), "{e}");
        let missing_bias: StateDict = vec![("0.weight".into(), t(&[3, 64, 3, 3], 0.5))];
        assert!(map_layers(missing_bias, &slots, Path::new("x")).is_err());
        let extra: StateDict = vec![
            ("conv1_1.weight".into(), t(&[3, 64, 3, 3], 0.5)),
            ("conv1_1.bias".into(), t(&[3], 0.5)),
            ("conv9_1.bias".into(), t(&[3], 0.5)),
        ];
        let e = map_layers(extra, &slots, Path::new("x")).unwrap_err().to_string();
        assert!(e.contains("conv9_1"), "{e}");
        let too_many: StateDict = vec![
            ("0.weight".into(), t(&[3, 64, 3, 3], 0.5)),
            ("0.bias".into(), t(&[3], 0.5)),
            ("2.weight".into(), t(&[3, 64, 3, 3], 0.5)),
            ("2.bias".into(), t(&[3], 0.5)),
        ];
        let e = map_layers(too_many, &slots, Path::new("x")).unwrap_err().to_string();
        assert!(e.contains("expected 1 convolutions"), "{e}");
        let odd: StateDict = vec![("running_mean".into(), t(&[3], 0.5))];
        assert!(map_layers(odd, &slots, Path::new("x")).is_err());
        assert!(map_layers(Vec::new(), &slots, Path::new("x")).is_err());
    }
}
