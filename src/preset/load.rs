//! Reading a preset file: TOML syntax, schema version, serde deserialization of
//! [`super::schema::RawPreset`], then every value's range and every named file, each error
//! naming the file, the line and the key.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml_edit::{ImDocument, Item, TableLike};

use super::resolve::SearchPath;
use super::schema::{Paths, RawPreset, RawTexture, SCHEMA_VERSION};
use super::settings::{Settings, TextureSettings, MAX_FEATHER, MAX_ITERATIONS, MAX_STYLE_SIZE};
use super::Preset;
use crate::error::{printable, Error, Result};
use crate::model::MAX_LEVEL;
use crate::pipeline::texture::MAX_TEXTURE_SIDE;

/// Largest preset file read.
pub const MAX_PRESET_BYTES: u64 = 1 << 20;

/// Longest accepted `name`.
const MAX_NAME_CHARS: usize = 100;

/// Where errors point: the file and its text.
struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn err(&self, span: Option<Range<usize>>, key: &str, reason: impl Into<String>) -> Error {
        // Keys and values quoted in messages may hold control characters ("a\nb" = 1).
        Error::Preset {
            path: self.path.to_path_buf(),
            line: span.map(|s| self.line(s.start)),
            key: printable(key),
            reason: printable(&reason.into()),
        }
    }

    fn err_at<T>(&self, v: &Spanned<T>, key: &str, reason: impl Into<String>) -> Error {
        self.err(Some(v.span()), key, reason)
    }
}

/// Reads and validates the preset at `path`, resolving its files with `search`.
pub(crate) fn load(path: &Path, search: &SearchPath) -> Result<Preset> {
    let io = |source: std::io::Error| Error::Io { what: "preset", path: path.to_path_buf(), source };
    let ctx = Ctx { path, text: "" };
    let bytes = crate::input_file::read_bounded(path, MAX_PRESET_BYTES).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput if path.is_dir() => ctx.err(None, "", "is a directory, not a preset file"),
        std::io::ErrorKind::InvalidInput => ctx.err(None, "", e.to_string()),
        _ => io(e),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| ctx.err(None, "", "not UTF-8 text"))?;
    parse(&text, path, search)
}

/// Parses preset `text`; `path` labels messages and anchors relative file names.
pub(crate) fn parse(text: &str, path: &Path, search: &SearchPath) -> Result<Preset> {
    let ctx = Ctx { path, text };
    let doc = ImDocument::parse(text.to_string())
        .map_err(|e| ctx.err(e.span(), "", format!("TOML syntax: {}", one_line(e.message()))))?;
    check_version(&ctx, &doc)?;
    let raw: RawPreset = toml::from_str(text).map_err(|e| {
        let key = e.span().and_then(|s| key_at(doc.as_table(), s.start, "")).unwrap_or_default();
        ctx.err(e.span(), &key, serde_message(e.message()))
    })?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Checker { ctx: &ctx, base, search }.preset(raw)
}

/// A future version's file likely has keys this build does not know: say so first.
fn check_version(ctx: &Ctx, doc: &ImDocument<String>) -> Result<()> {
    let Some(item) = doc.get("version") else {
        return Err(ctx.err(None, "version", format!("missing; a preset starts with `version = {SCHEMA_VERSION}`")));
    };
    let span = item.span();
    match item.as_integer() {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(v) => Err(ctx.err(
            span,
            "version",
            format!("unsupported schema version {v}; this unistyle reads version {SCHEMA_VERSION}"),
        )),
        None => Err(ctx.err(span, "version", format!("must be the integer {SCHEMA_VERSION}"))),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// serde's wording, in the preset's terms.
fn serde_message(m: &str) -> String {
    let m = one_line(m);
    match m.strip_prefix("unknown field ") {
        Some(rest) => format!("unknown key {}", rest.replace("expected one of", "known keys are")),
        None => m,
    }
}

fn contains(span: Option<Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.contains(&offset))
}

/// The dotted key whose key or value holds byte `offset` (innermost first).
fn key_at(table: &dyn TableLike, offset: usize, prefix: &str) -> Option<String> {
    for (k, item) in table.iter() {
        let path = if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
        if contains(table.key(k).and_then(|key| key.span()), offset) {
            return Some(path);
        }
        let inner = match item {
            Item::Table(t) => key_at(t, offset, &path).or_else(|| contains(t.span(), offset).then(|| path.clone())),
            Item::Value(v) => v
                .as_inline_table()
                .and_then(|t| key_at(t, offset, &path))
                .or_else(|| contains(v.span(), offset).then(|| path.clone())),
            Item::ArrayOfTables(a) => a.iter().find_map(|t| key_at(t, offset, &path)),
            Item::None => None,
        };
        if inner.is_some() {
            return inner;
        }
    }
    None
}

/// Range checks and file lookups on the deserialized preset.
struct Checker<'a> {
    ctx: &'a Ctx<'a>,
    base: PathBuf,
    search: &'a SearchPath,
}

