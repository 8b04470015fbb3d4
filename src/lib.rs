//! # unistyle
//!
//! Universal style transfer via feature transforms (Li et al., NIPS 2017, "WCT"): a fixed
//! VGG-19 encoder, per-level reconstruction decoders, and the whitening-and-colouring
//! transform between them.
//!
//! Data flows `image_io` → `model` (encoder) → `transform` → `model` (decoder) → `image_io`,
//! orchestrated by `pipeline`.
//!
//! ```no_run
//! use unistyle::{image_io, EncodedStyle, Model, Silent, Stylizer};
//! # fn main() -> unistyle::Result<()> {
//! let model = Model::load("weights/wct-vgg19.safetensors", &candle_core::Device::Cpu)?;
//! let content = image_io::load_picture("content.png".as_ref(), "content image")?;
//! let style_img = image_io::load_picture("style.png".as_ref(), "style image")?;
//! let style = EncodedStyle::encode(&model, &style_img, &model.levels())?;
//! let out = Stylizer::builder(&model).style(&style).alpha(0.6).build()?.run(&content, &mut Silent)?;
//! image_io::save_picture(&out, "out.png".as_ref())?;
//! # Ok(()) }
//! ```

pub mod capi;
pub mod convert;
pub mod device;
pub mod error;
pub mod image_io;
pub mod input_file;
pub mod levels;
pub mod locate;
pub mod model;
pub mod pipeline;
pub mod preset;
pub mod progress;
pub mod style_cache;
pub mod transform;

pub use candle_core::Device;
pub use error::{Error, Result};
pub use image_io::Picture;
pub use model::{Border, Model};
pub use pipeline::{place_styles, EncodedStyle, Mask, Stylizer, StylizerBuilder, Texture, TextureBuilder};
pub use preset::{Preset, PresetKind, Settings};
pub use progress::{Control, Progress, Silent};
pub use style_cache::{StyleCache, StyleEncoder};
