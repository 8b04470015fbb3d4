//! `unistyle hosts install|uninstall gimp|krita [--profile DIR]`: the editor plug-ins of the
//! release archive this program belongs to, into the editors' per-user folders
//! ([`unistyle::hosts`]).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use unistyle::hosts::{self, Editor, Platform};
use unistyle::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct HostsArgs {
    #[command(subcommand)]
    pub command: HostsCommand,
}

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// Install or update the plug-in in every GIMP 3 profile (native, Flatpak) or Krita resource
    /// folder found (else the default one), in one step per folder; enable it in Krita; put the
    /// archive's weights into the per-user weights folder when none are there.
    Install(HostArgs),
    /// Remove the plug-in's files (and Krita's enable key); the weights folder is kept.
    Uninstall(HostArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EditorArg {
    Gimp,
    Krita,
}

#[derive(Debug, clap::Args)]
pub struct HostArgs {
    /// The editor.
    #[arg(value_enum)]
    pub editor: EditorArg,
    /// This GIMP 3 profile folder (e.g. ~/.config/GIMP/3.0) or Krita resource folder (e.g.
    /// ~/.local/share/krita) only, instead of the ones found.
    #[arg(long, value_name = "DIR")]
    pub profile: Option<PathBuf>,
    /// Krita: the kritarc to enable the plug-in in [default: the one of each folder found;
    /// none with --profile].
    #[arg(long, value_name = "FILE")]
    pub kritarc: Option<PathBuf>,
    /// The share/unistyle folder of an unpacked release [default: ../share/unistyle beside this
    /// program].
    #[arg(long, value_name = "SHARE_DIR")]
    pub from: Option<PathBuf>,
}

impl HostArgs {
    fn editor(&self) -> Editor {
        match self.editor {
            EditorArg::Gimp => Editor::Gimp,
            EditorArg::Krita => Editor::Krita,
        }
    }

    fn targets(&self) -> Vec<hosts::Target> {
        let env = |name: &str| std::env::var_os(name);
        hosts::folders::targets(
            self.editor(),
            Platform::current(),
            &env,
            self.profile.as_deref(),
            self.kritarc.as_deref(),
        )
    }
}

pub fn run(args: HostsArgs) -> Result<()> {
    let (install, a) = match &args.command {
        HostsCommand::Install(a) => (true, a),
        HostsCommand::Uninstall(a) => (false, a),
    };
    let editor = a.editor();
    let targets = a.targets();
    if targets.is_empty() {
        return Err(Error::param(
            "hosts",
            format!("no {} folder known here (HOME / APPDATA unset): give --profile DIR", editor.name()),
        ));
    }
    let report = if install {
        let share = a.from.clone().or_else(hosts::bundled_share_dir).ok_or_else(|| {
            Error::param(
                "hosts install",
                "no share/unistyle folder beside this program: run the `unistyle` of an unpacked release \
                 archive, or give --from SHARE_DIR",
            )
        })?;
        if targets.len() > 1 {
            println!("{} folders found: {}", editor.name(), targets.len());
        }
        let mut r = hosts::install(editor, &share, &targets)?;
        r.extend(hosts::install_weights(&share, unistyle::locate::user_weights_dir(), &targets)?);
        r.push(format!("restart {} to load it", editor.name()));
        r
    } else {
        hosts::uninstall(editor, &targets)?
    };
    for line in report {
        println!("{line}");
    }
    Ok(())
}
