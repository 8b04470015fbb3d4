//! The weights tooling: converting the upstream PyTorch checkpoints and Torch7 models (library and CLI),
//! both upstream key styles, corrupt inputs, levels 4–5 with generated files, f16 storage,
//! and `weights info` / `weights verify`.

mod common;
#[path = "weights_tool/t7_writer.rs"]
mod t7_writer;
#[path = "weights_tool/torch_writer.rs"]
mod torch_writer;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::Device;
use common::*;
use safetensors::SafeTensors;
use torch_writer::{legacy_bytes, simple_state_dict, StorageSpec, TensorSpec};
use unistyle::convert::{self, keymap, ConvertOptions, StorageDtype};
use unistyle::model::architecture::{decoder_plan, decoder_tensors, encoder_segment, encoder_tensors, Step};
use unistyle::{Border, Error, Model};

/// sha256 of the shared levels 1–3 file, from `weights/LAYOUT.md`.
const SHARED_SHA256: &str = "dd01b6a964de81c06af4c06cb27d815045a6810e49de937a1d24c6cde46e6104";

fn upstream() -> PathBuf {
    shared_path("weights/upstream")
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// name → (dtype, shape, raw bytes) of a safetensors file.
fn tensors_of(bytes: &[u8]) -> BTreeMap<String, (safetensors::Dtype, Vec<usize>, Vec<u8>)> {
    let st = SafeTensors::deserialize(bytes).expect("safetensors");
    st.tensors().into_iter().map(|(n, v)| (n, (v.dtype(), v.shape().to_vec(), v.data().to_vec()))).collect()
}

fn metadata_of(bytes: &[u8]) -> HashMap<String, String> {
    let (_, header) = SafeTensors::read_metadata(bytes).expect("header");
    header.metadata().clone().unwrap_or_default()
}

/// Asserts `file` holds exactly the shared file's tensors, bit for bit.
fn assert_same_as_shared(file: &Path) {
    let ours = std::fs::read(file).expect("converted file");
    let theirs = std::fs::read(relu3_weights()).expect("shared weights");
    let (a, b) = (tensors_of(&ours), tensors_of(&theirs));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "tensor names");
    for (name, t) in &a {
        assert_eq!(t, &b[name], "tensor {name} differs");
    }
    let m = metadata_of(&ours);
    assert_eq!(m["format"], "wct-vgg19/1");
    assert_eq!(m["levels"], "1,2,3");
    assert_eq!(m["dtype"], "f32");
    assert!(m["source"].contains("vgg_normalised_conv3_1."), "{}", m["source"]);
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A failed command: non-zero exit, one line on stderr containing `needle`, no panic.
fn assert_clean_failure(o: &std::process::Output, needle: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "should fail; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "'{needle}' not in: {err}");
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy upstream file");
}

#[test]
fn library_conversion_equals_shared_file() {
    let dir = tmp();
    let out = dir.path().join("w.safetensors");
    let r = convert::convert(&upstream(), &out, &ConvertOptions::default()).expect("convert");
    assert_eq!(r.levels, [1, 2, 3]);
    assert_eq!(r.tensors, 30);
    assert_eq!(r.sha256, convert::sha256_hex(&std::fs::read(&out).unwrap()));
    assert_same_as_shared(&out);
    // Reproducible: converting again gives the same bytes.
    let out2 = dir.path().join("w2.safetensors");
    let r2 = convert::convert(&upstream(), &out2, &ConvertOptions::default()).unwrap();
    assert_eq!(r.sha256, r2.sha256);
    // And the model built from it is usable.
    let m = Model::load(&out, &Device::Cpu).expect("load converted");
    assert_eq!(m.levels(), [1, 2, 3]);
}

#[test]
fn cli_conversion_equals_shared_file() {
    let dir = tmp();
    let out = dir.path().join("w.safetensors");
    let o = run(&["weights", "convert", "--from", s(&upstream()), "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("levels 1,2,3, 30 tensors, f32"), "{}", stdout(&o));
    assert_same_as_shared(&out);
    // Only the output was created in the folder (no temporary leftovers).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn both_key_styles_are_read() {
    let reference = tensors_of(&std::fs::read(relu3_weights()).unwrap());
    for (file, style) in
        [("feature_invertor_conv3_1.pth", "1.weight"), ("vgg19_normalized_decoder3.pth.tar", "seq.conv3_1.weight")]
    {
        let path = upstream().join(file);
        let dict = convert::read_state_dict(&path).expect("read");
        assert_eq!(dict.len(), 10);
        assert_eq!(dict[0].0, style, "{file}");
        let layers = keymap::map_layers(dict, &keymap::conv_slots(&decoder_tensors(3)), &path).expect("map");
        for (layer, w, b) in layers {
            for (kind, t) in [("weight", w), ("bias", b)] {
                let (_, shape, bytes) = &reference[&format!("decoder3.{layer}.{kind}")];
                assert_eq!(&t.shape, shape);
                let ours: Vec<u8> = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
                assert_eq!(&ours, bytes, "{file}: {layer}.{kind}");
            }
        }
    }
    // A folder with only one decoder style converts to the same result either way.
    for decoder_name in ["feature_invertor_conv{k}_1.pth", "vgg19_normalized_decoder{k}.pth.tar"] {
        let dir = tmp();
        for k in 1..=3 {
            let enc = format!("vgg_normalised_conv{k}_1.pth");
            copy(&upstream().join(&enc), &dir.path().join(&enc));
            let dec = decoder_name.replace("{k}", &k.to_string());
            copy(&upstream().join(&dec), &dir.path().join(&dec));
        }
        let out = dir.path().join("out.safetensors");
        convert::convert(dir.path(), &out, &ConvertOptions::default()).expect(decoder_name);
        assert_same_as_shared(&out);
    }
}

#[test]
fn truncated_and_corrupt_checkpoints_are_errors() {
    let path = upstream().join("vgg_normalised_conv2_1.pth");
    let bytes = std::fs::read(&path).unwrap();
    assert!(convert::parse_state_dict(&bytes, &path).is_ok());
    // Every cut inside the pickles, then a sample of cuts inside the storage data.
    let cuts = (0..2000).chain((2000..bytes.len()).step_by(4099)).chain([bytes.len() - 1]);
    for n in cuts {
        let r = convert::parse_state_dict(&bytes[..n], &path);
        assert!(matches!(r, Err(Error::Weights { .. })), "cut at {n}: {:?}", r.map(|d| d.len()));
    }
    // Trailing garbage is refused too.
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(convert::parse_state_dict(&longer, &path).is_err());
    // Flipped bytes give an error or (in float data) different values, never a panic.
    let mut state = 0x2545F4914F6CDD1Du64;
    for _ in 0..3000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut c = bytes.clone();
        let at = (state % 1400) as usize;
        c[at] ^= (state >> 32) as u8 | 1;
        let _ = convert::parse_state_dict(&c, &path);
    }
    // Other containers get an explanation.
    let zip = convert::parse_state_dict(b"PK\x03\x04rest", &path).unwrap_err().to_string();
    assert!(zip.contains("zip"), "{zip}");
    assert!(convert::parse_state_dict(b"", &path).is_err());
    assert!(convert::parse_state_dict(b"hello", &path).is_err());
}

#[test]
fn cli_reports_a_corrupt_checkpoint_and_writes_nothing() {
    let dir = tmp();
    for f in std::fs::read_dir(upstream()).unwrap() {
        let f = f.unwrap().path();
        copy(&f, &dir.path().join(f.file_name().unwrap()));
    }
    let victim = dir.path().join("feature_invertor_conv2_1.pth");
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let out_dir = tmp();
    let out = out_dir.path().join("w.safetensors");
    std::fs::write(&out, b"previous contents").unwrap();
    let o = run(&["weights", "convert", "--from", s(dir.path()), "--out", s(&out)]);
    assert_clean_failure(&o, "feature_invertor_conv2_1.pth");
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"previous contents");
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 1, "no temporary file left");

    let o = run(&["weights", "convert", "--from", "/definitely/not/here", "--out", s(&out)]);
    assert_clean_failure(&o, "/definitely/not/here");
    let empty = tmp();
    let o = run(&["weights", "convert", "--from", s(empty.path()), "--out", s(&out)]);
    assert_clean_failure(&o, "no upstream decoder files");
    let o = run(&["weights", "convert", "--from", s(&upstream()), "--out", s(&out), "--levels", "4"]);
    assert_clean_failure(&o, "level 4");
}

