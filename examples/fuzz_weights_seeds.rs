//! Writes the seed corpus of the `weights_loader` target: tiny safetensors files with the
//! level-1 tensors of `wct-vgg19/1`, valid and broken in one way each (names, shapes,
//! dtypes, metadata, values, truncation). Not from real weights: values are a fixed ramp.
//!
//! `cargo run -p unistyle-fuzz --example weights_seeds -- fuzz/corpus/weights_loader`

use std::collections::BTreeMap;
use std::path::PathBuf;

use unistyle::model::architecture::{decoder_tensors, encoder_tensors};
use unistyle::model::FORMAT;

struct Entry {
    dtype: &'static str,
    shape: Vec<usize>,
    data: Vec<u8>,
}

fn encode(dtype: &str, values: impl Iterator<Item = f32>) -> Vec<u8> {
    match dtype {
        "F32" => values.flat_map(f32::to_le_bytes).collect(),
        "F16" => values.flat_map(|v| half::f16::from_f32(v).to_le_bytes()).collect(),
        "BF16" => values.flat_map(|v| half::bf16::from_f32(v).to_le_bytes()).collect(),
        "F64" => values.flat_map(|v| (v as f64).to_le_bytes()).collect(),
        _ => values.flat_map(|v| (v as i32).to_le_bytes()).collect(),
    }
}

/// The level-1 tensors (encoder to relu1_1 and decoder 1) in `dtype`.
fn level1(dtype: &'static str) -> BTreeMap<String, Entry> {
    encoder_tensors(1)
        .into_iter()
        .chain(decoder_tensors(1))
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let data = encode(dtype, (0..n).map(|i| ((i % 17) as f32 - 8.0) / 64.0));
            (name, Entry { dtype, shape, data })
        })
        .collect()
}

fn json(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A safetensors file; `pad` header bytes to 8 (the format allows any header length).
fn file(tensors: &BTreeMap<String, Entry>, metadata: &[(&str, &str)], pad: bool) -> Vec<u8> {
    let mut fields: Vec<String> = Vec::new();
    if !metadata.is_empty() {
        let m: Vec<String> = metadata.iter().map(|(k, v)| format!("{}:{}", json(k), json(v))).collect();
        fields.push(format!("\"__metadata__\":{{{}}}", m.join(",")));
    }
    let mut data: Vec<u8> = Vec::new();
    for (name, e) in tensors {
        let start = data.len();
        data.extend(&e.data);
        let shape: Vec<String> = e.shape.iter().map(usize::to_string).collect();
        fields.push(format!(
            "{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{start},{}]}}",
            json(name),
            e.dtype,
            shape.join(","),
            data.len()
        ));
    }
    let mut header = format!("{{{}}}", fields.join(","));
    while pad && header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus/weights_loader".into()));
    std::fs::create_dir_all(&dir).expect("create the corpus folder");
    let meta: &[(&str, &str)] = &[("format", FORMAT), ("levels", "1")];
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();

    seeds.push(("valid-f32", file(&level1("F32"), meta, true)));
    seeds.push(("valid-f16", file(&level1("F16"), meta, true)));
    seeds.push(("valid-bf16-unaligned", file(&level1("BF16"), &[("format", FORMAT)], false)));
    seeds.push(("no-metadata", file(&level1("F32"), &[], true)));
    seeds.push(("wrong-format", file(&level1("F16"), &[("format", "wct-vgg19/0")], true)));
    seeds.push(("levels-mismatch", file(&level1("F16"), &[("format", FORMAT), ("levels", "1,2")], true)));
    seeds.push(("levels-not-numbers", file(&level1("F16"), &[("format", FORMAT), ("levels", "one")], true)));

    let mut t = level1("F16");
    t.remove("decoder1.conv1_1.bias");
    seeds.push(("missing-tensor", file(&t, meta, true)));

    let mut t = level1("F16");
    t.insert("decoder1.extra.weight".into(), Entry { dtype: "F16", shape: vec![1], data: vec![0, 0] });
    seeds.push(("unexpected-tensor", file(&t, meta, true)));

    let mut t = level1("F16");
    if let Some(e) = t.get_mut("encoder.conv0.weight") {
        e.shape = vec![3, 1, 3, 1];
    }
    seeds.push(("wrong-shape", file(&t, meta, true)));

    let mut t = level1("F16");
    t.insert("encoder.conv0.bias".into(), Entry { dtype: "I32", shape: vec![3], data: encode("I32", [1.0, 2.0, 3.0].into_iter()) });
    t.insert("encoder.conv0.weight".into(), Entry { dtype: "F64", shape: vec![3, 3, 1, 1], data: encode("F64", (0..9).map(|i| i as f32)) });
    seeds.push(("wrong-dtype", file(&t, meta, true)));

    let mut t = level1("F16");
    if let Some(e) = t.get_mut("decoder1.conv1_1.bias") {
        e.data = encode("F16", [f32::NAN, 0.0, f32::INFINITY].into_iter());
    }
    seeds.push(("non-finite", file(&t, meta, true)));

    let mut t = BTreeMap::new();
    t.insert("decoder1.conv1_1.bias".into(), Entry { dtype: "F16", shape: vec![3], data: encode("F16", [0.0; 3].into_iter()) });
    seeds.push(("decoder-bias-only", file(&t, meta, true)));
    seeds.push(("no-decoder", file(&BTreeMap::new(), meta, true)));

    let whole = file(&level1("F16"), meta, true);
    seeds.push(("truncated", whole[..whole.len() / 2].to_vec()));

    for (name, bytes) in seeds {
        let path = dir.join(format!("seed-{name}.safetensors"));
        std::fs::write(&path, bytes).expect("write a seed");
        println!("{}", path.display());
    }
}
