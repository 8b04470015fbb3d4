//! Proof that a painter needs no compiler: in the Debian 13 runtime chroot (GIMP 3, Krita 5.2,
//! no compiler, no development headers, no Rust: checked first), the Linux x86-64 release
//! archive is unpacked in a fresh HOME with no UNISTYLE_WEIGHTS, `bin/unistyle hosts install
//! gimp` installs the plug-in and the bundled weights, and GIMP 3 stylizes from Script-Fu and
//! from Python-Fu: equal to the CLI (≥ 40 dB). The archive's Krita zip is imported by Krita's
//! own importer (`plugin_importer`, what Tools > Scripts > Import Python Plugin from File
//! runs) into the fresh profile, and the imported plug-in's stylize (what its Apply runs),
//! inside Krita, equals the CLI; `hosts install krita` lays out the same files. Prints the
//! time from unpacking to the first stylized image in GIMP.
//!
//! The archive: `$UNISTYLE_DIST` or `dist/` (scripts/dist.sh) when present, else one packed
//! from this build in the same layout (tests/common/release.rs). Needs root or password-less
//! sudo for the chroot; skipped with a message otherwise.

mod common;

use std::path::Path;

use common::host_inputs::{cli_stylize, psnr_files};
use common::release::{self, can_chroot, in_chroot, shell_quote};
use common::*;

/// The content and style every host stylizes, and the settings.
const CONTENT: &str = "content/tubingen_256.png";
const STYLE: &str = "style/starry_256.png";

fn chroot_or_skip(test: &str) -> bool {
    if can_chroot() {
        release::ensure_chroot();
        true
    } else {
        println!("SKIPPED {test}: needs root or password-less sudo for the Debian 13 chroot");
        false
    }
}

#[test]
fn chroot_is_runtime_only() {
    if !chroot_or_skip("chroot_is_runtime_only") {
        return;
    }
    let script = "found=''; for t in cc gcc c++ g++ clang rustc cargo rustup pkg-config; do \
                  command -v $t >/dev/null 2>&1 && found=\"$found $t\"; done; \
                  pc=$(find / -xdev -name 'gimp-3.0.pc' 2>/dev/null | head -n 1); \
                  dev=$(dpkg-query -W -f='${Package}\\n' 2>/dev/null | grep -E '^(gcc|gcc-[0-9]+|libc6-dev|libgimp-3.0-dev|pkgconf|rustc|cargo)$' | tr '\\n' ' '); \
                  echo \"tools:[$found] pc:[$pc] dev:[$dev]\"; \
                  gimp-console-3.0 --version; python3 -c 'import gi; print(\"python-gi\", gi.__version__)'";
    let r = in_chroot(&[], script);
    println!("{}", r.log.trim());
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.log.contains("tools:[] pc:[] dev:[]"), "the runtime chroot holds build tools:\n{}", r.log);
    assert!(r.log.contains("GNU Image Manipulation Program version 3."), "{}", r.log);
}

/// Inside Krita (kritarunner): the plug-in imported into the profile's pykrita folder,
/// loaded from there with no UNISTYLE_LIBRARY and no weights given; its stylize on the first
/// paint layer, pixels saved as BGRA.
const KRITA_APPLY: &str = include_str!("hosts_runtime/krita_apply.py");

fn q(p: &Path) -> String {
    format!("\"{}\"", s(p).replace('\\', "\\\\").replace('"', "\\\""))
}

