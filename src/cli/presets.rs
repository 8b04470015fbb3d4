//! `unistyle presets list [DIR]`.

use std::path::PathBuf;

use unistyle::preset::{scan_dir, SearchPath};
use unistyle::{Error, Result};

#[derive(Debug, clap::Subcommand)]
pub enum PresetsCommand {
    /// List the presets (*.toml) of a folder: name, kind, validity and description.
    List {
        /// Folder of presets [default: ./presets, else presets/ of the unistyle project].
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct PresetsArgs {
    #[command(subcommand)]
    pub command: PresetsCommand,
}

pub fn run(a: PresetsArgs) -> Result<()> {
    match a.command {
        PresetsCommand::List { dir } => list(dir),
    }
}

/// `./presets`, else `presets/` of the project holding the running executable.
fn default_dir() -> Result<PathBuf> {
    let local = PathBuf::from("presets");
    if local.is_dir() {
        return Ok(local);
    }
    let exe = std::env::current_exe().ok();
    exe.iter()
        .flat_map(|e| e.ancestors().skip(1).take(4))
        .map(|a| a.join("presets"))
        .find(|d| d.is_dir())
        .ok_or_else(|| Error::param("presets list", "no presets/ folder here or in the unistyle project; give DIR"))
}

fn list(dir: Option<PathBuf>) -> Result<()> {
    let dir = match dir {
        Some(d) => d,
        None => default_dir()?,
    };
    let rows: Vec<[String; 4]> = scan_dir(&dir, &SearchPath::from_env())?
        .into_iter()
        .map(|(path, r)| match r {
            Ok(p) => [p.name.clone(), p.kind().to_string(), "ok".into(), p.description],
            Err(e) => {
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                [stem, "-".into(), "INVALID".into(), e.to_string().replace('\n', " ")]
            }
        })
        .collect();
    if rows.is_empty() {
        println!("no presets (*.toml) in '{}'", dir.display());
        return Ok(());
    }
    let w0 = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0).max(4);
    println!("{:w0$}  {:8}  {:7}  DESCRIPTION", "NAME", "KIND", "STATUS");
    for [name, kind, status, text] in &rows {
        println!("{name:w0$}  {kind:8}  {status:7}  {text}");
    }
    Ok(())
}
