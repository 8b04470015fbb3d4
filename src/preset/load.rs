//! Reading a preset file: TOML syntax, schema version, serde deserialization of
//! [`super::schema::RawPreset`], then every value's range and every named file, each error
//! naming the file, the line and the key.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml_edit::{ImDocument, Item, TableLike};

use super::resolve::SearchPath;
use super::schema::{Paths, RawPreset, RawTexture, SCHEMA_VERSION};
use super::Preset;
use crate::error::{printable, Error, Result};
use crate::job::{Job, MaskInput, PictureInput, StyleInput, TextureJob};
use crate::model::MAX_LEVEL;
use crate::pipeline::parse_transform;
use crate::rules::{self, JobKind, Param, Violation};

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
    fn file(&self, span: Option<Range<usize>>, key: &str, name: &str, what: &str) -> Result<PathBuf> {
        self.search.resolve(&self.base, name).map_err(|why| self.ctx.err(span, key, format!("{what} {why}")))
    }

    fn files(&self, v: &Spanned<Paths>, key: &str, what: &str) -> Result<Vec<PathBuf>> {
        v.get_ref().0.iter().map(|(span, name)| self.file(span.clone().or(Some(v.span())), key, name, what)).collect()
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
        // The keys of `level_alpha` are levels written as text.
        let mut level_alpha = Vec::new();
        for (k, a) in raw.level_alpha.iter().flat_map(|la| la.get_ref()) {
            let level = k.trim().parse::<i128>().map_err(|_| {
                ctx.err_at(a, &format!("level_alpha.{k}"), format!("'{k}' is not a level 1..{MAX_LEVEL}"))
            })?;
            level_alpha.push((k.as_str(), level, a));
        }
        let transform = match &raw.transform {
            Some(t) => Some(parse_transform("transform", t.get_ref()).map_err(|e| match e {
                Error::Parameter { name, reason } => ctx.err(Some(t.span()), &name, reason),
                e => e,
            })?),
            None => None,
        };
        let seed = match &raw.seed {
            Some(v) if *v.get_ref() < 0 => {
                return Err(ctx.err(Some(v.span()), "seed", format!("must be ≥ 0, got {}", v.get_ref())))
            }
            Some(v) => Some(*v.get_ref() as u64),
            None => None,
        };
        let t = raw.texture.as_ref();
        let mut job = Job {
            kind: if t.is_some() { JobKind::Texture } else { JobKind::Stylize },
            blend: raw.blend.as_ref().map(|b| b.get_ref().iter().map(|x| *x.get_ref()).collect()),
            feather: raw.feather.as_ref().map(|f| *f.get_ref() as f32),
            alpha: raw.alpha.as_ref().map(|a| *a.get_ref()),
            preserve_color: raw.preserve_color.as_ref().map(|v| *v.get_ref()),
            foreground_only: raw.foreground_only.as_ref().map(|f| *f.get_ref()),
            patch_swap: raw.patch_swap.as_ref().map(|v| *v.get_ref()),
            transform,
            variation: raw.variation.as_ref().map(|v| *v.get_ref()),
            seed,
            stroke_scale: raw.stroke_scale.as_ref().map(|v| v.get_ref().0.clone()),
            photo: raw.photo.as_ref().map(|v| *v.get_ref()),
            ..Job::default()
        };
        // Every rule, before any file is looked up, on the job with its integers as written
        // (a negative or huge value is named as given, not as narrowed) and its files counted.
        let get = |v: &Option<Spanned<i64>>| v.as_ref().map(|v| i128::from(*v.get_ref()));
        let params = rules::RawParams {
            styles: style.get_ref().0.len(),
            masks: raw.mask.as_ref().map_or(0, |m| m.get_ref().0.len()),
            feather: raw.feather.as_ref().map(|f| *f.get_ref()),
            style_size: get(&raw.style_size),
            levels: raw.levels.as_ref().map(|ls| ls.get_ref().iter().map(|l| i128::from(*l.get_ref())).collect()),
            level_alpha: level_alpha.iter().map(|&(_, l, a)| (l, *a.get_ref())).collect(),
            width: t.and_then(|t| get(&t.width)),
            height: t.and_then(|t| get(&t.height)),
            seed: t.and_then(|t| get(&t.seed)),
            iterations: t.and_then(|t| get(&t.iterations)),
            ..job.raw()
        };
        params.check().map_err(|v| self.violation(&raw, &level_alpha, v))?;
        job.precision = raw
            .precision
            .as_ref()
            .map(|p| rules::precision(p.get_ref()))
            .transpose()
            .map_err(|v| self.violation(&raw, &level_alpha, v))?;
        // Every value is in range: narrowing keeps it.
        let size = |v: Option<i128>| v.map(|v| v as usize);
        job.style_size = size(params.style_size);
        job.levels = params.levels.map(|ls| ls.into_iter().map(|l| l as usize).collect());
        job.level_alpha = params.level_alpha.into_iter().map(|(l, a)| (l as usize, a)).collect();
        job.styles = self.files(style, "style", "style image")?.into_iter().map(StyleInput::File).collect();
        job.masks = raw
            .mask
            .as_ref()
            .map(|m| self.files(m, "mask", "mask"))
            .transpose()?
            .unwrap_or_default()
            .into_iter()
            .map(MaskInput::File)
            .collect();
        if let Some(t) = t {
            job.texture = TextureJob {
                width: size(params.width),
                height: size(params.height),
                seed: params.seed.map(|v| v as u64),
                iterations: size(params.iterations),
                tileable: t.tileable.as_ref().map(|v| *v.get_ref()),
                init: t
                    .init
                    .as_ref()
                    .map(|i| self.file(Some(i.span()), "texture.init", i.get_ref(), "init image"))
                    .transpose()?
                    .map(PictureInput::File),
            };
        }
        Ok(Preset { path: ctx.path.to_path_buf(), name, description, settings: job })
    }

    /// A broken rule, at the line of the key (or of the list entry) it is about.
    fn violation(&self, raw: &RawPreset, level_alpha: &[(&str, i128, &Spanned<f64>)], v: Violation) -> Error {
        fn span<T>(v: &Option<Spanned<T>>) -> Option<Range<usize>> {
            v.as_ref().map(|v| v.span())
        }
        /// The list entry the violation is about, else the whole list.
        fn entry<T>(list: &Option<Spanned<Vec<Spanned<T>>>>, index: Option<usize>) -> Option<Range<usize>> {
            let list = list.as_ref()?;
            Some(index.and_then(|i| list.get_ref().get(i)).map_or(list.span(), |e| e.span()))
        }
        let tex = |f: fn(&RawTexture) -> Option<Range<usize>>| raw.texture.as_ref().and_then(f);
        let mut key = v.param.key().to_string();
        let at = match v.param {
            Param::Style => span(&raw.style),
            Param::Blend => entry(&raw.blend, v.index),
            Param::Mask => span(&raw.mask),
            Param::Feather => span(&raw.feather),
            Param::StyleSize => span(&raw.style_size),
            Param::Levels => entry(&raw.levels, v.index),
            Param::Alpha => span(&raw.alpha),
            Param::LevelAlpha => match v.index.and_then(|i| level_alpha.get(i)) {
                Some((k, _, a)) => {
                    key = format!("level_alpha.{k}");
                    Some(a.span())
                }
                None => span(&raw.level_alpha),
            },
            Param::ForegroundOnly => span(&raw.foreground_only),
            Param::Width => tex(|t| span(&t.width)),
            Param::Height => tex(|t| span(&t.height)),
            Param::Seed => tex(|t| span(&t.seed)),
            Param::Iterations => tex(|t| span(&t.iterations)),
            Param::Precision => span(&raw.precision),
            Param::PatchSwap => span(&raw.patch_swap),
            Param::Transform => span(&raw.transform),
            Param::Variation => span(&raw.variation),
            Param::StrokeScale => span(&raw.stroke_scale),
            _ => None,
        };
        self.ctx.err(at, &key, v.reason)
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
