//! The C side of the ABI: the header matches the library's exports and struct layouts, and
//! the example host in `plugin-abi/examples/`, built with the system C compiler, produces
//! the CLI's output.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::cbuild::*;
use common::*;
use unistyle::capi::*;

#[test]
fn header_declares_exactly_the_exports() {
    let header = std::fs::read_to_string(root().join("plugin-abi/unistyle.h")).unwrap();
    let declared: BTreeSet<String> = header
        .lines()
        .filter(|l| !l.trim_start().starts_with('*') && !l.trim_start().starts_with("/*") && !l.contains("typedef"))
        .filter_map(|l| {
            let i = l.find("unistyle_")?;
            let rest = &l[i..];
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            rest[name.len()..].starts_with('(').then_some(name)
        })
        .collect();
    let nm =
        Command::new("nm").args(["-D", "--defined-only"]).arg(lib_dir().join("libunistyle.so")).output().expect("nm");
    let exported: BTreeSet<String> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| s.starts_with("unistyle_"))
        .map(String::from)
        .collect();
    assert!(exported.len() >= 18, "exports: {exported:?}");
    assert_eq!(declared, exported, "plugin-abi/unistyle.h and the library's exports differ");
}

/// `UnistyleStyleOptions` → `unistyle_style_options`; primitive types to their C names.
fn c_type(rust: &str) -> String {
    let rust = rust.trim();
    if let Some(rest) = rust.strip_prefix("*const ") {
        return format!("const {}*", c_type(rest));
    }
    if let Some(rest) = rust.strip_prefix("*mut ") {
        return format!("{}*", c_type(rest));
    }
    match rust.rsplit("::").next().unwrap() {
        "u32" => "uint32_t".into(),
        "u64" => "uint64_t".into(),
        "c_int" => "int".into(),
        "f32" => "float".into(),
        "f64" => "double".into(),
        "c_char" => "char".into(),
        "c_void" => "void".into(),
        "Option<ProgressFn>" => "unistyle_progress_fn".into(),
        t => {
            let mut out = String::new();
            for (i, ch) in t.chars().enumerate() {
                if ch.is_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(ch.to_ascii_lowercase());
            }
            out
        }
    }
}

/// The prototypes of every `extern "C"` function in `src/capi/` as C would write them
/// (`name(type,type)->ret`, no parameter names, no spaces).
fn rust_prototypes() -> BTreeSet<String> {
    let mut src = String::new();
    for e in std::fs::read_dir(root().join("src/capi")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "rs") {
            src.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    let mut out = BTreeSet::new();
    for (i, _) in src.match_indices("extern \"C\" fn ") {
        let rest = &src[i + "extern \"C\" fn ".len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let open = rest.find('(').unwrap();
        let body_start = rest.find('{').unwrap();
        let sig = &rest[open..body_start];
        let close = sig.rfind(')').unwrap();
        let args: Vec<String> = sig[1..close]
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| c_type(a.split_once(':').unwrap().1))
            .collect();
        let ret = sig[close + 1..].trim().strip_prefix("->").map_or("void".to_string(), c_type);
        let args = if args.is_empty() { "void".to_string() } else { args.join(",") };
        out.insert(format!("{name}({args})->{ret}").replace(' ', ""));
    }
    out
}

/// The header's prototypes in the same form.
fn header_prototypes() -> BTreeSet<String> {
    let header = std::fs::read_to_string(root().join("plugin-abi/unistyle.h")).unwrap();
    // Comments out, declarations joined.
    let mut text = String::new();
    let mut rest = header.as_str();
    while let Some(i) = rest.find("/*") {
        text.push_str(&rest[..i]);
        rest = &rest[i + rest[i..].find("*/").unwrap() + 2..];
    }
    text.push_str(rest);
    let mut out = BTreeSet::new();
    for decl in text.split(';').map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ")) {
        let decl = decl.rsplit(['{', '}']).next().unwrap().trim();
        if decl.starts_with("typedef") || decl.starts_with('#') || !decl.contains('(') {
            continue;
        }
        let decl = decl.lines().last().unwrap_or(decl);
        let open = decl.find('(').unwrap();
        let head = &decl[..open];
        let name_at = head.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        let (ret, name) = (head[..name_at].trim(), &head[name_at..]);
        if !name.starts_with("unistyle_") {
            continue;
        }
        let close = decl.rfind(')').unwrap();
        let args: Vec<String> = decl[open + 1..close]
            .split(',')
            .map(|a| {
                let a = a.trim();
                if a == "void" {
                    return a.to_string();
                }
                let cut = a.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
                a[..cut].to_string()
            })
            .collect();
        out.insert(format!("{name}({})->{ret}", args.join(",")).replace(' ', ""));
    }
    out
}

