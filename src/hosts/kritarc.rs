//! Enabling a Python plug-in in Krita's `kritarc`: the key `enable_NAME=true` in the
//! `[python]` group, as Krita's Python Plugin Manager writes it. The rest of the file is kept
//! as it is, line for line.

/// `text` with `key` set to `value` in `[group]` (the group added at the end when missing).
pub fn set(text: &str, group: &str, key: &str, value: &str) -> String {
    let header = format!("[{group}]");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let line = format!("{key}={value}");
    match lines.iter().position(|l| l.trim() == header) {
        Some(start) => {
            let end = lines[start + 1..]
                .iter()
                .position(|l| l.trim_start().starts_with('['))
                .map_or(lines.len(), |i| start + 1 + i);
            match lines[start + 1..end].iter().position(|l| is_key(l, key)) {
                Some(i) => lines[start + 1 + i] = line,
                None => {
                    // After the group's last non-empty line.
                    let at = (start + 1..end).rev().find(|&i| !lines[i].trim().is_empty()).map_or(start + 1, |i| i + 1);
                    lines.insert(at, line);
                }
            }
        }
        None => {
            if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.push(header);
            lines.push(line);
        }
    }
    lines.join("\n") + "\n"
}

/// `text` without `key` in `[group]`; None when it was not there (nothing to change).
pub fn remove(text: &str, group: &str, key: &str) -> Option<String> {
    let header = format!("[{group}]");
    let mut in_group = false;
    let mut removed = false;
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            if l.trim_start().starts_with('[') {
                in_group = l.trim() == header;
            }
            let drop = in_group && is_key(l, key);
            removed |= drop;
            !drop
        })
        .collect();
    removed.then(|| kept.join("\n") + "\n")
}

fn is_key(line: &str, key: &str) -> bool {
    line.split_once('=').is_some_and(|(k, _)| k.trim() == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_remove_keep_the_rest() {
        let rc = "[General]\na=1\n\n[python]\nenable_other=true\n\n[Other]\nb=2\n";
        let on = set(rc, "python", "enable_unistyle_krita", "true");
        assert_eq!(on, "[General]\na=1\n\n[python]\nenable_other=true\nenable_unistyle_krita=true\n\n[Other]\nb=2\n");
        assert_eq!(set(&on, "python", "enable_unistyle_krita", "true"), on);
        assert_eq!(
            set("[python]\nenable_unistyle_krita=false\n", "python", "enable_unistyle_krita", "true"),
            "[python]\nenable_unistyle_krita=true\n"
        );
        assert_eq!(set("", "python", "k", "true"), "[python]\nk=true\n");
        assert_eq!(set("[General]\na=1", "python", "k", "true"), "[General]\na=1\n\n[python]\nk=true\n");
        assert_eq!(remove(&on, "python", "enable_unistyle_krita").as_deref(), Some(rc));
        assert_eq!(remove(rc, "python", "enable_unistyle_krita"), None);
        // The same key in another group is not ours.
        assert_eq!(remove("[Other]\nenable_unistyle_krita=true\n", "python", "enable_unistyle_krita"), None);
    }
}
