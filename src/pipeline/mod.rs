//! From pictures to pictures: style encoding, the multi-level stylization pipeline with its
//! spatial controls, and texture synthesis.

pub mod colour;
pub mod mask;
pub mod modes;
mod patch_swap;
pub mod photo;
pub mod preview;
mod regions;
pub mod stroke_scale;
pub mod style;
pub mod stylize;
pub mod texture;
pub mod tiling;

pub use mask::Mask;
pub use modes::{Modes, TransformKind};
pub use regions::MIN_REGION_PIXELS;
pub use style::{EncodedStyle, StyleEncoding};
pub use stylize::{place_styles, StageTimes, StyleMix, Stylizer, StylizerBuilder};
pub use texture::{Texture, TextureBuilder};