/// Header drift in the constants: every `#define UNISTYLE_…` value of `unistyle.h` is the
/// library's (status codes, sample types, codes of the option fields, and the limits and
/// defaults the header states, which come from the library's rules), and every
/// `pub const UNISTYLE_…` of `src/capi/` is in the header.
#[test]
fn header_constants_match_the_library() {
    let library: Vec<(&str, f64)> = vec![
        ("UNISTYLE_ABI_VERSION", UNISTYLE_ABI_VERSION.into()),
        ("UNISTYLE_OK", UNISTYLE_OK.into()),
        ("UNISTYLE_ERR_NULL", UNISTYLE_ERR_NULL.into()),
        ("UNISTYLE_ERR_INVALID", UNISTYLE_ERR_INVALID.into()),
        ("UNISTYLE_ERR_VERSION", UNISTYLE_ERR_VERSION.into()),
        ("UNISTYLE_ERR_IO", UNISTYLE_ERR_IO.into()),
        ("UNISTYLE_ERR_IMAGE", UNISTYLE_ERR_IMAGE.into()),
        ("UNISTYLE_ERR_WEIGHTS", UNISTYLE_ERR_WEIGHTS.into()),
        ("UNISTYLE_ERR_LEVEL", UNISTYLE_ERR_LEVEL.into()),
        ("UNISTYLE_ERR_CANCELLED", UNISTYLE_ERR_CANCELLED.into()),
        ("UNISTYLE_ERR_LIMITS", UNISTYLE_ERR_LIMITS.into()),
        ("UNISTYLE_ERR_INTERNAL", UNISTYLE_ERR_INTERNAL.into()),
        ("UNISTYLE_ERR_PRESET", UNISTYLE_ERR_PRESET.into()),
        ("UNISTYLE_U8", UNISTYLE_U8.into()),
        ("UNISTYLE_U16", UNISTYLE_U16.into()),
        ("UNISTYLE_F32", UNISTYLE_F32.into()),
        ("UNISTYLE_MAX_SIDE", unistyle::image_io::MAX_SIDE as f64),
        ("UNISTYLE_MAX_PIXELS", unistyle::image_io::MAX_PIXELS as f64),
        ("UNISTYLE_MAX_MASKS", unistyle::rules::MAX_MASKS as f64),
        ("UNISTYLE_PRESET_STYLIZE", UNISTYLE_PRESET_STYLIZE.into()),
        ("UNISTYLE_PRESET_TEXTURE", UNISTYLE_PRESET_TEXTURE.into()),
        ("UNISTYLE_PRECISION_F32", UNISTYLE_PRECISION_F32.into()),
        ("UNISTYLE_PRECISION_BF16", UNISTYLE_PRECISION_BF16.into()),
        ("UNISTYLE_TRANSFORM_WCT", UNISTYLE_TRANSFORM_WCT.into()),
        ("UNISTYLE_TRANSFORM_OST", UNISTYLE_TRANSFORM_OST.into()),
        // A float literal in C (0.6f): compared at f32 precision.
        ("UNISTYLE_DEFAULT_STABILITY", f64::from(unistyle::rules::DEFAULT_STABILITY as f32)),
    ];
    let header = std::fs::read_to_string(root().join("plugin-abi/unistyle.h")).unwrap();
    let mut declared = Vec::new();
    for line in header.lines() {
        let Some(rest) = line.trim().strip_prefix("#define UNISTYLE_") else { continue };
        let mut words = rest.split_whitespace();
        let name = format!("UNISTYLE_{}", words.next().unwrap());
        let Some(value) = words.next() else { continue }; // the include guard
        let number = value.trim_matches(|c| c == '(' || c == ')').trim_end_matches('f');
        let v: f64 = number.parse().unwrap_or_else(|_| panic!("{name}: '{value}' is not a number"));
        declared.push((name, f64::from(v as f32)));
    }
    let mut want: Vec<(String, f64)> = library.iter().map(|(n, v)| (n.to_string(), f64::from(*v as f32))).collect();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    declared.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(declared, want, "plugin-abi/unistyle.h's constants and the library's differ");
    // Every constant the C ABI module exports is declared (and so compared above).
    let known: BTreeSet<&str> = library.iter().map(|(n, _)| *n).collect();
    for f in std::fs::read_dir(root().join("src/capi")).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        for (i, _) in text.match_indices("pub const UNISTYLE_") {
            let name: String =
                text[i + "pub const ".len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            assert!(known.contains(name.as_str()), "{name} is exported by src/capi but not in unistyle.h");
        }
    }
}

