//! From pictures to pictures: style encoding, the multi-level stylization pipeline with its
//! spatial controls, and texture synthesis.

pub mod budget;
mod carry;
pub(crate) mod clip;
pub(crate) mod colour;
mod mask;
pub(crate) mod modes;
mod patch_swap;
mod photo;
mod preview;
mod regions;
mod stroke_scale;
mod style;
pub(crate) mod stylize;
pub(crate) mod texture;
pub(crate) mod tiling;

pub use clip::{Clip, CARRY_AT_FULL_STABILITY, DEFAULT_STABILITY};
pub use colour::{lab_to_srgb, srgb_to_lab};
pub use mask::{Mask, MAX_MASKS};
pub use modes::{parse_transform, Modes, TransformKind};
pub use preview::area_downsample;
pub use regions::MIN_REGION_PIXELS;
pub use style::{EncodedStyle, StyleEncoding};
pub use stylize::{place_styles, StageTimes, StyleMix, Stylizer, StylizerBuilder, MIN_TILE};
pub use texture::{uniform_noise, Texture, TextureBuilder, MAX_TEXTURE_SIDE};
pub use tiling::DEFAULT_TILE;
