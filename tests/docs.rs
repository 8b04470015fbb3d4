//! The documentation against the tree: the source layout table of `docs/architecture.md`
//! names every folder and top-level file of `src/` (and every folder below `src/model/`), and
//! every path or file name it gives exists; the README stays a page (≤ 200 lines) whose links
//! into the checkout resolve.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rows of the layout table: (the paths of the first column, the names in backticks of
/// the second).
fn layout_rows() -> Vec<(Vec<String>, Vec<String>)> {
    let text = fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md");
    text.lines()
        .filter(|l| l.starts_with("| `src/"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').collect();
            (ticked(cells[1]), ticked(cells[2]))
        })
        .collect()
}

/// The words in backticks of `cell`.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// Entries of `dir` (relative to the root) as the table writes them: `src/x.rs`, `src/y/`.
fn entries(dir: &str) -> BTreeSet<String> {
    fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| {
            let e = e.expect("dir entry");
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                format!("{dir}/{name}/")
            } else {
                format!("{dir}/{name}")
            }
        })
        .filter(|p| p.ends_with('/') || p.ends_with(".rs"))
        .collect()
}

#[test]
fn layout_table_names_every_part_of_src() {
    let rows = layout_rows();
    assert!(rows.len() >= 10, "layout table not found in docs/architecture.md");
    let named: BTreeSet<String> = rows.iter().flat_map(|(paths, _)| paths.iter().cloned()).collect();
    let mut wanted = entries("src");
    wanted.extend(entries("src/model").into_iter().filter(|p| p.ends_with('/')));
    let missing: Vec<&String> = wanted.iter().filter(|p| !named.contains(*p)).collect();
    assert!(missing.is_empty(), "docs/architecture.md's layout table lacks {missing:?}");
}

#[test]
fn every_path_the_layout_table_names_exists() {
    for (paths, names) in layout_rows() {
        for p in &paths {
            assert!(root().join(p).exists(), "docs/architecture.md names {p}, which does not exist");
        }
        // Names in the second column are files or folders of the row's (first) folder.
        let Some(dir) = paths.iter().find(|p| p.ends_with('/')) else { continue };
        for n in names.iter().filter(|n| n.ends_with(".rs") || n.ends_with('/')) {
            let exists = Path::new(&root().join(dir)).join(n).exists();
            assert!(exists, "docs/architecture.md: {dir} has no {n}");
        }
    }
}

#[test]
fn readme_is_a_page_whose_links_resolve() {
    let text = fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = text.lines().count();
    assert!(lines <= 200, "README.md has {lines} lines; the manuals belong in docs/");
    for target in text.split("](").skip(1).filter_map(|s| s.split(')').next()) {
        if target.starts_with("http") || target.starts_with('#') {
            continue;
        }
        let path = target.split('#').next().unwrap_or(target);
        assert!(root().join(path).exists(), "README.md links to {target}, which does not exist");
    }
}
