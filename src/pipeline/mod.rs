//! From pictures to pictures: style encoding, the multi-level stylization pipeline with its
//! spatial controls, and texture synthesis.

pub mod budget;
pub mod colour;
pub mod mask;
pub mod preview;
mod regions;
pub mod style;
pub mod stylize;
pub mod texture;
pub mod tiling;

pub use mask::{Mask, MAX_MASKS};
pub use regions::MIN_REGION_PIXELS;
pub use style::EncodedStyle;
pub use stylize::{place_styles, StageTimes, StyleMix, Stylizer, StylizerBuilder};
pub use texture::{Texture, TextureBuilder};
