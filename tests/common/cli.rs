//! One builder for the command lines the tests run:
//! `Cli::stylize().content(c).style(s).alpha(0.6).weights(w).out(o).run()`.
//! Flags are added in the order written; anything without a method goes through `flag` /
//! `arg`. `args()` gives the vector for tests that hand it elsewhere (a GIMP script, a
//! chroot).

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// A `unistyle` command line being built.
#[derive(Debug, Clone, Default)]
pub struct Cli {
    args: Vec<String>,
}

fn text(p: impl AsRef<Path>) -> String {
    p.as_ref().to_str().expect("utf-8 path").to_string()
}

impl Cli {
    /// `unistyle COMMAND`.
    pub fn command(name: &str) -> Self {
        Cli { args: vec![name.to_string()] }
    }

    /// `unistyle stylize`.
    pub fn stylize() -> Self {
        Self::command("stylize")
    }

    /// `unistyle texture`.
    pub fn texture() -> Self {
        Self::command("texture")
    }

    /// `unistyle frames`.
    pub fn frames() -> Self {
        Self::command("frames")
    }

    /// Any argument, as written.
    pub fn arg(mut self, a: impl ToString) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// Several arguments, as written.
    pub fn args_from<I: IntoIterator<Item = S>, S: ToString>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(|a| a.to_string()));
        self
    }

    /// `--NAME VALUE`.
    pub fn flag(self, name: &str, value: impl ToString) -> Self {
        self.arg(format!("--{name}")).arg(value)
    }

    /// `--NAME FILE`.
    pub fn file(self, name: &str, path: impl AsRef<Path>) -> Self {
        self.flag(name, text(path))
    }

    pub fn content(self, p: impl AsRef<Path>) -> Self {
        self.file("content", p)
    }
    pub fn style(self, p: impl AsRef<Path>) -> Self {
        self.file("style", p)
    }
    pub fn mask(self, p: impl AsRef<Path>) -> Self {
        self.file("mask", p)
    }
    pub fn out(self, p: impl AsRef<Path>) -> Self {
        self.file("out", p)
    }
    pub fn weights(self, p: impl AsRef<Path>) -> Self {
        self.file("weights", p)
    }
    pub fn preset(self, p: impl AsRef<Path>) -> Self {
        self.file("preset", p)
    }
    pub fn init(self, p: impl AsRef<Path>) -> Self {
        self.file("init", p)
    }
    pub fn alpha(self, a: f64) -> Self {
        self.flag("alpha", a)
    }
    /// `--levels 3,2,1`.
    pub fn levels(self, l: &str) -> Self {
        self.flag("levels", l)
    }
    pub fn blend(self, b: &str) -> Self {
        self.flag("blend", b)
    }
    pub fn feather(self, px: f64) -> Self {
        self.flag("feather", px)
    }
    pub fn seed(self, n: u64) -> Self {
        self.flag("seed", n)
    }
    pub fn width(self, n: usize) -> Self {
        self.flag("width", n)
    }
    pub fn height(self, n: usize) -> Self {
        self.flag("height", n)
    }
    pub fn iterations(self, n: usize) -> Self {
        self.flag("iterations", n)
    }
    pub fn precision(self, p: &str) -> Self {
        self.flag("precision", p)
    }
    pub fn tile_size(self, px: usize) -> Self {
        self.flag("tile-size", px)
    }
    /// `--tileable`.
    pub fn tileable(self) -> Self {
        self.arg("--tileable")
    }
    /// `-q`: no progress bar.
    pub fn quiet(self) -> Self {
        self.arg("-q")
    }
    /// `--no-cache`.
    pub fn no_cache(self) -> Self {
        self.arg("--no-cache")
    }

    /// The hosts' common reference: tubingen_256 in starry_256, alpha 0.6, levels 3,2,1, the
    /// shared relu3 weights, written to `out`.
    pub fn reference_256(out: &Path) {
        Self::stylize()
            .content(super::image("content/tubingen_256.png"))
            .style(super::image("style/starry_256.png"))
            .alpha(0.6)
            .levels("3,2,1")
            .weights(super::relu3_weights())
            .out(out)
            .run_ok();
    }

    /// The arguments, for tests that pass them on.
    pub fn args(&self) -> Vec<String> {
        self.args.clone()
    }

    /// The program with these arguments (no `UNISTYLE_WEIGHTS` from the caller's environment).
    pub fn command_line(&self) -> Command {
        let mut c = super::bin();
        c.args(self.args.iter().map(OsStr::new)).env_remove("UNISTYLE_WEIGHTS");
        c
    }

    /// Runs it.
    pub fn run(&self) -> Output {
        self.command_line().output().expect("run unistyle")
    }

    /// Runs it and asserts success.
    pub fn run_ok(&self) -> Output {
        let out = self.run();
        assert!(out.status.success(), "unistyle {:?} failed: {}", self.args, String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Runs it, asserts failure and returns stderr.
    pub fn run_err(&self) -> String {
        let out = self.run();
        assert!(!out.status.success(), "unistyle {:?} succeeded", self.args);
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}
