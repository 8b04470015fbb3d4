//! Argument definitions and dispatch.

mod args;
mod bench;
mod frames;
mod hosts;
pub mod interrupt;
mod presets;
mod progress_bar;
mod render;
mod sequence;
mod stylize;
mod texture;
mod weights;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "unistyle", version, about = "Universal neural style transfer (WCT) and texture synthesis")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command that runs the model shares.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Weights file (or folder); else $UNISTYLE_WEIGHTS; else weights/ of the project.
    #[arg(long, value_name = "W.safetensors")]
    pub weights: Option<PathBuf>,
    /// Compute device: cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Largest tile edge processed at once (larger images are tiled; bounds memory).
    #[arg(long, value_name = "PX", default_value_t = unistyle::pipeline::DEFAULT_TILE)]
    pub tile_size: usize,
    /// Arithmetic precision: f32 (default), or bf16 (bf16 products, f32 accumulation; faster where the CPU has AMX or avx512_bf16). Replaces a preset's precision.
    #[arg(long, value_name = "f32|bf16")]
    pub precision: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stylize a content image with one or more style images.
    Stylize(stylize::StylizeArgs),
    /// Stylize an image sequence (a folder or a pattern, in natural order) as one clip, with
    /// a temporal stabilizer against flicker.
    Frames(frames::FramesArgs),
    /// Synthesize a texture from style images (optionally tileable, blended or masked).
    Texture(texture::TextureArgs),
    /// Time the pipeline at several sizes (per stage, peak memory, GFLOP/s, vs the PyTorch reference).
    Bench(bench::BenchArgs),
    /// Convert, inspect and verify weights files.
    Weights(weights::WeightsArgs),
    /// Inspect style presets.
    Presets(presets::PresetsArgs),
    /// Render every texture preset of a folder to <out-dir>/<preset name>.png.
    Render(render::RenderArgs),
    /// Install, update or remove the GIMP 3 and Krita plug-ins of this release.
    Hosts(hosts::HostsArgs),
}

pub fn run(cli: Cli) -> unistyle::Result<()> {
    match cli.command {
        Command::Stylize(a) => stylize::run(a),
        Command::Frames(a) => frames::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Texture(a) => texture::run(a),
        Command::Weights(a) => weights::run(a),
        Command::Presets(a) => presets::run(a),
        Command::Render(a) => render::run(a),
        Command::Hosts(a) => hosts::run(a),
    }
}
