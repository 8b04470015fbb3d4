//! Finds the upstream model files in a folder and assembles them into one `wct-vgg19/1`
//! tensor set.
//!
//! Upstream ships one truncated encoder per level (`vgg_normalised_conv{k}_1.pth`) whose shared
//! layers are identical; each layer is taken from the deepest file and the others must agree.
//! Each decoder comes as `feature_invertor_conv{k}_1.pth` (`nn.Sequential` keys) and/or
//! `vgg19_normalized_decoder{k}.pth.tar` (named keys); when both are present they must agree.
//! The authors' Torch7 originals (`*.t7`) are read too, after the PyTorch files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::keymap::{conv_slots, map_layers};
use super::torch7;
use super::torch_legacy::{read_state_dict, StateDict, TensorData};
use crate::error::{Error, Result};
use crate::model::architecture::{decoder_tensors, encoder_tensors, MAX_LEVEL};

/// File names accepted for the level-`k` encoder, in order of preference.
pub fn encoder_file_names(k: usize) -> Vec<String> {
    vec![
        format!("vgg_normalised_conv{k}_1.pth"),
        format!("vgg_normalized_conv{k}_1.pth"),
        format!("vgg_normalised_conv{k}_1.t7"),
    ]
}

/// File names accepted for the level-`k` decoder, in order of preference.
pub fn decoder_file_names(k: usize) -> Vec<String> {
    vec![
        format!("feature_invertor_conv{k}_1.pth"),
        format!("vgg19_normalized_decoder{k}.pth.tar"),
        format!("vgg19_normalized_decoder{k}.pth"),
        format!("feature_invertor_conv{k}_1.t7"),
    ]
}

/// The upstream files present in a folder, by level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamFiles {
    /// The folder searched.
    pub dir: PathBuf,
    /// The encoder file of each level found.
    pub encoders: BTreeMap<usize, PathBuf>,
    /// Every decoder file found for a level, preferred first.
    pub decoders: BTreeMap<usize, Vec<PathBuf>>,
}

impl UpstreamFiles {
    /// Looks for the known file names in `dir`.
    pub fn find(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::Io {
                what: "cannot read upstream weights folder",
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
            });
        }
        let mut files = Self { dir: dir.to_path_buf(), ..Self::default() };
        for k in 1..=MAX_LEVEL {
            if let Some(p) = encoder_file_names(k).into_iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
                files.encoders.insert(k, p);
            }
            let decoders: Vec<PathBuf> =
                decoder_file_names(k).into_iter().map(|n| dir.join(n)).filter(|p| p.is_file()).collect();
            if !decoders.is_empty() {
                files.decoders.insert(k, decoders);
            }
        }
        if files.decoders.is_empty() {
            return Err(Error::Weights {
                path: dir.to_path_buf(),
                reason: format!(
                    "no upstream decoder files found (expected e.g. {}, {} or {}; see weights/README.md)",
                    decoder_file_names(1)[0],
                    decoder_file_names(1)[1],
                    decoder_file_names(1)[3]
                ),
            });
        }
        Ok(files)
    }
}

/// The converted tensors, named as in `wct-vgg19/1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    /// Every tensor, by its `wct-vgg19/1` name.
    pub tensors: BTreeMap<String, TensorData>,
    /// Decoder levels, ascending.
    pub levels: Vec<usize>,
    /// File names read, in order.
    pub sources: Vec<String>,
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

