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
    let mut levels = Vec::new();
    for t in text.split(',').map(str::trim) {
        let l = t
            .parse::<i128>()
            .map_err(|_| Error::param(name, format!("'{t}' is not a level 1..{MAX_LEVEL} (in '{text}')")))?;
        levels.push(l);
    }
    // Which levels may be run is the one rule's to say.
    rules::levels(&levels).map_err(|v| Error::param(name, format!("{} (in '{text}')", v.reason)))?;
    let levels = levels.into_iter().map(|l| l as usize).collect();
    Ok(Some(levels))
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
    }
}
