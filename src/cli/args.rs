//! Parsers for list-valued flags, and the shared model/output plumbing of commands.

use std::path::Path;

use unistyle::{device::parse_device, locate::locate_weights, Error, Model, Result};

use super::ModelArgs;

/// `3,2,1` → `[3, 2, 1]`.
pub fn parse_levels(s: &str) -> Result<Vec<usize>> {
    s.split(',')
        .map(|t| {
            let t = t.trim();
            t.parse::<usize>()
                .ok()
                .filter(|l| (1..=unistyle::model::MAX_LEVEL).contains(l))
                .ok_or_else(|| Error::param("--levels", format!("'{t}' is not a level 1..5 (in '{s}')")))
        })
        .collect()
}

/// `3=0.8,1=0.4` → `[(3, 0.8), (1, 0.4)]`.
pub fn parse_level_alpha(s: &str) -> Result<Vec<(usize, f64)>> {
    s.split(',')
        .map(|t| {
            let bad = || Error::param("--level-alpha", format!("'{t}' is not LEVEL=ALPHA (in '{s}')"));
            let (l, a) = t.trim().split_once('=').ok_or_else(bad)?;
            Ok((l.trim().parse().map_err(|_| bad())?, a.trim().parse().map_err(|_| bad())?))
        })
        .collect()
}

/// `0.3,0.7` → `[0.3, 0.7]`.
pub fn parse_floats(flag: &str, s: &str) -> Result<Vec<f64>> {
    s.split(',')
        .map(|t| {
            t.trim()
                .parse::<f64>()
                .map_err(|_| Error::param(flag, format!("'{}' is not a number (in '{s}')", t.trim())))
        })
        .collect()
}

/// Loads the model the flags point at.
pub fn load_model(args: &ModelArgs) -> Result<Model> {
    let device = parse_device(&args.device)?;
    let path = locate_weights(args.weights.as_deref())?;
    Model::load(&path, &device)
}

/// Refuses to write over any of the inputs (same file by canonical path).
pub fn check_output_not_input(out: &Path, inputs: &[&Path]) -> Result<()> {
    let Ok(out_c) = out.canonicalize() else {
        return Ok(()); // does not exist yet
    };
    for input in inputs {
        if input.canonicalize().is_ok_and(|c| c == out_c) {
            return Err(Error::param(
                "--out",
                format!("'{}' is an input file; refusing to overwrite it", out.display()),
            ));
        }
    }
    Ok(())
}