fn same(a: &TensorData, b: &TensorData) -> bool {
    a.shape == b.shape
        && a.data.len() == b.data.len()
        && a.data.iter().zip(&b.data).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Reads a PyTorch legacy checkpoint, or a Torch7 model when the name ends in `.t7`.
pub fn read_checkpoint(path: &Path) -> Result<StateDict> {
    if path.extension().is_some_and(|e| e == "t7") {
        torch7::read_state_dict(path)
    } else {
        read_state_dict(path)
    }
}

/// Reads one file and maps it onto `tensors` (an architecture list); returns `(layer, tensor)`
/// pairs named `layer.weight` / `layer.bias`.
fn read_mapped(path: &Path, tensors: &[(String, Vec<usize>)]) -> Result<Vec<(String, TensorData)>> {
    let dict = read_checkpoint(path)?;
    let layers = map_layers(dict, &conv_slots(tensors), path)?;
    Ok(layers.into_iter().flat_map(|(l, w, b)| [(format!("{l}.weight"), w), (format!("{l}.bias"), b)]).collect())
}

/// Fails unless every tensor of `other` equals the same-named one of `reference`.
fn check_agree(
    reference: &BTreeMap<String, TensorData>,
    reference_path: &Path,
    other: &[(String, TensorData)],
    other_path: &Path,
) -> Result<()> {
    for (name, t) in other {
        if !reference.get(name).is_some_and(|r| same(r, t)) {
            return Err(Error::Weights {
                path: other_path.to_path_buf(),
                reason: format!(
                    "{name} differs from the one in '{}'; the files do not belong together",
                    reference_path.display()
                ),
            });
        }
    }
    Ok(())
}

/// Builds the tensor set for `levels` (default: every level with a decoder file).
pub fn assemble(files: &UpstreamFiles, levels: Option<&[usize]>) -> Result<Assembled> {
    let mut levels: Vec<usize> = match levels {
        Some(l) => l.to_vec(),
        None => files.decoders.keys().copied().collect(),
    };
    levels.sort_unstable();
    levels.dedup();
    let Some(&top) = levels.last() else {
        return Err(Error::param("levels", "no level to convert"));
    };
    for &k in &levels {
        if !files.decoders.contains_key(&k) {
            return Err(Error::param(
                "levels",
                format!(
                    "no decoder file for level {k} in '{}' (expected {})",
                    files.dir.display(),
                    decoder_file_names(k).join(" or ")
                ),
            ));
        }
    }
    let Some((&deepest, deepest_path)) = files.encoders.iter().next_back() else {
        return Err(Error::Weights {
            path: files.dir.clone(),
            reason: format!("no encoder file found (expected {})", encoder_file_names(top)[0]),
        });
    };
    if deepest < top {
        return Err(Error::Weights {
            path: files.dir.clone(),
            reason: format!(
                "decoder level {top} needs the encoder up to relu{top}_1, but the deepest encoder file is {} (expected {})",
                file_name(deepest_path),
                encoder_file_names(top)[0]
            ),
        });
    }

    let mut sources = vec![file_name(deepest_path)];
    let full: BTreeMap<String, TensorData> =
        read_mapped(deepest_path, &encoder_tensors(deepest))?.into_iter().collect();
    for (&k, path) in files.encoders.iter().rev().skip(1) {
        check_agree(&full, deepest_path, &read_mapped(path, &encoder_tensors(k))?, path)?;
        sources.push(file_name(path));
    }

    let mut tensors = BTreeMap::new();
    for (name, _) in encoder_tensors(top) {
        let layer_param = name.trim_start_matches("encoder.");
        let t = full
            .get(layer_param)
            .cloned()
            .ok_or_else(|| Error::Weights { path: deepest_path.clone(), reason: format!("missing {layer_param}") })?;
        tensors.insert(name, t);
    }

    for &k in &levels {
        let plan = decoder_tensors(k);
        let prefix = format!("decoder{k}.");
        let paths = files.decoders.get(&k).map(Vec::as_slice).unwrap_or_default();
        let Some((first, rest)) = paths.split_first() else {
            continue;
        };
        let primary: BTreeMap<String, TensorData> = read_mapped(first, &plan)?.into_iter().collect();
        sources.push(file_name(first));
        for other in rest {
            check_agree(&primary, first, &read_mapped(other, &plan)?, other)?;
            sources.push(file_name(other));
        }
        for (name, t) in primary {
            tensors.insert(format!("{prefix}{name}"), t);
        }
    }
    Ok(Assembled { tensors, levels, sources })
}