/// Synthetic checkpoints: Half storage, strided views, storage offsets and a nested dict.
#[test]
fn storage_layouts_are_made_contiguous() {
    // A 2×3 tensor stored transposed (stride [1, 2]) at offset 1 of a shared storage.
    let values: Vec<f32> = (0..8).map(|i| i as f32).collect();
    let storages = [StorageSpec::float("s0", &values), StorageSpec::half("s1", &[0.5, -1.25, 2.0])];
    let tensors = [
        TensorSpec { name: "t.weight".into(), storage: 0, offset: 1, shape: vec![2, 3], stride: vec![1, 2] },
        TensorSpec { name: "t.bias".into(), storage: 0, offset: 7, shape: vec![1], stride: vec![1] },
        TensorSpec { name: "h.bias".into(), storage: 1, offset: 0, shape: vec![3], stride: vec![1] },
    ];
    let path = Path::new("synthetic.pth");
    for nest in [None, Some("state_dict")] {
        let bytes = legacy_bytes(&tensors, &storages, nest);
        let d = convert::parse_state_dict(&bytes, path).expect("synthetic");
        assert_eq!(d[0].0, "t.weight");
        assert_eq!(d[0].1.shape, [2, 3]);
        assert_eq!(d[0].1.data, [1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
        assert_eq!(d[1].1.data, [7.0]);
        assert_eq!(d[2].1.data, [0.5, -1.25, 2.0]);
        assert_eq!(d[2].1.storage, "HalfStorage");
    }
    // A view reaching past its storage is refused.
    let bad = [TensorSpec { name: "t.weight".into(), storage: 0, offset: 3, shape: vec![2, 3], stride: vec![3, 1] }];
    let e = convert::parse_state_dict(&legacy_bytes(&bad, &storages[..1], None), path).unwrap_err();
    assert!(e.to_string().contains("t.weight"), "{e}");
}

/// Deterministic values in -scale..scale.
fn noise(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// `nn.Sequential` indices of the convolutions of a plan, as the upstream files number them
/// (reflection pad, conv, ReLU per conv; one module per pool or upsampling).
fn sequential_indices(steps: &[Step], first: usize) -> Vec<usize> {
    let mut idx = first;
    let mut out = Vec::new();
    for s in steps {
        match s {
            Step::Conv(c) => {
                out.push(idx + 1);
                idx += if c.relu { 3 } else { 2 };
            }
            Step::Pool | Step::Up => idx += 1,
            Step::Tap(_) => {}
        }
    }
    out
}

/// Writes an upstream-style file for the tensors `names` (an architecture list), with keys
/// either `nn.Sequential` indices or `seq.<layer>`; returns layout name → values.
fn write_upstream(
    path: &Path,
    names: &[(String, Vec<usize>)],
    indices: Option<&[usize]>,
    values: &mut dyn FnMut(&str, usize) -> Vec<f32>,
) -> BTreeMap<String, Vec<f32>> {
    let mut entries = Vec::new();
    let mut expected = BTreeMap::new();
    for (i, (name, shape)) in names.iter().enumerate() {
        let mut parts = name.rsplit('.');
        let (kind, layer) = (parts.next().unwrap(), parts.next().unwrap());
        let key = match indices {
            Some(ix) => format!("{}.{kind}", ix[i / 2]),
            None => format!("seq.{layer}.{kind}"),
        };
        let v = values(name, shape.iter().product());
        expected.insert(name.clone(), v.clone());
        entries.push((key, shape.clone(), v));
    }
    std::fs::write(path, simple_state_dict(&entries)).unwrap();
    expected
}

#[test]
fn levels_4_and_5_from_generated_upstream_files() {
    let dir = tmp();
    let mut seed = 0u64;
    let mut gen = |_: &str, n: usize| {
        seed += 1;
        noise(n, seed, 0.05)
    };
    // Encoders 4 and 5 (indexed keys), sharing their first layers.
    let enc5_names = encoder_tensors(5);
    let mut enc_steps = vec![];
    for l in 1..=5 {
        enc_steps.extend(encoder_segment(l));
    }
    // conv0 is index 0; the rest follow the encoder plan.
    let mut enc_idx = vec![0];
    enc_idx.extend(sequential_indices(&enc_steps, 1));
    let enc5 = write_upstream(&dir.path().join("vgg_normalised_conv5_1.pth"), &enc5_names, Some(&enc_idx), &mut gen);
    let enc4_names = encoder_tensors(4);
    let mut same = |name: &str, _n: usize| enc5[name].clone();
    write_upstream(&dir.path().join("vgg_normalised_conv4_1.pth"), &enc4_names, Some(&enc_idx), &mut same);
    // Decoder 4 with indexed keys, decoder 5 with named keys.
    let dec4_idx = sequential_indices(&decoder_plan(4), 0);
    let dec4 = write_upstream(
        &dir.path().join("feature_invertor_conv4_1.pth"),
        &decoder_tensors(4),
        Some(&dec4_idx),
        &mut gen,
    );
    let dec5 =
        write_upstream(&dir.path().join("vgg19_normalized_decoder5.pth.tar"), &decoder_tensors(5), None, &mut gen);

    let out = dir.path().join("w45.safetensors");
    let r = convert::convert(dir.path(), &out, &ConvertOptions::default()).expect("convert 4,5");
    assert_eq!(r.levels, [4, 5]);
    let got = tensors_of(&std::fs::read(&out).unwrap());
    let mut expected: BTreeMap<String, Vec<f32>> = enc5;
    expected.extend(dec4);
    expected.extend(dec5);
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (name, (_, _, bytes)) in &got {
        let want: Vec<u8> = expected[name].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(bytes, &want, "{name}");
    }
    let m = Model::load(&out, &Device::Cpu).expect("load 4,5");
    assert_eq!(m.levels(), [4, 5]);

    // Only level 4: the encoder is cut at conv4_1.
    let out4 = dir.path().join("w4.safetensors");
    let opts = ConvertOptions { levels: Some(vec![4]), ..Default::default() };
    convert::convert(dir.path(), &out4, &opts).expect("convert 4");
    let got4 = tensors_of(&std::fs::read(&out4).unwrap());
    assert!(got4.contains_key("encoder.conv4_1.weight") && !got4.contains_key("encoder.conv4_2.weight"));

    // A shallower encoder that disagrees with the deepest one is refused.
    let mut other = |_: &str, n: usize| noise(n, 99, 0.1);
    write_upstream(&dir.path().join("vgg_normalised_conv4_1.pth"), &enc4_names, Some(&enc_idx), &mut other);
    let e = convert::convert(dir.path(), &dir.path().join("bad.safetensors"), &ConvertOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("vgg_normalised_conv4_1.pth") && e.contains("differs"), "{e}");
    assert!(!dir.path().join("bad.safetensors").exists());
}

#[test]
fn f16_storage_loads_back_close() {
    let dir = tmp();
    let out = dir.path().join("w16.safetensors");
    let o = run(&["weights", "convert", "--from", s(&upstream()), "--out", s(&out), "--f16"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f32_size = std::fs::metadata(relu3_weights()).unwrap().len();
    let f16_size = std::fs::metadata(&out).unwrap().len();
    assert!(f16_size < f32_size * 55 / 100, "{f16_size} vs {f32_size}");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(metadata_of(&bytes)["dtype"], "f16");
    assert!(tensors_of(&bytes).values().all(|(d, _, _)| *d == safetensors::Dtype::F16));

    let half = Model::load(&out, &Device::Cpu).expect("f16 file loads");
    let full = model();
    assert_eq!(half.levels(), full.levels());
    // Weights within f16 rounding.
    let a = unistyle::model::WeightsFile::open(&out).unwrap();
    let b = unistyle::model::WeightsFile::open(&relu3_weights()).unwrap();
    for (name, t) in &b.tensors {
        let x = flat(t);
        let y = flat(&a.tensors[name]);
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() <= p.abs() * 1e-3 + 1e-7, "{name}: {p} vs {q}");
        }
    }
    // And a level-3 reconstruction stays close to the f32 model's.
    let img = unistyle::image_io::load_picture(&image("content/tubingen_256.png"), "content").unwrap();
    let x = candle_core::Tensor::from_vec(img.rgb.clone(), (1, 3, img.height, img.width), &Device::Cpu).unwrap();
    let recon = |m: &Model| {
        let f = m.encode(&x, 3, Border::Reflect).unwrap();
        flat(&m.decode(3, &f[2], img.height, img.width, Border::Reflect).unwrap())
    };
    let p = psnr(&recon(&half), &recon(full));
    eprintln!("f16 vs f32 level-3 reconstruction: {p:.1} dB");
    assert!(p > 60.0, "f16 vs f32 reconstruction PSNR {p:.1} dB");
}

#[test]
fn info_prints_levels_tensors_metadata_and_hash() {
    let o = run(&["weights", "info", s(&relu3_weights())]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(&format!("sha256: {SHARED_SHA256}")), "{text}");
    assert!(text.contains("levels: 1,2,3"), "{text}");
    assert!(text.contains("encoder: relu3_1"), "{text}");
    assert!(text.contains("format = wct-vgg19/1"), "{text}");
    assert!(text.contains("dtype = f32"), "{text}");
    assert!(text.contains("tensors: 30"), "{text}");
    assert!(text.contains("encoder.conv3_1.weight [256, 128, 3, 3] F32"), "{text}");
    assert!(text.contains("decoder1.conv1_1.bias [3] F32"), "{text}");

    let info = convert::inspect(&relu3_weights()).unwrap();
    assert_eq!(info.sha256, SHARED_SHA256);
    assert_eq!(info.tensors.len(), 30);
    assert_eq!(info.levels, [1, 2, 3]);

    let o = run(&["weights", "info", s(&upstream().join("vgg_normalised_conv1_1.pth"))]);
    assert_clean_failure(&o, "vgg_normalised_conv1_1.pth");
}

#[test]
fn verify_accepts_good_files_and_names_the_problem_otherwise() {
    let o = run(&["weights", "verify", s(&relu3_weights())]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: "), "{}", stdout(&o));
    assert!(stdout(&o).contains("levels 1,2,3"), "{}", stdout(&o));

    let dir = tmp();
    let good = std::fs::read(relu3_weights()).unwrap();
    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &good[..good.len() - 100]).unwrap();
    let o = run(&["weights", "verify", s(&truncated)]);
    assert_clean_failure(&o, "truncated.safetensors");

    // A valid safetensors file missing one tensor.
    let mut tensors: BTreeMap<String, convert::TensorData> = BTreeMap::new();
    let wf = unistyle::model::WeightsFile::open(&relu3_weights()).unwrap();
    for (name, t) in &wf.tensors {
        if name != "decoder2.conv1_2.bias" {
            tensors.insert(
                name.clone(),
                convert::TensorData { shape: t.dims().to_vec(), data: flat(t), storage: "FloatStorage".into() },
            );
        }
    }
    let meta = convert::layout_metadata(&[1, 2, 3], StorageDtype::F32, "test");
    let missing = dir.path().join("missing.safetensors");
    let bytes = convert::to_safetensors_bytes(&tensors, &meta, StorageDtype::F32, &missing).unwrap();
    std::fs::write(&missing, &bytes).unwrap();
    let o = run(&["weights", "verify", s(&missing)]);
    assert_clean_failure(&o, "missing tensor 'decoder2.conv1_2.bias'");
    assert!(stderr(&o).contains("missing.safetensors"));
    // The library refuses to write such a file at all.
    let Err(e) = convert::write_validated(&bytes, &dir.path().join("never.safetensors")) else {
        panic!("an incomplete file was written");
    };
    assert!(e.to_string().contains("decoder2.conv1_2.bias"), "{e}");
    assert!(!dir.path().join("never.safetensors").exists());

    let o = run(&["weights", "verify", s(&dir.path().join("absent.safetensors"))]);
    assert_clean_failure(&o, "absent.safetensors");
}

#[test]
fn generated_sequential_indices_match_upstream_files() {
    // The synthetic level-5 upstream files above are only meaningful if the generated index
    // layout matches the reference Sequentials; check it against the known level-3 files.
    let mut steps = vec![];
    for l in 1..=3 {
        steps.extend(encoder_segment(l));
    }
    let mut idx = vec![0];
    idx.extend(sequential_indices(&steps, 1));
    let keys: Vec<String> = convert::read_state_dict(&upstream().join("vgg_normalised_conv3_1.pth"))
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| k.ends_with("weight"))
        .collect();
    let want: Vec<String> = idx.iter().map(|i| format!("{i}.weight")).collect();
    assert_eq!(keys, want);
    let dec: Vec<String> = convert::read_state_dict(&upstream().join("feature_invertor_conv3_1.pth"))
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| k.ends_with("weight"))
        .collect();
    let want: Vec<String> = sequential_indices(&decoder_plan(3), 0).iter().map(|i| format!("{i}.weight")).collect();
    assert_eq!(dec, want);
}

/// Writes the shared levels 1–3 weights as the authors' Torch7 files into `dir`
/// (decoders with cudnn modules and CUDA tensors, as in the authors' GPU release).
fn write_t7_upstream(dir: &Path) {
    use t7_writer::{conv, sequential, t7_bytes};
    let wf = unistyle::model::WeightsFile::open(&relu3_weights()).unwrap();
    let params = |prefix: &str| {
        let tensors = &wf.tensors;
        let prefix = prefix.to_string();
        move |layer: &str| {
            let w = &tensors[&format!("{prefix}.{layer}.weight")];
            let b = &tensors[&format!("{prefix}.{layer}.bias")];
            (w.dims().to_vec(), flat(w), flat(b))
        }
    };
    let mut enc = params("encoder");
    for k in 1..=3 {
        let (shape, w, b) = enc("conv0");
        let steps: Vec<Step> = (1..=k).flat_map(encoder_segment).collect();
        let model = sequential(vec![conv((&shape, w), b, false)], &steps, &mut enc, false);
        std::fs::write(dir.join(format!("vgg_normalised_conv{k}_1.t7")), t7_bytes(&model)).unwrap();
        let mut dec = params(&format!("decoder{k}"));
        let model = sequential(vec![], &decoder_plan(k), &mut dec, true);
        std::fs::write(dir.join(format!("feature_invertor_conv{k}_1.t7")), t7_bytes(&model)).unwrap();
    }
}

#[test]
fn torch7_models_convert_to_the_shared_file() {
    let dir = tmp();
    write_t7_upstream(dir.path());
    let out = dir.path().join("w.safetensors");
    let o = run(&["weights", "convert", "--from", s(dir.path()), "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_as_shared(&out);
    assert!(metadata_of(&std::fs::read(&out).unwrap())["source"].contains("feature_invertor_conv3_1.t7"));

    // Next to the PyTorch files, the Torch7 decoders are cross-checked against them.
    for f in std::fs::read_dir(upstream()).unwrap() {
        let f = f.unwrap().path();
        copy(&f, &dir.path().join(f.file_name().unwrap()));
    }
    let out2 = dir.path().join("w2.safetensors");
    let r = convert::convert(dir.path(), &out2, &ConvertOptions::default()).expect("pth + t7");
    assert!(r.sources.iter().any(|s| s == "feature_invertor_conv2_1.t7"), "{:?}", r.sources);
    assert_same_as_shared(&out2);

    // A truncated .t7 is a clean error.
    let t7 = dir.path().join("feature_invertor_conv2_1.t7");
    let bytes = std::fs::read(&t7).unwrap();
    for n in [0, 3, 100, bytes.len() / 2, bytes.len() - 1] {
        let e = convert::parse_t7_state_dict(&bytes[..n], &t7).unwrap_err();
        assert!(matches!(e, Error::Weights { .. }), "{e}");
    }
    std::fs::write(&t7, &bytes[..bytes.len() / 3]).unwrap();
    let o = run(&["weights", "convert", "--from", s(dir.path()), "--out", s(&dir.path().join("w3.safetensors"))]);
    assert_clean_failure(&o, "feature_invertor_conv2_1.t7");
}

/// The CLI with a fresh user account's environment: `home` as HOME, `xdg` (if any) as
/// XDG_DATA_HOME, no UNISTYLE_WEIGHTS.
fn as_user(home: &Path, xdg: Option<&Path>, args: &[&str]) -> std::process::Output {
    let mut cmd = bin();
    cmd.args(args).env("HOME", home).env_remove("UNISTYLE_WEIGHTS").env_remove("XDG_DATA_HOME");
    if let Some(x) = xdg {
        cmd.env("XDG_DATA_HOME", x);
    }
    cmd.output().unwrap()
}

#[test]
fn install_puts_weights_where_a_fresh_user_account_finds_them() {
    let t = tmp();
    let home = t.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let default_dir = home.join(".local/share/unistyle/weights");

    // A fresh account: nothing found, and the message lists every place searched.
    let o = as_user(&home, None, &["weights", "where"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    for place in
        ["--weights (not given)", "UNISTYLE_WEIGHTS (not set)", &default_dir.display().to_string(), "weights install"]
    {
        assert!(e.contains(place), "not-found message lacks '{place}': {e}");
    }

    // A file that is not weights: refused, nothing created.
    let junk = t.path().join("junk.safetensors");
    std::fs::write(&junk, b"not weights").unwrap();
    assert_clean_failure(&as_user(&home, None, &["weights", "install", junk.to_str().unwrap()]), "junk.safetensors");
    assert!(!default_dir.exists(), "a failed install created the weights folder");

    // Installing the official files converts them into the per-user folder.
    let o = as_user(&home, None, &["weights", "install", upstream().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let installed = default_dir.join("wct-vgg19-relu3.safetensors");
    assert_same_as_shared(&installed);
    assert!(stdout(&o).contains("converted and installed"), "{}", stdout(&o));
    let o = as_user(&home, None, &["weights", "where"]);
    assert_eq!(stdout(&o).trim(), installed.display().to_string(), "{}", stderr(&o));
    // No leftover temporary file beside it: the weights and the note naming them.
    let mut names: Vec<String> = std::fs::read_dir(&default_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["installed.txt", "wct-vgg19-relu3.safetensors"]);

    // A run without --weights uses it.
    let out = t.path().join("out.png");
    let o = as_user(
        &home,
        None,
        &Cli::stylize()
            .content(image("content/tubingen_256.png"))
            .style(image("style/starry_256.png"))
            .levels("1")
            .flag("max-size", 64)
            .out(&out)
            .quiet()
            .args()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success() && out.exists(), "{}", stderr(&o));

    // XDG_DATA_HOME takes over from ~/.local/share; a verified .safetensors is copied there.
    let xdg = t.path().join("xdg");
    let o = as_user(&home, Some(&xdg), &["weights", "where"]);
    assert!(stderr(&o).contains(&xdg.join("unistyle/weights").display().to_string()), "{}", stderr(&o));
    let o = as_user(&home, Some(&xdg), &["weights", "install", relu3_weights().to_str().unwrap()]);
    assert!(o.status.success() && stdout(&o).contains("verified and installed"), "{}", stderr(&o));
    let o = as_user(&home, Some(&xdg), &["weights", "where"]);
    assert_eq!(stdout(&o).trim(), xdg.join("unistyle/weights/wct-vgg19-relu3.safetensors").display().to_string());
    // UNISTYLE_WEIGHTS still comes first.
    let o = as_user(&home, Some(&xdg), &["weights", "where"]);
    assert!(o.status.success());
    let mut cmd = bin();
    let o = cmd.args(["weights", "where"]).env("HOME", &home).env("UNISTYLE_WEIGHTS", &junk).output().unwrap();
    assert_eq!(stdout(&o).trim(), junk.display().to_string());
    println!("fresh account: weights found at {}", installed.display());
}

#[test]
fn the_c_abi_finds_installed_weights_with_a_null_path() {
    // Through ctypes in a separate process, so that this process's environment stays as it is.
    let Ok(py) = std::process::Command::new("python3").arg("--version").output() else {
        panic!("python3 is needed to load the C library in a fresh environment");
    };
    assert!(py.status.success());
    let t = tmp();
    let dir = t.path().join("data/unistyle/weights");
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!(
        "import ctypes\nlib = ctypes.CDLL({lib:?})\nlib.unistyle_last_error.restype = ctypes.c_char_p\nctx = ctypes.c_void_p()\n\
         print(lib.unistyle_context_create(None, None, ctypes.byref(ctx)), lib.unistyle_last_error().decode())\n",
        lib = common::cbuild::lib_path().display().to_string()
    );
    let run = || {
        let o = std::process::Command::new("python3")
            .args(["-c", &script])
            .env("XDG_DATA_HOME", t.path().join("data"))
            .env_remove("UNISTYLE_WEIGHTS")
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string() + &String::from_utf8_lossy(&o.stderr)
    };
    let missing = run();
    assert!(
        missing.starts_with("-6 ")
            && missing.contains("weights_path (not given)")
            && missing.contains(&dir.display().to_string()),
        "{missing}"
    );
    assert!(!missing.contains("--weights"), "a CLI flag named through the C ABI: {missing}");
    std::fs::copy(relu3_weights(), dir.join("wct-vgg19-relu3.safetensors")).unwrap();
    assert_eq!(run(), "0", "context_create(NULL) with installed weights");
}
