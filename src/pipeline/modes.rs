//! The modes beyond the paper — patch swap, optimal-transport colouring, variations, stroke
//! scale, photo mode — as one set of options with one set of rules. The command line, presets
//! and the C ABI fill a [`Modes`] and the library checks it here, once; messages name each
//! option by its preset key (`variation`, `stroke_scale`, …), which the front ends translate
//! to their own terms.

use crate::error::{Error, Result};
pub use crate::transform::TransformKind;

use crate::rules;

/// Options of the modes beyond plain WCT. The default is plain WCT: no patch swap, the
/// `wct` transform, no variation, seed 0, stroke scale 1, no photo smoothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Modes {
    /// Swap whitened content patches for style patches at the coarsest level.
    pub patch_swap: bool,
    /// Whitening+colouring or optimal transport.
    pub transform: TransformKind,
    /// Strength of the random rotation between whitening and colouring (0 = none).
    pub variation: f64,
    /// Seed of the variation: the same seed gives bit-identical output.
    pub seed: u64,
    /// Scales the style image is taken at (their statistics mixed); `[1]` = as given.
    pub stroke_scale: Vec<f64>,
    /// Edge-preserving smoothing of the result guided by the content (photo realism).
    pub photo: bool,
}

impl Default for Modes {
    fn default() -> Self {
        Self {
            patch_swap: false,
            transform: TransformKind::Wct,
            variation: 0.0,
            seed: 0,
            stroke_scale: vec![rules::DEFAULT_STROKE_SCALE],
            photo: false,
        }
    }
}

impl Modes {
    /// Checks every value and combination that needs no model or image ([`crate::rules`]).
    pub fn validate(&self) -> Result<()> {
        self.validate_with_masks(0)
    }

    /// The rules that depend on the job: patch swap works on the whole image, not per mask.
    pub fn validate_with_masks(&self, masks: usize) -> Result<()> {
        Ok(self.check(masks)?)
    }

    /// The modes' rules, the broken one named by its [`crate::rules::Param`].
    pub fn check(&self, masks: usize) -> rules::Rule {
        rules::variation(self.variation)?;
        rules::stroke_scales(&self.stroke_scale)?;
        rules::patch_swap(self.patch_swap, self.transform == TransformKind::Ost, masks)
    }

    /// Whether the style must be taken at other scales than its own.
    pub fn rescales_style(&self) -> bool {
        self.stroke_scale != [1.0]
    }
}

/// Stroke scales: one to [`rules::MAX_STROKE_SCALES`], each in
/// [`rules::STROKE_SCALE_MIN`]..=[`rules::STROKE_SCALE_MAX`], none repeated.
pub fn check_stroke_scale(scales: &[f64]) -> Result<()> {
    Ok(rules::stroke_scales(scales)?)
}

/// The transform kind named `name` (`wct` or `ost`), refused in the terms of `key`.
pub fn parse_transform(key: &str, name: &str) -> Result<TransformKind> {
    TransformKind::parse(name.trim()).ok_or_else(|| {
        let known: Vec<&str> = TransformKind::NAMES.iter().map(|(n, _)| *n).collect();
        Error::param(key, format!("'{name}' is not a transform; known: {}", known.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{alpha, bound_of, feather, RawParams, BOUNDS};

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused() {
        Modes::default().validate().unwrap();
        let bad = |f: fn(&mut Modes)| {
            let mut m = Modes::default();
            f(&mut m);
            m.validate_with_masks(0).unwrap_err().to_string()
        };
        assert!(bad(|m| m.variation = 1.5).contains("variation"));
        assert!(bad(|m| m.variation = f64::NAN).contains("variation"));
        assert!(bad(|m| m.stroke_scale = vec![0.0]).contains("stroke_scale"));
        assert!(bad(|m| m.stroke_scale = vec![]).contains("stroke_scale"));
        assert!(bad(|m| m.stroke_scale = vec![1.0, 1.0]).contains("twice"));
        assert!(bad(|m| m.stroke_scale = vec![0.5, 1.0, 2.0, 3.0, 4.0]).contains("1 to 4"));
        assert!(bad(|m| {
            m.patch_swap = true;
            m.transform = TransformKind::Ost
        })
        .contains("transform"));
        let m = Modes { patch_swap: true, ..Modes::default() };
        assert!(m.validate_with_masks(1).unwrap_err().to_string().contains("patch_swap"));
        assert_eq!(parse_transform("--transform", "ost").unwrap(), TransformKind::Ost);
        assert!(parse_transform("--transform", "adain").unwrap_err().to_string().contains("wct, ost"));
    }

    fn raw() -> RawParams {
        RawParams { styles: 1, ..Default::default() }
    }

    /// Every bound of `rules::BOUNDS` against the rule that checks it (the modes' rules here).
    #[test]
    fn bounds_are_the_rules_ranges() {
        for b in BOUNDS {
            assert!(b.min <= b.default && b.default <= b.max, "{b:?}");
            let above = if b.integer { b.max + 1.0 } else { b.max * 1.001 + 1e-3 };
            let below = if b.integer { b.min - 1.0 } else { b.min - 1e-3 };
            // Each bound is accepted at its ends and refused just outside, by the rule that checks it.
            let check = |v: f64| -> bool {
                match b.key {
                    "alpha" => alpha(v).is_ok(),
                    "feather" => feather(v, 1).is_ok(),
                    "style_size" => RawParams { style_size: Some(v as i128), ..raw() }.check().is_ok(),
                    "variation" => Modes { variation: v, ..Modes::default() }.validate().is_ok(),
                    "stroke_scale" => Modes { stroke_scale: vec![v], ..Modes::default() }.validate().is_ok(),
                    "seed" | "texture.seed" => RawParams { seed: Some(v as i128), ..raw() }.check().is_ok(),
                    "texture.width" => RawParams { width: Some(v as i128), ..raw() }.check().is_ok(),
                    "texture.height" => RawParams { height: Some(v as i128), ..raw() }.check().is_ok(),
                    "texture.iterations" => RawParams { iterations: Some(v as i128), ..raw() }.check().is_ok(),
                    "stability" => crate::transform::temporal::MomentSmoother::new(v).is_ok(),
                    other => panic!("no rule for bound {other}"),
                }
            };
            assert!(check(b.min) && check(b.default), "{b:?}");
            if b.max < u64::MAX as f64 {
                assert!(check(b.max) && !check(above), "{b:?}");
            }
            assert!(!check(below), "{b:?}");
        }
        assert_eq!(bound_of("width").map(|b| b.key), Some("texture.width"));
        assert_eq!(bound_of(" alpha ").map(|b| b.max), Some(1.0));
        assert_eq!(bound_of("stroke-scale").map(|b| b.min), Some(0.125));
        assert_eq!(bound_of("levels"), None);
    }
}
