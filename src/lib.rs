//! # unistyle
//!
//! Universal style transfer via feature transforms (Li et al., NIPS 2017, "WCT"): a fixed
//! VGG-19 encoder, per-level reconstruction decoders, and the whitening-and-colouring
//! transform between them; texture synthesis with the same pieces.
//!
//! Data flows [`image_io`] → [`model`] (encoder) → [`transform`] → [`model`] (decoder) →
//! [`image_io`], orchestrated by [`pipeline`].
//!
//! ```no_run
//! use unistyle::{image_io, EncodedStyle, Model, Silent, Stylizer};
//! # fn main() -> unistyle::Result<()> {
//! let model = Model::load("weights/wct-vgg19.safetensors", &unistyle::Device::Cpu)?;
//! let content = image_io::load_picture("content.png".as_ref(), "content image")?;
//! let style_img = image_io::load_picture("style.png".as_ref(), "style image")?;
//! let style = EncodedStyle::encode(&model, &style_img, &model.levels())?;
//! let out = Stylizer::builder(&model).style(&style).alpha(0.6).build()?.run(&content, &mut Silent)?;
//! image_io::save_picture(&out, "out.png".as_ref())?;
//! # Ok(()) }
//! ```
//!
//! ## What is here
//! - Loading the network: [`Model`] (from a `wct-vgg19/1` weights file, [`model::WeightsFile`];
//!   [`locate::locate_weights`] finds one), on a [`Device`] ([`device::parse_device`]).
//! - Styles: [`EncodedStyle`] (a style image's feature statistics), [`StyleEncoder`] and
//!   [`StyleCache`] (encoding through an on-disk cache).
//! - Running: [`Stylizer`] / [`StylizerBuilder`] (stylize a content picture: weights, masks,
//!   per-level alpha, feathering, tiling, colour preservation, [`Precision`]) and [`Texture`] /
//!   [`TextureBuilder`] (texture synthesis, optionally tileable); [`Mask`] for regions.
//!   [`Stylizer::preview`] runs a stylization on a downsampled copy for a quick look;
//!   [`levels`] parses level lists written as text (`"3,2,1"`).
//! - Animation: [`Clip`] stylizes frames in order as one clip, with a temporal stabilizer
//!   (`stability`; 0 = each frame exactly as [`Stylizer::run`]).
//! - Pictures: [`Picture`] (planar RGB `f32`), loaded and saved by [`image_io`].
//! - Jobs: [`Job`], one description of a stylization or texture job that the command line,
//!   presets and the C ABI each fill in their own syntax; [`Job::check`] applies every rule,
//!   [`Job::prepare`] reads the inputs, [`Job::stylizer`] / [`Job::texture`] make the builders.
//! - Presets: [`Preset`] (TOML files naming styles and settings, see `presets/`).
//! - Progress and cancellation: [`Progress`], [`Control`], [`Silent`].
//! - Errors: one [`Error`] enum whose messages name the input at fault.
//! - The C ABI of `plugin-abi/unistyle.h`: [`capi`] (for hosts that load the shared library).
//! - Installing the editor plug-ins of a release archive into GIMP 3 and Krita: [`hosts`].
//!
//! ## Cargo features
//! - `cli` (default): the `unistyle` program (pulls in `clap` and `indicatif`); implies
//!   `convert`. Library users who want only the engine use `default-features = false`.
//! - `convert`: `unistyle::convert`, the converter from the upstream PyTorch `.pth` / Torch7 `.t7`
//!   files to `wct-vgg19/1`.
//! - `cuda`, `metal`: those devices through candle.
//!
//! ## Devices
//! The CPU runs fused kernels of its own (convolution, padding, pooling, statistics, the
//! WCT map, [`kernels`]); other devices run candle's generic operations.
//! `UNISTYLE_GENERIC_PATHS=1` ([`device::GENERIC_PATHS_ENV`]) makes the CPU take the generic
//! paths too, so that they are tested without a GPU. Which CPU kernels run (instruction set,
//! bf16 products, AMX) is decided once per process by [`kernels::config`].

// Every unsafe operation sits in its own `unsafe {}` block with a SAFETY comment, also inside
// `unsafe fn`s.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod allocator;
pub mod capi;
#[cfg(feature = "convert")]
pub mod convert;
pub mod device;
pub mod error;
mod hash;
pub mod hosts;
pub mod image_io;
pub mod input_file;
pub mod job;
pub mod kernels;
pub mod levels;
pub mod locate;
mod memory;
pub mod model;
pub mod pipeline;
pub mod preset;
pub mod progress;
pub mod rules;
pub mod style_cache;
pub mod transform;

pub use candle_core::Device;

/// Large blocks are kept for reuse across a run's levels and runs (see [`allocator`]).
#[global_allocator]
static ALLOCATOR: allocator::Recycling = allocator::Recycling;
pub use error::{Error, Result};
pub use image_io::Picture;
pub use job::{Job, MaskInput, PictureInput, Prepared, StyleInput};
pub use model::{Border, Model, Precision};
pub use pipeline::{place_styles, Clip, EncodedStyle, Mask, Stylizer, StylizerBuilder, Texture, TextureBuilder};
pub use preset::{Preset, PresetKind};
pub use progress::{Control, Progress, Silent};
pub use rules::{JobKind, Param, RawParams, Violation};
pub use style_cache::{StyleCache, StyleEncoder};
