//! The preset file as written: serde structs that refuse unknown keys and keep the span of
//! every value, so that the loader can name the line of whatever it refuses.
//! Integers are read as `i64` and range-checked afterwards, for uniform messages.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

/// The schema version this build reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Every key of the top level, in documentation order.
pub const TOP_KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "style",
    "blend",
    "mask",
    "feather",
    "style_size",
    "levels",
    "alpha",
    "level_alpha",
    "preserve_color",
    "foreground_only",
    "patch_swap",
    "transform",
    "variation",
    "seed",
    "stroke_scale",
    "photo",
    "precision",
    "texture",
];

/// Every key of the `[texture]` table.
pub const TEXTURE_KEYS: &[&str] = &["width", "height", "seed", "iterations", "tileable", "init"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPreset {
    /// Checked on the parsed document before deserialization (see `load::check_version`).
    #[allow(dead_code)]
    pub version: Option<Spanned<i64>>,
    pub name: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub style: Option<Spanned<Paths>>,
    pub blend: Option<Spanned<Vec<Spanned<f64>>>>,
    pub mask: Option<Spanned<Paths>>,
    pub feather: Option<Spanned<f64>>,
    pub style_size: Option<Spanned<i64>>,
    pub levels: Option<Spanned<Vec<Spanned<i64>>>>,
    pub alpha: Option<Spanned<f64>>,
    pub level_alpha: Option<Spanned<BTreeMap<String, Spanned<f64>>>>,
    pub preserve_color: Option<Spanned<bool>>,
    pub foreground_only: Option<Spanned<bool>>,
    pub patch_swap: Option<Spanned<bool>>,
    pub transform: Option<Spanned<String>>,
    pub variation: Option<Spanned<f64>>,
    pub seed: Option<Spanned<i64>>,
    pub stroke_scale: Option<Spanned<Numbers>>,
    pub photo: Option<Spanned<bool>>,
    pub precision: Option<Spanned<String>>,
    pub texture: Option<RawTexture>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTexture {
    pub width: Option<Spanned<i64>>,
    pub height: Option<Spanned<i64>>,
    pub seed: Option<Spanned<i64>>,
    pub iterations: Option<Spanned<i64>>,
    pub tileable: Option<Spanned<bool>>,
    pub init: Option<Spanned<String>>,
}

/// One file name or a list of them; each keeps its span when it has its own.
#[derive(Debug)]
pub(crate) struct Paths(pub Vec<(Option<Range<usize>>, String)>);

impl<'de> Deserialize<'de> for Paths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Paths;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file name or a list of file names")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Paths, E> {
                Ok(Paths(vec![(None, s.to_string())]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Paths, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<Spanned<String>>()? {
                    v.push((Some(s.span()), s.into_inner()));
                }
                Ok(Paths(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// One number or a list of numbers (integers read as floats).
#[derive(Debug)]
pub(crate) struct Numbers(pub Vec<f64>);

impl<'de> Deserialize<'de> for Numbers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Numbers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a list of numbers")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Numbers, E> {
                Ok(Numbers(vec![v]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Numbers, E> {
                Ok(Numbers(vec![v as f64]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Numbers, E> {
                Ok(Numbers(vec![v as f64]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Numbers, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element::<Number>()? {
                    v.push(x.0);
                }
                Ok(Numbers(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// One number, integer or float.
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            // A list inside the list (`[[2.0]]`) is not a number.
            fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Number, A::Error> {
                Err(de::Error::custom("expected a number, found a list inside the list"))
            }
        }
        d.deserialize_any(V)
    }
}
