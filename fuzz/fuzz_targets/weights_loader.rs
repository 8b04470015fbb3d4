//! Arbitrary bytes as a weights file: `WeightsFile::from_bytes` (the validation
//! `WeightsFile::open` and `Model::load` run), then building the networks from what it
//! accepts. Errors are expected; panics are bugs.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use unistyle::model::{Model, WeightsFile, MAX_LEVEL};
use unistyle::Device;

fuzz_target!(|data: &[u8]| {
    match WeightsFile::from_bytes(data, Path::new("fuzz.safetensors")) {
        Ok(file) => {
            assert!(!file.levels.is_empty());
            assert!(file.levels.windows(2).all(|w| w[0] < w[1]));
            assert!(file.levels.iter().all(|l| (1..=MAX_LEVEL).contains(l)));
            assert!(file.encoder_level >= *file.levels.last().unwrap_or(&0) && file.encoder_level <= MAX_LEVEL);
            assert_eq!(file.content_hash.len(), 64);
            let levels = file.levels.clone();
            match Model::from_weights(file, &Device::Cpu) {
                Ok(model) => assert_eq!(model.levels(), levels),
                Err(e) => panic!("validated weights do not build a model: {e}"),
            }
        }
        Err(e) => {
            // One line, whatever names the file holds.
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.chars().any(char::is_control), "{msg:?}");
        }
    }
});