/// Header drift: every function's argument and return types in `unistyle.h` equal the
/// Rust definitions' (the export check above covers the names).
#[test]
fn header_prototypes_match_rust_signatures() {
    let (rust, header) = (rust_prototypes(), header_prototypes());
    assert!(rust.len() >= 30, "{rust:#?}");
    let only_rust: Vec<_> = rust.difference(&header).collect();
    let only_header: Vec<_> = header.difference(&rust).collect();
    assert!(only_rust.is_empty() && only_header.is_empty(), "Rust: {only_rust:#?}\nheader: {only_header:#?}");
}

/// Every field of every versioned struct sits at the same offset in C and Rust, and the
/// structs have the same size.
#[test]
fn header_struct_layouts_match_rust() {
    let mut table = Vec::new();
    for l in common::layout::abi_layouts() {
        table.push((format!("sizeof {}", l.c_name), l.size));
        table.extend(l.fields.iter().map(|(f, offset)| (format!("{}.{f}", l.c_name), *offset)));
    }
    let mut program =
        String::from("#include <stddef.h>\n#include <stdio.h>\n#include \"unistyle.h\"\nint main(void) {\n");
    let mut expected = String::new();
    for (what, value) in &table {
        let expr = match what.strip_prefix("sizeof ") {
            Some(t) => format!("sizeof({t})"),
            None => {
                let (t, f) = what.split_once('.').unwrap();
                format!("offsetof({t}, {f})")
            }
        };
        program.push_str(&format!("    printf(\"{what} %zu\\n\", {expr});\n"));
        expected.push_str(&format!("{what} {value}\n"));
    }
    program.push_str("    return 0;\n}\n");
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("layout.c");
    std::fs::write(&src, program).unwrap();
    let exe = dir.path().join("layout");
    cc(&src, &exe, &["-O2"], &[]);
    let out = String::from_utf8(Command::new(&exe).output().unwrap().stdout).unwrap();
    assert_eq!(out, expected, "C and Rust disagree on struct layout");
    // The frozen v1 sizes equal the v1 header's sizeof (the fixture of the first release).
    let v1 = dir.path().join("v1.c");
    std::fs::write(
        &v1,
        "#include <stdio.h>\n#include \"unistyle.h\"\nint main(void) { printf(\"%zu %zu %zu\\n\", \
        sizeof(unistyle_image), sizeof(unistyle_stylize_options), sizeof(unistyle_texture_options)); return 0; }\n",
    )
    .unwrap();
    let v1_include = root().join("plugin-abi/tests/v1");
    cc(&v1, &dir.path().join("v1"), &["-I", v1_include.to_str().unwrap()], &[]);
    let out = String::from_utf8(Command::new(dir.path().join("v1")).output().unwrap().stdout).unwrap();
    assert_eq!(out, format!("{IMAGE_V1_SIZE} {STYLIZE_OPTIONS_V1_SIZE} {TEXTURE_OPTIONS_V1_SIZE}\n"));
}

