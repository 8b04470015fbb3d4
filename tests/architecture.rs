//! The house: the rooms of `src/` (its top-level modules: `model`, `kernels`, `transform`,
//! `pipeline`, `capi`, `cli`, `preset`, `image_io`, …) and the imports between them, read
//! from the `crate::room::…` paths (and `unistyle::room::…` in `src/main.rs` and `src/cli/`)
//! of every source file. No room may reach itself through the others (no import circles),
//! and at most two imports may run back up the layering below (a lower room importing a
//! higher one). The graph is printed (`cargo test --test architecture -- --nocapture`).
//!
//! `UNISTYLE_ARCH_SRC=<dir>` reads another tree (e.g. an older checkout's `src/`) and only
//! prints its counts.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The rooms, lowest first: a room may import rooms below it (or beside it, in the same
/// layer) freely; an import of a room in a higher layer runs back up.
const LAYERS: &[&[&str]] = &[
    &["allocator", "error", "hash", "progress", "input_file", "memory"],
    &["kernels"],
    &["device", "model", "transform", "levels", "rules", "image_io"],
    &["pipeline", "style_cache"],
    &["job"],
    &["preset", "locate", "convert"],
    &["hosts"],
    &["capi", "cli", "main", "lib"],
];

/// At most this many imports may run back up.
const MAX_UPWARD: usize = 2;

type Graph = BTreeMap<String, BTreeMap<String, usize>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The room a file of `src/` belongs to: its first path component, without `.rs`.
fn room_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("file under src");
    let first = rel.components().next().expect("a component").as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The rooms a line names through `prefix` (`crate::`, `unistyle::`), including the
/// members of a grouped import (`use crate::{a::x, b};`).
fn named_rooms(line: &str, prefix: &str, rooms: &BTreeSet<String>, out: &mut Vec<String>) {
    let mut rest = line;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            out.extend(inner.split(',').map(|m| ident(m.trim())).filter(|m| rooms.contains(m)));
        } else {
            let name = ident(rest);
            if rooms.contains(&name) {
                out.push(name);
            }
        }
    }
}

fn ident(s: &str) -> String {
    s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// The room graph of the tree at `src`: importer → imported room → number of lines.
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let rooms: BTreeSet<String> = files.iter().map(|f| room_of(src, f)).collect();
    let mut g = Graph::new();
    for f in &files {
        let from = room_of(src, f);
        let text = fs::read_to_string(f).expect("source file");
        let binary_side = from == "main" || from == "cli";
        for line in text.lines() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let mut named = Vec::new();
            named_rooms(code, "crate::", &rooms, &mut named);
            if binary_side {
                named_rooms(code, "unistyle::", &rooms, &mut named);
            }
            for to in named.into_iter().filter(|to| *to != from) {
                *g.entry(from.clone()).or_default().entry(to).or_default() += 1;
            }
        }
        g.entry(from).or_default();
    }
    g
}

/// Every elementary circle of `g` (each once, starting at its smallest room).
fn circles(g: &Graph) -> Vec<Vec<String>> {
    fn walk(g: &Graph, start: &str, at: &str, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        for next in g.get(at).into_iter().flat_map(|m| m.keys()) {
            if next == start {
                out.push(path.clone());
            } else if next.as_str() > start && !path.contains(next) {
                path.push(next.clone());
                walk(g, start, next, path, out);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    for start in g.keys() {
        walk(g, start, start, &mut vec![start.clone()], &mut out);
    }
    out
}

fn layer_of(room: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&room))
}

/// The imports running back up: (from, to, lines).
fn upward(g: &Graph) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (from, tos) in g {
        for (to, &n) in tos {
            if let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) {
                if b > a {
                    out.push((from.clone(), to.clone(), n));
                }
            }
        }
    }
    out
}

fn print(g: &Graph, circles: &[Vec<String>], up: &[(String, String, usize)]) {
    println!("{} rooms:", g.len());
    for (from, tos) in g {
        let list: Vec<String> = tos.iter().map(|(t, n)| format!("{t} ({n})")).collect();
        println!("  {from:<12} → {}", list.join(", "));
    }
    println!("{} import circles:", circles.len());
    for c in circles {
        println!("  {} → {}", c.join(" → "), c[0]);
    }
    println!("{} imports back up:", up.len());
    for (from, to, n) in up {
        println!("  {from} → {to} ({n} lines)");
    }
}

#[test]
fn rooms_form_no_circles_and_few_imports_run_back_up() {
    let other = std::env::var_os("UNISTYLE_ARCH_SRC").map(PathBuf::from);
    let src = other.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"));
    let g = graph(&src);
    let (cs, up) = (circles(&g), upward(&g));
    print(&g, &cs, &up);
    if other.is_some() {
        return;
    }
    let unplaced: Vec<&String> = g.keys().filter(|r| layer_of(r).is_none()).collect();
    assert!(unplaced.is_empty(), "rooms missing from LAYERS in tests/architecture.rs: {unplaced:?}");
    assert!(cs.is_empty(), "import circles between rooms: {cs:?}");
    assert!(up.len() <= MAX_UPWARD, "{} imports run back up (at most {MAX_UPWARD}): {up:?}", up.len());
}

/// The checker itself finds what it is for, on a made-up tree.
#[test]
fn checker_finds_circles_and_upward_imports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    };
    write("model/mod.rs", "use crate::transform::Stats;\n// crate::pipeline in a comment\n");
    write("transform/mod.rs", "use crate::{model::Isa, error::Result};\n");
    write("error.rs", "pub type Result = ();\n");
    write("kernels/mod.rs", "fn f() { crate::pipeline::budget::check(); }\n");
    write("pipeline/mod.rs", "use crate::model::Model;\n");
    let g = graph(dir.path());
    assert_eq!(g["transform"].keys().collect::<Vec<_>>(), ["error", "model"]);
    assert!(!g["model"].contains_key("pipeline"), "comments are not imports");
    let cs = circles(&g);
    assert_eq!(cs, vec![vec!["model".to_owned(), "transform".to_owned()]]);
    assert_eq!(upward(&g), vec![("kernels".to_owned(), "pipeline".to_owned(), 1)]);
}
