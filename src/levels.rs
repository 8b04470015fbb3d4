//! The one parser of level lists written as text (`"3,2,1"`): the CLI's `--levels`, the C
//! ABI's `unistyle_levels_parse` and through it the host plug-ins.

use crate::error::{Error, Result};
use crate::model::MAX_LEVEL;
use crate::rules;

/// Parses `"3,2,1"` (spaces allowed around each level) into levels in the order given;
/// empty or blank text means every level of the model (`None`). Each level must be
/// 1..=[`MAX_LEVEL`] and appear once. `name` is the caller's term for the field (`--levels`,
/// `levels`), the prefix of the error message.
pub fn parse_levels(text: &str, name: &str) -> Result<Option<Vec<usize>>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let shown = quoted(text);
    let mut levels = Vec::new();
    for t in text.split(',').map(str::trim) {
        let l = t
            .parse::<i128>()
            .map_err(|_| Error::param(name, format!("{} is not a level 1..{MAX_LEVEL} (in {shown})", quoted(t))))?;
        levels.push(l);
        // No valid list is longer than every level once: stop reading a long one here.
        if levels.len() > MAX_LEVEL {
            break;
        }
    }
    // Which levels may be run is the one rule's to say.
    rules::levels(&levels).map_err(|v| Error::param(name, format!("{} (in {shown})", v.reason)))?;
    let levels = levels.into_iter().map(|l| l as usize).collect();
    Ok(Some(levels))
}

/// Longest part of the caller's text quoted in a message, in characters.
pub const MAX_QUOTED_CHARS: usize = 40;

/// `text` in quotes for a message: cut after [`MAX_QUOTED_CHARS`] characters, saying how
/// many bytes were left out, so a huge input is never copied into an error.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        None => format!("'{text}'"),
        Some((cut, _)) => format!("'{}…' ({} more bytes)", &text[..cut], text.len() - cut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_blanks_and_errors() {
        assert_eq!(parse_levels("3,2,1", "--levels").unwrap(), Some(vec![3, 2, 1]));
        assert_eq!(parse_levels(" 1 , 5 ", "--levels").unwrap(), Some(vec![1, 5]));
        assert_eq!(parse_levels("", "--levels").unwrap(), None);
        assert_eq!(parse_levels("  ", "--levels").unwrap(), None);
        let e = |s| parse_levels(s, "--levels").unwrap_err().to_string();
        assert_eq!(e("3,x"), "--levels: 'x' is not a level 1..5 (in '3,x')");
        assert_eq!(e("6"), "--levels: must be in 1..=5, got 6 (in '6')");
        assert_eq!(e("0"), "--levels: must be in 1..=5, got 0 (in '0')");
        assert_eq!(e("3,,1"), "--levels: '' is not a level 1..5 (in '3,,1')");
        assert_eq!(e("2,2"), "--levels: level 2 is listed twice (in '2,2')");
        assert_eq!(e("-1"), "--levels: must be in 1..=5, got -1 (in '-1')");
        let long = format!("1,{}", "2".repeat(1 << 20));
        let m = e(&long);
        assert!(m.len() < 200 && m.contains("more bytes"), "{}", &m[..m.len().min(300)]);
        assert!(e(&"1,".repeat(100_000)).contains("listed twice"));
    }
}
