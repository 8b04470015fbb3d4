//! The frames of `unistyle frames --in`: every image of a folder, or the files a pattern
//! (`frames/*.png`, `shot_??.jpg`) names, in natural order (`f2` before `f10`).

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use unistyle::{Error, Result};

/// Extensions taken from a folder.
const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp"];

/// The frames `spec` names, in natural order; an error when there are none.
pub fn frames(spec: &str) -> Result<Vec<PathBuf>> {
    let path = Path::new(spec);
    let io = |source| Error::Io { what: "frames folder", path: path.to_path_buf(), source };
    let (dir, pattern) = if path.is_dir() {
        (path.to_path_buf(), None)
    } else {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if !name.contains(['*', '?']) {
            return match path.is_file() {
                true => Ok(vec![path.to_path_buf()]),
                false => Err(Error::param("--in", format!("'{spec}' is neither a folder, a file nor a pattern"))),
            };
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if dir.to_string_lossy().contains(['*', '?']) {
            return Err(Error::param("--in", format!("'{spec}': wildcards are allowed in the file name only")));
        }
        (dir, Some(name.to_string()))
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let wanted = match &pattern {
            Some(p) => matches(p.as_bytes(), name.as_bytes()),
            None => Path::new(&name)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())),
        };
        if wanted && entry.path().is_file() {
            found.push(entry.path());
        }
    }
    if found.is_empty() {
        return Err(Error::param("--in", format!("no frames found by '{spec}'")));
    }
    found.sort_by(|a, b| {
        natural(
            &a.file_name().unwrap_or_default().to_string_lossy(),
            &b.file_name().unwrap_or_default().to_string_lossy(),
        )
    });
    Ok(found)
}

/// Whether `name` matches the wildcard `pattern` (`*` any run, `?` one character).
fn matches(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| matches(rest, &name[i..])),
        Some((&c, rest)) => match name.split_first() {
            Some((&n, tail)) if c == b'?' || c == n => matches(rest, tail),
            _ => false,
        },
    }
}

/// Natural order: runs of digits compare as numbers, the rest case-insensitively; ties by
/// the plain text.
pub fn natural(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(&cb) {
        let o = match (x, y) {
            ((true, x), (true, y)) => {
                let (tx, ty) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
            }
            ((_, x), (_, y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_and_wildcards() {
        let mut v = vec!["f10.png", "f2.png", "F1.png", "f02b.png", "f2a.png", "g.png"];
        v.sort_by(|a, b| natural(a, b));
        assert_eq!(v, ["F1.png", "f2.png", "f2a.png", "f02b.png", "f10.png", "g.png"]);
        assert!(matches(b"*.png", b"a.png"));
        assert!(matches(b"shot_??.jpg", b"shot_07.jpg"));
        assert!(!matches(b"shot_??.jpg", b"shot_7.jpg"));
        assert!(!matches(b"*.png", b"a.png.txt"));
    }
}