/// The Script-Fu and Python-Fu calls: whole layer, alpha 0.6, levels 3,2,1, no weights given.
fn gimp_scripts(w: &Path, content: &Path, style: &Path) -> (String, String) {
    let sf = format!(
        "(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE {c}))) \
                (layer (vector-ref (car (gimp-image-get-selected-drawables img)) 0))) \
           (plug-in-unistyle-stylize #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector layer) \
              #:style {st} #:alpha 0.6 #:levels \"3,2,1\") \
           (gimp-file-save RUN-NONINTERACTIVE img {o} -1))",
        c = q(content),
        st = q(style),
        o = q(&w.join("sf.png"))
    );
    let py = format!(
        "from gi.repository import Gimp, Gio\n\
         img = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path({c:?}))\n\
         proc = Gimp.get_pdb().lookup_procedure('plug-in-unistyle-stylize')\n\
         cfg = proc.create_config()\n\
         cfg.set_property('run-mode', Gimp.RunMode.NONINTERACTIVE)\n\
         cfg.set_property('image', img)\n\
         cfg.set_core_object_array('drawables', img.get_layers()[:1])\n\
         cfg.set_property('style', Gio.File.new_for_path({st:?}))\n\
         cfg.set_property('alpha', 0.6)\n\
         cfg.set_property('levels', '3,2,1')\n\
         r = proc.run(cfg)\n\
         assert r.index(0) == Gimp.PDBStatusType.SUCCESS, r.index(1)\n\
         Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, img, Gio.File.new_for_path({o:?}), None)\n",
        c = s(content),
        st = s(style),
        o = s(&w.join("py.png"))
    );
    (sf, py)
}

