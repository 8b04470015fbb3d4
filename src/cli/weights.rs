//! `unistyle weights convert | install | where | info | verify`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use clap::Subcommand;
use unistyle::convert::{self, ConvertOptions, StorageDtype};
use unistyle::locate::locate_weights;
use unistyle::model::WeightsFile;
use unistyle::{Error, Result};

use super::args::parse_levels;

#[derive(Debug, clap::Args)]
pub struct WeightsArgs {
    #[command(subcommand)]
    pub command: WeightsCommand,
}

#[derive(Debug, Subcommand)]
pub enum WeightsCommand {
    /// Convert the upstream WCT models in a folder into one weights file.
    ///
    /// Reads vgg_normalised_conv{k}_1.pth (or .t7) and feature_invertor_conv{k}_1.pth (or .t7,
    /// or vgg19_normalized_decoder{k}.pth.tar); see weights/README.md.
    Convert {
        /// Folder holding the upstream files.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// Output file (written atomically).
        #[arg(long, value_name = "W.safetensors")]
        out: PathBuf,
        /// Store values as f16 (half the size; loaded as f32).
        #[arg(long)]
        f16: bool,
        /// Decoder levels to include (default: all found).
        #[arg(long, value_name = "1,2,3")]
        levels: Option<String>,
    },
    /// Put weights where every front end finds them: convert the upstream models (a folder of
    /// .pth/.t7 files, or one of them) or verify a .safetensors file, then write it atomically
    /// into the per-user weights folder ($XDG_DATA_HOME/unistyle/weights, default
    /// ~/.local/share/unistyle/weights; macOS ~/Library/Application Support/unistyle/weights;
    /// Windows %APPDATA%\unistyle\weights).
    Install {
        /// Upstream models (folder or one of its files) or a .safetensors file.
        #[arg(value_name = "FILE_OR_DIR")]
        source: PathBuf,
        /// Install into this folder instead (e.g. a sandboxed editor's data folder).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Store converted values as f16 (half the size; loaded as f32).
        #[arg(long)]
        f16: bool,
        /// Decoder levels to convert (default: all found).
        #[arg(long, value_name = "1,2,3")]
        levels: Option<String>,
    },
    /// Print where the weights are found without --weights (else every place searched).
    Where,
    /// Print levels, metadata, tensors and the sha256 of a weights file.
    Info {
        #[arg(value_name = "W.safetensors")]
        weights: PathBuf,
    },
    /// Check a weights file against the wct-vgg19/1 layout.
    Verify {
        #[arg(value_name = "W.safetensors")]
        weights: PathBuf,
    },
}

fn join(levels: &[usize]) -> String {
    levels.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(",")
}

/// Prints `text` to stdout; a closed pipe (`… | head`) is not an error.
fn emit(text: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Io { what: "cannot write", path: PathBuf::from("<stdout>"), source: e })
        }
        _ => Ok(()),
    }
}

pub fn run(a: WeightsArgs) -> Result<()> {
    let text = match a.command {
        WeightsCommand::Convert { from, out, f16, levels } => {
            let options = ConvertOptions {
                dtype: if f16 { StorageDtype::F16 } else { StorageDtype::F32 },
                levels: levels.as_deref().map(parse_levels).transpose()?.flatten(),
            };
            let r = convert::convert(&from, &out, &options)?;
            format!(
                "wrote {}: levels {}, {} tensors, {}, sha256 {}\n",
                r.out.display(),
                join(&r.levels),
                r.tensors,
                r.dtype.name(),
                r.sha256
            )
        }
        WeightsCommand::Install { source, dir, f16, levels } => {
            let options = ConvertOptions {
                dtype: if f16 { StorageDtype::F16 } else { StorageDtype::F32 },
                levels: levels.as_deref().map(parse_levels).transpose()?.flatten(),
            };
            let r = convert::install(&source, dir.as_deref(), &options)?;
            let mut text = format!(
                "{} {}: levels {}, sha256 {}\n",
                if r.converted { "converted and installed" } else { "verified and installed" },
                r.path.display(),
                join(&r.levels),
                r.sha256
            );
            if dir.is_none() {
                text.push_str("the CLI, the C library and the GIMP and Krita plug-ins find it without --weights (unless UNISTYLE_WEIGHTS is set)\n");
            }
            text
        }
        WeightsCommand::Where => format!("{}\n", locate_weights(None, "--weights")?.display()),
        WeightsCommand::Info { weights } => {
            let i = convert::inspect(&weights)?;
            let mut s = String::new();
            // Writing to a String cannot fail.
            let _ = writeln!(s, "file: {}", i.path.display());
            let _ = writeln!(s, "size: {} bytes", i.size);
            let _ = writeln!(s, "sha256: {}", i.sha256);
            let _ = writeln!(s, "levels: {}", join(&i.levels));
            let _ = writeln!(s, "encoder: relu{}_1", i.encoder_level);
            let _ = writeln!(s, "metadata:");
            for (k, v) in &i.metadata {
                let _ = writeln!(s, "  {k} = {v}");
            }
            let _ = writeln!(s, "tensors: {}", i.tensors.len());
            for t in &i.tensors {
                let _ = writeln!(s, "  {} {:?} {}", t.name, t.shape, t.dtype);
            }
            s
        }
        WeightsCommand::Verify { weights } => {
            let f = WeightsFile::open(&weights)?;
            let dtype = f.metadata.get("dtype").map(String::as_str).unwrap_or("unspecified");
            format!(
                "ok: {} (levels {}, encoder to relu{}_1, {} tensors, {dtype})\n",
                weights.display(),
                join(&f.levels),
                f.encoder_level,
                f.tensors.len()
            )
        }
    };
    emit(&text)
}
