//! Arbitrary text through the preset parser (`Preset::parse`, the code `Preset::load` runs
//! on a file's contents). Errors are expected; panics, hangs and invalid accepted presets
//! are bugs.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use unistyle::preset::{Preset, SearchPath};

/// A folder of empty files named like the images presets refer to (the parser only checks
/// that they exist), so that accepted presets are reachable.
const PRESET_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/presets/fuzz.toml");

fuzz_target!(|data: &[u8]| {
    // `Preset::load` rejects non-UTF-8 files before parsing; do the same.
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Preset::parse(text, Path::new(PRESET_PATH), &SearchPath::default()) {
        Ok(p) => {
            let s = &p.settings;
            assert!(!s.styles.is_empty());
            assert!(s.alpha.is_none_or(|a| (0.0..=1.0).contains(&a)));
            assert!(s.level_alpha.iter().all(|(_, a)| (0.0..=1.0).contains(a)));
            let mut alpha_levels: Vec<usize> = s.level_alpha.iter().map(|(l, _)| *l).collect();
            alpha_levels.sort_unstable();
            assert!(alpha_levels.windows(2).all(|w| w[0] < w[1]), "a level's alpha given twice: {:?}", s.level_alpha);
            assert!(s.blend.as_ref().is_none_or(|b| b.len() == s.styles.len() && b.iter().all(|w| w.is_finite())));
            assert!(s.masks.is_empty() || s.masks.len() + 1 == s.styles.len() || s.masks.len() == s.styles.len());
            assert!(!p.name.is_empty());
            // What the parser accepts, the settings' own validation (run again before every
            // job) must accept too.
            if let Err(e) = s.validate() {
                panic!("parsed preset fails Job::validate: {e}");
            }
            let _ = (p.kind(), format!("{p:?}"));
        }
        Err(e) => {
            // One line, whatever the file holds (the CLI prints errors as one line).
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.chars().any(char::is_control), "{msg:?}");
        }
    }
});