/// Interleaved 8-bit BGRA as planar RGB in 0..1.
fn bgra_planar(bytes: &[u8], n: usize) -> Vec<f32> {
    assert_eq!(bytes.len(), n * 4);
    let mut out = vec![0f32; 3 * n];
    for p in 0..n {
        for (c, src) in [2, 1, 0].into_iter().enumerate() {
            out[c * n + p] = bytes[p * 4 + src] as f32 / 255.0;
        }
    }
    out
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "__pycache__") {
                    stack.push(p);
                }
            } else {
                out.push((p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn archive_to_gimp_and_krita_without_a_compiler() {
    if !chroot_or_skip("archive_to_gimp_and_krita_without_a_compiler") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().canonicalize().unwrap();
    let (archive, origin) = release::linux_archive(&w);
    let archive = archive.canonicalize().unwrap();
    println!(
        "archive: {} ({origin}, {:.1} MB)",
        archive.display(),
        std::fs::metadata(&archive).unwrap().len() as f64 / 1e6
    );
    let (content, style) = (image(CONTENT).canonicalize().unwrap(), image(STYLE).canonicalize().unwrap());
    let (sf, py) = gimp_scripts(&w, &content, &style);
    std::fs::write(w.join("sf.scm"), sf).unwrap();
    std::fs::write(w.join("py.py"), py).unwrap();
    std::fs::write(w.join("proof_krita.py"), KRITA_APPLY).unwrap();
    let cli_out = w.join("cli.png");
    cli_stylize(&content, &style, &cli_out);

    let mut binds = release::binds(&w);
    if !archive.starts_with(&w) {
        binds.push(archive.parent().unwrap().to_path_buf());
    }
    let gimp = |interp: &str, script: &str| {
        format!(
            "timeout -k 10 300 gimp-console-3.0 -i -n --quit --batch-interpreter {interp} -b {} >> \"$W/gimp.log\" 2>&1",
            shell_quote(script)
        )
    };
    // One shell in the chroot: a fresh HOME, nothing but the archive.
    let script = format!(
        "set -e; W={w}; export HOME=$W/home; mkdir -p $HOME $W/unpack; cd $W\n\
         t0=$(date +%s%N)\n\
         tar -xzf {archive} -C $W/unpack\n\
         ta=$(date +%s%N); echo \"TAR_MS=$(( (ta - t0) / 1000000 ))\"\n\
         P=$(ls -d $W/unpack/unistyle-*/)\n\
         \"$P/bin/unistyle\" hosts install gimp\n\
         tb=$(date +%s%N); echo \"INSTALL_MS=$(( (tb - ta) / 1000000 ))\"\n\
         {sf}\n\
         t1=$(date +%s%N); echo \"UNPACK_TO_FIRST_IMAGE_MS=$(( (t1 - t0) / 1000000 ))\"\n\
         {py}\n\
         t2=$(date +%s%N); echo \"PYTHON_FU_MS=$(( (t2 - t1) / 1000000 ))\"\n\
         mkdir -p $HOME/.local/share/krita\n\
         (cd /usr/share/krita/pykrita/plugin_importer && python3 plugin_importer.py \"$P/share/unistyle/krita/unistyle-krita.zip\" $HOME/.local/share/krita)\n\
         mkdir -p $HOME/.config; printf '[python]\\nenable_unistyle_krita=true\\n' >> $HOME/.config/kritarc\n\
         cp -a $HOME/.local/share/krita/pykrita $W/imported\n\
         PROOF_OUT=$W PROOF_CONTENT={content} PROOF_STYLE={style} PYTHONPATH=$W:$HOME/.local/share/krita/pykrita \
           PYTHONDONTWRITEBYTECODE=1 QT_QPA_PLATFORM=offscreen timeout -k 10 600 kritarunner -s proof_krita -f main > $W/krita.log 2>&1 || true\n\
         \"$P/bin/unistyle\" hosts install krita\n",
        w = shell_quote(s(&w)),
        archive = shell_quote(s(&archive)),
        sf = gimp("plug-in-script-fu-eval", &format!("(load {})", q(&w.join("sf.scm")))),
        py = gimp("python-fu-eval", &format!("exec(open({:?}).read())", s(&w.join("py.py")))),
        content = shell_quote(s(&content)),
        style = shell_quote(s(&style)),
    );
    let r = in_chroot(&binds, &script);
    let gimp_log = std::fs::read_to_string(w.join("gimp.log")).unwrap_or_default();
    let krita_log = std::fs::read_to_string(w.join("krita.log")).unwrap_or_default();
    println!("{}", r.log.trim());
    assert_eq!(r.code, 0, "the proof script failed:\n{}\nGIMP:\n{gimp_log}\nKrita:\n{krita_log}", r.log);
    let ms = |key: &str| -> f64 {
        r.log.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.trim().parse::<f64>().ok()).unwrap_or(f64::NAN)
    };
    println!(
        "time from unpacking to the first stylized image in GIMP: {:.1} s (tar {:.1} s, hosts install {:.1} s, then \
         GIMP 3 with a fresh profile: start, one Script-Fu stylize 256x256 levels 3,2,1, save); the Python-Fu run \
         after it (warm profile): {:.1} s",
        ms("UNPACK_TO_FIRST_IMAGE_MS=") / 1000.0,
        ms("TAR_MS=") / 1000.0,
        ms("INSTALL_MS=") / 1000.0,
        ms("PYTHON_FU_MS=") / 1000.0
    );
    assert!(
        w.join("home/.local/share/unistyle/weights/wct-vgg19-relu3.safetensors").is_file(),
        "weights not installed"
    );
    for (name, what) in [("sf.png", "Script-Fu"), ("py.png", "Python-Fu")] {
        assert!(w.join(name).is_file(), "{what} wrote no image:\n{gimp_log}");
        let db = psnr_files(&w.join(name), &cli_out);
        println!("| GIMP 3 {what:<9} | {db:>6.2} dB against the CLI |");
        assert!(db >= 40.0, "{what}: {db:.2} dB");
    }

    // Krita: the imported plug-in, loaded from the profile, with the bundled weights.
    let status: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(w.join("krita.json")).unwrap_or_else(|_| format!("{{\"log\": {krita_log:?}}}")),
    )
    .unwrap();
    assert_eq!(status["ok"], true, "Krita run failed: {}\n{krita_log}", status["error"].as_str().unwrap_or(""));
    let pykrita = w.join("home/.local/share/krita/pykrita");
    assert_eq!(status["library"].as_str().unwrap_or(""), s(&pykrita.join("unistyle_krita/libunistyle.so")));
    let cli_px = read_png(&cli_out);
    let got = bgra_planar(&std::fs::read(w.join("krita.bgra")).unwrap(), cli_px.width * cli_px.height);
    let db = psnr(&got, &cli_px.rgb);
    println!("| Krita {} imported zip | {db:>6.2} dB against the CLI |", status["krita"].as_str().unwrap_or("?"));
    assert!(db >= 40.0, "Krita: {db:.2} dB");
    // `hosts install krita` lays out what Krita's importer does.
    let (imported, installed) = (tree(&w.join("imported")), tree(&pykrita));
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&imported), names(&installed));
    assert!(imported == installed, "hosts install krita and Krita's importer installed different bytes");
    let rc = std::fs::read_to_string(w.join("home/.config/kritarc")).unwrap();
    assert!(rc.contains("enable_unistyle_krita=true"), "{rc}");
}