impl Checker<'_> {
    fn int(&self, v: &Option<Spanned<i64>>, key: &str, min: i64, max: i64) -> Result<Option<i64>> {
        match v {
            Some(s) if !(min..=max).contains(s.get_ref()) => {
                let want = if max == i64::MAX { format!("must be ≥ {min}") } else { format!("must be in {min}..={max}") };
                Err(self.ctx.err_at(s, key, format!("{want}, got {}", s.get_ref())))
            }
            Some(s) => Ok(Some(*s.get_ref())),
            None => Ok(None),
        }
    }

    fn float(&self, v: &Spanned<f64>, key: &str, min: f64, max: f64) -> Result<f64> {
        let x = *v.get_ref();
        if x.is_finite() && x >= min && x <= max {
            Ok(x)
        } else {
            Err(self.ctx.err_at(v, key, format!("must be in {min}..={max}, got {x}")))
        }
    }

    fn file(&self, span: Option<Range<usize>>, key: &str, name: &str, what: &str) -> Result<PathBuf> {
        self.search.resolve(&self.base, name).map_err(|why| self.ctx.err(span, key, format!("{what} {why}")))
    }

    fn files(&self, v: &Spanned<Paths>, key: &str, what: &str) -> Result<Vec<PathBuf>> {
        v.get_ref()
            .0
            .iter()
            .map(|(span, name)| self.file(span.clone().or(Some(v.span())), key, name, what))
            .collect()
    }

    fn preset(&self, raw: RawPreset) -> Result<Preset> {
        let ctx = self.ctx;
        let name = match &raw.name {
            Some(n) => {
                check_name(n.get_ref()).map_err(|why| ctx.err_at(n, "name", why))?;
                n.get_ref().clone()
            }
            None => {
                let stem = ctx.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                check_name(&stem).map_err(|why| {
                    ctx.err(None, "name", format!("no `name` given and the file name cannot serve: {why}"))
                })?;
                stem
            }
        };
        let description = raw.description.as_ref().map(|d| one_line(d.get_ref())).unwrap_or_default();

        let Some(style) = &raw.style else {
            return Err(ctx.err(None, "style", "missing; name at least one style image, e.g. style = \"starry.png\""));
        };
        if style.get_ref().0.is_empty() {
            return Err(ctx.err_at(style, "style", "at least one style image is needed"));
        }
        let styles = self.files(style, "style", "style image")?;
        let n = styles.len();
        let masks = match &raw.mask {
            Some(m) => {
                let k = m.get_ref().0.len();
                if k + 1 != n && k != n {
                    return Err(ctx.err_at(m, "mask", format!("{n} styles need {} or {n} masks, got {k}", n - 1)));
                }
                self.files(m, "mask", "mask")?
            }
            None => Vec::new(),
        };
        let blend = match &raw.blend {
            Some(b) => {
                if !masks.is_empty() {
                    return Err(ctx.err_at(b, "blend", "blends styles globally; with masks each region has its own style"));
                }
                if b.get_ref().len() != n {
                    return Err(ctx.err_at(b, "blend", format!("{} weights for {n} styles", b.get_ref().len())));
                }
                let w = b
                    .get_ref()
                    .iter()
                    .map(|x| match *x.get_ref() {
                        v if v.is_finite() && v >= 0.0 => Ok(v),
                        v => Err(ctx.err_at(x, "blend", format!("weight {v} must be finite and ≥ 0"))),
                    })
                    .collect::<Result<Vec<_>>>()?;
                if w.iter().sum::<f64>() <= 0.0 {
                    return Err(ctx.err_at(b, "blend", "the weights sum to 0"));
                }
                Some(w)
            }
            None => None,
        };
        let feather = match &raw.feather {
            Some(f) => {
                let v = self.float(f, "feather", 0.0, MAX_FEATHER)?;
                if v > 0.0 && masks.is_empty() {
                    return Err(ctx.err_at(f, "feather", "softens mask borders; give `mask` too"));
                }
                Some(v as f32)
            }
            None => None,
        };
        let style_size = self.int(&raw.style_size, "style_size", 1, MAX_STYLE_SIZE as i64)?.map(|v| v as usize);
        let levels = match &raw.levels {
            Some(ls) => {
                if ls.get_ref().is_empty() {
                    return Err(ctx.err_at(ls, "levels", "at least one level is needed"));
                }
                let mut out = Vec::new();
                for l in ls.get_ref() {
                    let v = self.int(&Some(l.clone()), "levels", 1, MAX_LEVEL as i64)?.unwrap_or(1) as usize;
                    if out.contains(&v) {
                        return Err(ctx.err_at(l, "levels", format!("level {v} is listed twice")));
                    }
                    out.push(v);
                }
                Some(out)
            }
            None => None,
        };
        let alpha = raw.alpha.as_ref().map(|a| self.float(a, "alpha", 0.0, 1.0)).transpose()?;
        let mut level_alpha = Vec::new();
        if let Some(la) = &raw.level_alpha {
            for (k, a) in la.get_ref() {
                let key = format!("level_alpha.{k}");
                let level = k
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LEVEL).contains(l))
                    .ok_or_else(|| ctx.err_at(a, &key, format!("'{k}' is not a level 1..{MAX_LEVEL}")))?;
                if levels.as_ref().is_some_and(|ls| !ls.contains(&level)) {
                    return Err(ctx.err_at(a, &key, format!("level {level} is not among `levels`")));
                }
                // Distinct keys can name one level ("3", "03", "+3"): which value would win?
                if level_alpha.iter().any(|&(l, _)| l == level) {
                    return Err(ctx.err_at(a, &key, format!("level {level} is given twice")));
                }
                level_alpha.push((level, self.float(a, &key, 0.0, 1.0)?));
            }
        }
        let foreground_only = raw.foreground_only.as_ref().map(|f| *f.get_ref());
        if let (Some(true), Some(f)) = (foreground_only, &raw.foreground_only) {
            if masks.len() != n {
                return Err(ctx.err_at(f, "foreground_only", "every style needs its own mask (as many masks as styles)"));
            }
        }
        let is_texture = raw.texture.is_some();
        let texture = match &raw.texture {
            Some(t) => {
                if !masks.is_empty() && masks.len() == n {
                    let span = raw.mask.as_ref().map(|m| m.span());
                    return Err(ctx.err(span, "mask", "a texture has no content to keep: give one mask fewer than styles"));
                }
                self.texture(t)?
            }
            None => TextureSettings::default(),
        };
        let settings = Settings {
            styles,
            blend,
            masks,
            feather,
            style_size,
            levels,
            alpha,
            level_alpha,
            preserve_color: raw.preserve_color.as_ref().map(|v| *v.get_ref()),
            foreground_only,
            texture,
        };
        Ok(Preset { path: ctx.path.to_path_buf(), name, description, settings, is_texture })
    }

    fn texture(&self, t: &RawTexture) -> Result<TextureSettings> {
        let side = MAX_TEXTURE_SIDE as i64;
        Ok(TextureSettings {
            width: self.int(&t.width, "texture.width", 1, side)?.map(|v| v as usize),
            height: self.int(&t.height, "texture.height", 1, side)?.map(|v| v as usize),
            seed: self.int(&t.seed, "texture.seed", 0, i64::MAX)?.map(|v| v as u64),
            iterations: self.int(&t.iterations, "texture.iterations", 1, MAX_ITERATIONS as i64)?.map(|v| v as usize),
            tileable: t.tileable.as_ref().map(|v| *v.get_ref()),
            init: t
                .init
                .as_ref()
                .map(|i| self.file(Some(i.span()), "texture.init", i.get_ref(), "init image"))
                .transpose()?,
        })
    }
}

/// A name must serve as a file name (`unistyle render` writes `<name>.png`).
fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err("the name is empty".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("longer than {MAX_NAME_CHARS} characters"));
    }
    if name.starts_with('.') || name.trim() != name {
        return Err(format!("'{name}' may not start with '.' or with or end in spaces"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control() || "/\\:*?\"<>|".contains(*c)) {
        return Err(format!("'{name}' contains {c:?}, which file names cannot hold"));
    }
    Ok(())
}
