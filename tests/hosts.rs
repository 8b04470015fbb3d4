//! `unistyle hosts install|uninstall gimp|krita` on fake home folders: the program of a
//! release layout (tests/common/release.rs) finds GIMP 3's and Krita's folders (native and
//! Flatpak), installs and updates in one step (a reader polling the installed files never
//! sees a partial or missing file), enables the Krita plug-in in kritarc, installs the
//! bundled weights only where none are, and uninstalls only its own files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::release;

/// A release layout and a fake home folder.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let f = Self { dir: tempfile::tempdir().unwrap() };
        release::assemble(&f.prefix());
        std::fs::create_dir_all(f.home()).unwrap();
        f
    }

    fn prefix(&self) -> PathBuf {
        self.dir.path().join("unistyle-test")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The release's program with only HOME set among the folder variables.
    fn hosts(&self, args: &[&str]) -> Output {
        Command::new(self.prefix().join("bin/unistyle"))
            .arg("hosts")
            .args(args)
            .env("HOME", self.home())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("GIMP3_DIRECTORY")
            .env_remove("UNISTYLE_WEIGHTS")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.hosts(args);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "unistyle hosts {args:?} failed:\n{text}");
        println!("$ unistyle hosts {}\n{text}", args.join(" "));
        text
    }
}

/// The names in a folder (sorted), to see that nothing was left beside.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn same_tree(a: &Path, b: &Path) {
    assert_eq!(names(a), names(b), "{} vs {}", a.display(), b.display());
    for n in names(a) {
        let (x, y) = (a.join(&n), b.join(&n));
        if x.is_dir() {
            same_tree(&x, &y);
        } else {
            assert!(std::fs::read(&x).unwrap() == std::fs::read(&y).unwrap(), "{} differs", y.display());
        }
    }
}