/// The host built against the first release's header (a fixture, never edited) runs
/// unchanged against this library, and a "v2" host with a struct larger than the library
/// knows works: zero tail accepted, a set unknown field refused, same pixels.
#[test]
fn v1_and_v2_hosts_run_against_this_library() {
    let dir = tempfile::tempdir().unwrap();
    let style = image("style/starry_256.png");
    let mut outputs = Vec::new();
    for (name, flags) in [("v1", vec!["-I", "plugin-abi/tests/v1"]), ("v2", vec!["-DV2"])] {
        let v1_include = root().join("plugin-abi/tests/v1");
        let flags: Vec<String> = flags
            .iter()
            .map(|f| if *f == "plugin-abi/tests/v1" { v1_include.display().to_string() } else { f.to_string() })
            .collect();
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let exe = dir.path().join(format!("growth_{name}"));
        cc(&root().join("plugin-abi/tests/growth_host.c"), &exe, &flags, &["-lunistyle"]);
        let raw = dir.path().join(format!("{name}.raw"));
        let res = Command::new(&exe)
            .args([s(&relu3_weights()), s(&style), s(&raw)])
            .env("LD_LIBRARY_PATH", lib_dir())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&res.stdout).to_string();
        println!("{name} host:\n{stdout}");
        assert!(
            res.status.success() && !stdout.contains("FAIL"),
            "{name} host failed:\n{stdout}{}",
            String::from_utf8_lossy(&res.stderr)
        );
        if name == "v2" {
            assert!(stdout.contains("levels: must be in 1..=5, got 7 (in '3,7')"), "{stdout}");
            assert!(stdout.contains("is set but this library's unistyle_stylize_options ends at byte"), "{stdout}");
        }
        outputs.push(std::fs::read(&raw).unwrap());
    }
    assert_eq!(outputs[0], outputs[1], "v1 and v2 hosts got different pixels");
}

#[test]
fn example_host_matches_cli() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("unistyle_host");
    cc(&root().join("plugin-abi/examples/unistyle_host.c"), &exe, &["-O2"], &["-lunistyle", "-lpng"]);
    let host_out = dir.path().join("host.png");
    let cli_out = dir.path().join("cli.png");
    let (content, style) = (image("content/face_odd.png"), image("style/starry_256.png"));
    let t = std::time::Instant::now();
    let res = Command::new(&exe)
        .args(["stylize", s(&relu3_weights()), s(&content), s(&style), s(&host_out), "0.7", "3,2,1"])
        .env("LD_LIBRARY_PATH", lib_dir())
        .output()
        .unwrap();
    assert!(res.status.success(), "host failed: {}", String::from_utf8_lossy(&res.stderr));
    println!("C host stylize 243x187: {:.2} s", t.elapsed().as_secs_f64());
    Cli::stylize()
        .content(&content)
        .style(&style)
        .alpha(0.7)
        .levels("3,2,1")
        .weights(relu3_weights())
        .out(&cli_out)
        .run_ok();
    let p = psnr(&read_png(&host_out).rgb, &read_png(&cli_out).rgb);
    println!("C host vs CLI: {p:.2} dB");
    assert!(p >= 50.0, "C host output differs from the CLI's: {p:.2} dB");

    // Texture through the host equals the CLI's (same seed).
    let host_tex = dir.path().join("host_tex.png");
    let cli_tex = dir.path().join("cli_tex.png");
    let res = Command::new(&exe)
        .args([
            "texture",
            s(&relu3_weights()),
            s(&image("style/brick_256.png")),
            s(&host_tex),
            "64",
            "48",
            "5",
            "1",
            "1",
        ])
        .env("LD_LIBRARY_PATH", lib_dir())
        .output()
        .unwrap();
    assert!(res.status.success(), "host texture failed: {}", String::from_utf8_lossy(&res.stderr));
    cli_brick_texture(&cli_tex, (64, 48), 5, 1);
    assert_eq!(read_png(&host_tex).rgb, read_png(&cli_tex).rgb);

    // A failing call: one error line naming the problem, non-zero exit, no output.
    let bad_out = dir.path().join("bad.png");
    let res = Command::new(&exe)
        .args(["stylize", "/no/weights.safetensors", s(&content), s(&style), s(&bad_out)])
        .env("LD_LIBRARY_PATH", lib_dir())
        .output()
        .unwrap();
    assert!(!res.status.success());
    assert!(String::from_utf8_lossy(&res.stderr).contains("/no/weights.safetensors"));
    assert!(!bad_out.exists());
}