#[test]
fn gimp_install_update_uninstall() {
    let f = Fixture::new();
    let h = f.home();
    let staged = f.prefix().join("share/unistyle/gimp3/unistyle");
    // Nothing has run yet: the native default profile, created; the weights installed.
    let text = f.ok(&["install", "gimp"]);
    let dest = h.join(".config/GIMP/3.0/plug-ins/unistyle");
    assert!(text.contains("installed") && text.contains(&dest.display().to_string()), "{text}");
    same_tree(&staged, &dest);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dest.join("unistyle.py")).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "unistyle.py is not executable: {mode:o}");
    }
    let weights = h.join(".local/share/unistyle/weights/wct-vgg19-relu3.safetensors");
    assert_eq!(std::fs::read(&weights).unwrap(), std::fs::read(common::relu3_weights()).unwrap());
    assert!(text.contains("weights installed in"), "{text}");

    // Update: a changed and an extra file are replaced by the release's; weights kept.
    std::fs::write(dest.join("unistyle_engine.py"), "changed").unwrap();
    std::fs::write(dest.join("stale.py"), "old").unwrap();
    std::fs::write(&weights, "user's own").unwrap();
    let text = f.ok(&["install", "gimp"]);
    assert!(text.contains("updated") && text.contains("weights already in"), "{text}");
    same_tree(&staged, &dest);
    assert_eq!(std::fs::read_to_string(&weights).unwrap(), "user's own");
    assert_eq!(names(dest.parent().unwrap()), vec!["unistyle"], "left-overs beside the plug-in");

    // A Flatpak GIMP that has run: both profiles get it, each named; the Flatpak's own data
    // folder gets the weights.
    let flatpak = h.join(".var/app/org.gimp.GIMP/config/GIMP/3.0");
    std::fs::create_dir_all(&flatpak).unwrap();
    let text = f.ok(&["install", "gimp"]);
    assert!(text.contains("folders found: 2") && text.contains("Flatpak org.gimp.GIMP"), "{text}");
    same_tree(&staged, &flatpak.join("plug-ins/unistyle"));
    assert!(h.join(".var/app/org.gimp.GIMP/data/unistyle/weights/wct-vgg19-relu3.safetensors").is_file());

    // --profile: that folder only.
    let given = f.dir.path().join("given");
    let text = f.ok(&["install", "gimp", "--profile", given.to_str().unwrap()]);
    assert!(text.contains("--profile"), "{text}");
    same_tree(&staged, &given.join("plug-ins/unistyle"));

    // Uninstall: only our folder goes.
    std::fs::write(h.join(".config/GIMP/3.0/plug-ins/other"), "not ours").unwrap();
    let text = f.ok(&["uninstall", "gimp"]);
    assert!(text.contains("removed"), "{text}");
    assert!(!dest.exists() && !flatpak.join("plug-ins/unistyle").exists());
    assert_eq!(names(&h.join(".config/GIMP/3.0/plug-ins")), vec!["other"]);
    assert!(weights.is_file(), "uninstall removed the weights");
    let text = f.ok(&["uninstall", "gimp"]);
    assert!(text.contains("nothing to remove"), "{text}");
    // A folder of the same name that is not ours is refused.
    std::fs::create_dir_all(dest.join("sub")).unwrap();
    let out = f.hosts(&["uninstall", "gimp"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not a unistyle plug-in folder"));
    assert!(dest.join("sub").is_dir());
}

#[test]
fn krita_install_enable_uninstall() {
    let f = Fixture::new();
    let h = f.home();
    let rc = h.join(".config/kritarc");
    std::fs::create_dir_all(rc.parent().unwrap()).unwrap();
    std::fs::write(&rc, "[General]\nfoo=1\n\n[python]\nenable_other=true\n").unwrap();
    let text = f.ok(&["install", "krita"]);
    let pykrita = h.join(".local/share/krita/pykrita");
    assert!(text.contains(&pykrita.join("unistyle_krita").display().to_string()), "{text}");
    for file in [
        "unistyle_krita.desktop",
        "unistyle_krita/__init__.py",
        "unistyle_krita/unistyle_ctypes.py",
        "unistyle_krita/libunistyle.so",
        "unistyle_krita/presets/starry-night.toml",
    ] {
        assert!(pykrita.join(file).is_file(), "{file} not installed");
    }
    assert_eq!(
        std::fs::read(pykrita.join("unistyle_krita/libunistyle.so")).unwrap(),
        std::fs::read(f.prefix().join("lib/libunistyle.so")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(&rc).unwrap(),
        "[General]\nfoo=1\n\n[python]\nenable_other=true\nenable_unistyle_krita=true\n"
    );
    // A Flatpak Krita that has run: its own kritarc.
    let app = h.join(".var/app/org.kde.krita");
    std::fs::create_dir_all(app.join("data/krita")).unwrap();
    let text = f.ok(&["install", "krita"]);
    assert!(text.contains("updated") && text.contains("Flatpak org.kde.krita"), "{text}");
    assert!(app.join("data/krita/pykrita/unistyle_krita/__init__.py").is_file());
    assert!(std::fs::read_to_string(app.join("config/kritarc"))
        .unwrap()
        .contains("[python]\nenable_unistyle_krita=true"));
    assert!(app.join("data/unistyle/weights/wct-vgg19-relu3.safetensors").is_file());

    f.ok(&["uninstall", "krita"]);
    assert_eq!(names(&pykrita), Vec::<String>::new());
    assert_eq!(std::fs::read_to_string(&rc).unwrap(), "[General]\nfoo=1\n\n[python]\nenable_other=true\n");
    assert!(!app.join("data/krita/pykrita/unistyle_krita").exists());
}

/// While installs alternate between two versions, a reader of the installed files sees one
/// version or the other, whole, every time (never a partial, never a missing file).
#[test]
fn update_is_atomic_for_a_running_reader() {
    let f = Fixture::new();
    let other = f.dir.path().join("other-share");
    std::fs::create_dir_all(&other).unwrap();
    let res = Command::new(common::cbuild::root().join("scripts/stage-plugins.sh"))
        .arg(&other)
        .arg(common::cbuild::lib_path())
        .output()
        .unwrap();
    assert!(res.status.success());
    // The second version: a large main script, so that a torn read would show.
    let big = format!(
        "{}\n# padding\n{}",
        std::fs::read_to_string(other.join("gimp3/unistyle/unistyle.py")).unwrap(),
        "#".repeat(4 << 20)
    );
    std::fs::write(other.join("gimp3/unistyle/unistyle.py"), &big).unwrap();
    let small = std::fs::read(f.prefix().join("share/unistyle/gimp3/unistyle/unistyle.py")).unwrap();
    f.ok(&["install", "gimp"]);
    let installed = f.home().join(".config/GIMP/3.0/plug-ins/unistyle/unistyle.py");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (stop, installed, small, big) = (stop.clone(), installed.clone(), small.clone(), big.into_bytes());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let got = std::fs::read(&installed).unwrap_or_else(|e| panic!("read during an update: {e}"));
                assert!(got == small || got == big, "a partial file ({} bytes)", got.len());
                reads += 1;
            }
            reads
        })
    };
    for i in 0..12 {
        let from = if i % 2 == 0 { other.clone() } else { f.prefix().join("share/unistyle") };
        f.ok(&["install", "gimp", "--from", from.to_str().unwrap()]);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().expect("the reader saw a partial or missing file");
    println!("{reads} whole reads during 12 updates");
    assert!(reads > 0);
}

#[test]
fn install_needs_the_release_layout() {
    // The program of a build tree has no share/unistyle beside it.
    let home = tempfile::tempdir().unwrap();
    let out = common::bin().args(["hosts", "install", "gimp"]).env("HOME", home.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--from"), "{err}");
    assert_eq!(names(home.path()), Vec::<String>::new(), "a failed install wrote files");
}
