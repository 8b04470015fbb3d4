//! The style cache: the encoded statistics of a style image (per level: mean and truncated
//! covariance eigendecomposition, see [`crate::transform::Stats`]) saved on disk so that
//! re-using a style skips the encoder pass and the eigendecompositions.
//!
//! An entry is keyed by the SHA-256 of the image file's bytes, the SHA-256 of the weights
//! file ([`Model::content_hash`]) and the style size (the longest side the image is scaled
//! to before encoding). The entry file is a safetensors file of f64 tensors whose header
//! metadata repeats the whole key and carries a SHA-256 checksum of the statistics; on load
//! every one of these is checked, so a truncated, corrupt or stale entry (another image,
//! model or size renamed into place, another format version) is reported, ignored and
//! rebuilt, never trusted. Entries are written atomically (temporary file + rename).
//!
//! Where the cache lives is the caller's choice ([`StyleCache::new`]); the command line uses
//! `--cache-dir`, else `$UNISTYLE_CACHE_DIR`, else `.unistyle-cache/` beside the preset.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};
use crate::hash::{sha256_hex, Hasher};
use crate::image_io::{self, Picture};
use crate::model::{Model, CHANNELS, MAX_LEVEL};
use crate::pipeline::{EncodedStyle, StyleEncoding};
use crate::transform::{Stats, EIGEN_EPS};

/// Environment variable naming the cache directory.
pub const CACHE_ENV: &str = "UNISTYLE_CACHE_DIR";
/// Name of the cache directory created beside a preset file.
pub const CACHE_DIR_NAME: &str = ".unistyle-cache";
/// Layout identifier stored in every entry's metadata under `format`.
pub const CACHE_FORMAT: &str = "unistyle-style-cache/1";
/// File extension of cache entries.
pub const ENTRY_EXTENSION: &str = "ustats";

/// Largest cache entry read: a full five-level entry is about 5 MiB (f64 eigenvectors of up
/// to 512 channels per level); anything much larger is not one of ours.
pub const MAX_ENTRY_BYTES: u64 = 64 << 20;

/// What identifies a cache entry: the image content, the model and the style size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StyleKey {
    /// SHA-256 of the style image file's bytes.
    pub image_hash: String,
    /// SHA-256 of the weights file.
    pub model_hash: String,
    /// Longest side the style is scaled down to before encoding (`None`: its own size).
    pub style_size: Option<usize>,
}

impl StyleKey {
    /// The key of `image` (its file is read and hashed) encoded by `model` at `style_size`.
    pub fn new(model: &Model, image: &Path, style_size: Option<usize>) -> Result<Self> {
        let bytes = crate::input_file::read_bounded(image, crate::image_io::MAX_DECODE_ALLOC)
            .map_err(|source| Error::Io { what: "style image", path: image.to_path_buf(), source })?;
        Ok(Self { image_hash: sha256_hex(&bytes), model_hash: model.content_hash().to_string(), style_size })
    }

    fn size_string(&self) -> String {
        self.style_size.map_or_else(|| "native".to_string(), |s| s.to_string())
    }

    /// The entry's file name: a hash of every key field (and the format and eigenvalue cut-off).
    pub fn file_name(&self) -> String {
        let id =
            format!("{CACHE_FORMAT}\n{}\n{}\n{}\n{EIGEN_EPS:e}", self.image_hash, self.model_hash, self.size_string());
        format!("{}.{ENTRY_EXTENSION}", &sha256_hex(id.as_bytes())[..32])
    }
}

/// The result of looking a key up.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// A valid entry with every requested level.
    Hit(EncodedStyle),
    /// No entry.
    Missing,
    /// A valid entry that lacks some requested level.
    Incomplete,
    /// An entry that must not be used; the reason says why (corrupt, truncated, stale).
    Invalid(String),
}

/// How a style was obtained by [`StyleEncoder::encode`].
#[derive(Debug, Clone, PartialEq)]
pub enum CacheOutcome {
    /// No cache in use: the style was encoded.
    Encoded,
    /// Already encoded earlier by this encoder (e.g. for another preset of a batch).
    Reused,
    /// Loaded from a valid cache entry: no encoding happened.
    Hit,
    /// No usable entry (none, or one lacking a level): encoded, then stored.
    Miss,
    /// The entry was corrupt or stale: it was ignored, and the style encoded and stored anew.
    Rebuilt(String),
}

/// One style lookup, for reporting (`--verbose`) and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheReport {
    /// The style image looked up.
    pub image: PathBuf,
    /// The entry file, when a cache is in use.
    pub entry: Option<PathBuf>,
    /// What the lookup found.
    pub outcome: CacheOutcome,
    /// Why the encoded style could not be stored (the run goes on without it).
    pub store_error: Option<String>,
}

impl std::fmt::Display for CacheReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let image = self.image.display();
        match &self.outcome {
            CacheOutcome::Encoded => write!(f, "style '{image}': encoded (no cache)")?,
            CacheOutcome::Reused => write!(f, "style '{image}': reused (encoded earlier in this run)")?,
            CacheOutcome::Hit => write!(f, "style '{image}': cache hit")?,
            CacheOutcome::Miss => write!(f, "style '{image}': cache miss, encoded")?,
            CacheOutcome::Rebuilt(why) => write!(f, "style '{image}': cache entry rebuilt ({why})")?,
        }
        if let Some(e) = &self.entry {
            write!(f, " [{}]", e.display())?;
        }
        if let Some(e) = &self.store_error {
            write!(f, "; not stored: {e}")?;
        }
        Ok(())
    }
}

/// A directory of style cache entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StyleCache {
    dir: PathBuf,
}

impl StyleCache {
    /// A cache in `dir` (created when the first entry is stored).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The cache named by `$UNISTYLE_CACHE_DIR`, if set.
    pub fn from_env() -> Option<Self> {
        std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()).map(Self::new)
    }

    /// The cache beside a preset file: `<preset's folder>/.unistyle-cache/`.
    pub fn beside(preset_file: &Path) -> Self {
        let dir = match preset_file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self::new(dir.join(CACHE_DIR_NAME))
    }

    /// The folder the entries are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the entry for `key` lives (whether or not it exists).
    pub fn entry_path(&self, key: &StyleKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// Looks `key` up; a hit has statistics for every one of `levels`.
    pub fn lookup(&self, key: &StyleKey, levels: &[usize]) -> Lookup {
        let path = self.entry_path(key);
        let bytes = match crate::input_file::read_bounded(&path, MAX_ENTRY_BYTES) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Missing,
            Err(e) => return Lookup::Invalid(format!("unreadable: {e}")),
        };
        match decode_entry(&bytes, key) {
            Ok(style) if levels.iter().all(|&l| style.stats(l).is_some()) => Lookup::Hit(style),
            Ok(_) => Lookup::Incomplete,
            Err(reason) => Lookup::Invalid(reason),
        }
    }

    /// Stores `style` under `key`, atomically; returns the entry's path.
    pub fn store(&self, key: &StyleKey, style: &EncodedStyle) -> Result<PathBuf> {
        let io =
            |path: &Path, source: std::io::Error| Error::Io { what: "style cache", path: path.to_path_buf(), source };
        if !self.dir.is_dir() {
            std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
            // Mark the folder as a cache for backup tools (https://bford.info/cachedir/).
            let tag = self.dir.join("CACHEDIR.TAG");
            let _ = std::fs::write(
                tag,
                "Signature: 8a477f597d28d172789f06886806bc55\n# unistyle style cache; safe to delete.\n",
            );
        }
        let bytes = encode_entry(key, style)?;
        let path = self.entry_path(key);
        image_io::write_atomically(&path, "style cache entry", |w| w.write_all(&bytes).map_err(|e| e.to_string()))?;
        Ok(path)
    }
}

/// Metadata fields every entry must carry, with the value the key expects.
fn key_fields(key: &StyleKey) -> [(&'static str, String, &'static str); 4] {
    [
        ("format", CACHE_FORMAT.to_string(), "another cache format"),
        ("image_sha256", key.image_hash.clone(), "another image"),
        ("model_sha256", key.model_hash.clone(), "another model"),
        ("style_size", key.size_string(), "another style size"),
    ]
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// One level of a cache entry as bytes: pixel count, mean, eigenvalues, eigenvectors.
type LevelBytes = (usize, Vec<u8>, Vec<u8>, Vec<u8>);

/// The checksum of an entry's statistics: levels, counts and every tensor's bytes, in order.
fn checksum(levels: &BTreeMap<usize, LevelBytes>) -> String {
    let mut h = Hasher::new();
    for (l, (count, mean, values, vectors)) in levels {
        h.update((*l as u64).to_le_bytes());
        h.update((*count as u64).to_le_bytes());
        for part in [mean, values, vectors] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finish()
}

fn encode_entry(key: &StyleKey, style: &EncodedStyle) -> Result<Vec<u8>> {
    let mut parts = BTreeMap::new();
    for l in style.levels() {
        let s = style.stats(l).ok_or_else(|| Error::Tensor(format!("style has no level {l}")))?;
        parts.insert(l, (s.count, f64_bytes(&s.mean), f64_bytes(&s.eigenvalues), f64_bytes(&s.eigenvectors)));
    }
    let mut meta: HashMap<String, String> = key_fields(key).into_iter().map(|(k, v, _)| (k.to_string(), v)).collect();
    meta.insert("eigen_eps".into(), format!("{EIGEN_EPS:e}"));
    meta.insert("levels".into(), parts.keys().map(|l| l.to_string()).collect::<Vec<_>>().join(","));
    meta.insert("counts".into(), parts.iter().map(|(l, p)| format!("{l}={}", p.0)).collect::<Vec<_>>().join(","));
    meta.insert("checksum".into(), checksum(&parts));
    let mut views = Vec::new();
    for (l, (_, mean, values, vectors)) in &parts {
        let c = mean.len() / 8;
        let k = values.len() / 8;
        let bad = |e: safetensors::SafeTensorError| Error::Tensor(format!("style cache entry: {e}"));
        views.push((format!("level{l}.mean"), TensorView::new(Dtype::F64, vec![c], mean).map_err(bad)?));
        views.push((format!("level{l}.eigenvalues"), TensorView::new(Dtype::F64, vec![k], values).map_err(bad)?));
        views.push((format!("level{l}.eigenvectors"), TensorView::new(Dtype::F64, vec![k, c], vectors).map_err(bad)?));
    }
    safetensors::serialize(views, Some(meta)).map_err(|e| Error::Tensor(format!("style cache entry: {e}")))
}

/// Parses and checks an entry against `key`; `Err` says why it cannot be trusted.
fn decode_entry(bytes: &[u8], key: &StyleKey) -> std::result::Result<EncodedStyle, String> {
    let corrupt = |what: String| format!("corrupt: {what}");
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| corrupt(format!("not a safetensors file ({e})")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    for (field, expected, stale) in key_fields(key) {
        match meta.get(field) {
            Some(v) if *v == expected => {}
            Some(_) => return Err(format!("stale: made for {stale}")),
            None => return Err(corrupt(format!("no '{field}' in its header"))),
        }
    }
    if meta.get("eigen_eps") != Some(&format!("{EIGEN_EPS:e}")) {
        return Err("stale: made with another eigenvalue cut-off".into());
    }
    let st = SafeTensors::deserialize(bytes).map_err(|e| corrupt(format!("truncated or damaged data ({e})")))?;
    let field = |name: &str| meta.get(name).ok_or_else(|| corrupt(format!("no '{name}' in its header")));
    let levels: Vec<usize> = field("levels")?
        .split(',')
        .map(|t| t.parse::<usize>().ok().filter(|l| (1..=MAX_LEVEL).contains(l)))
        .collect::<Option<_>>()
        .ok_or_else(|| corrupt("bad level list".into()))?;
    let counts: HashMap<usize, usize> = field("counts")?
        .split(',')
        .map(|t| {
            let (l, n) = t.split_once('=')?;
            Some((l.parse().ok()?, n.parse().ok()?))
        })
        .collect::<Option<_>>()
        .ok_or_else(|| corrupt("bad counts".into()))?;
    let mut parts = BTreeMap::new();
    for &l in &levels {
        let tensor = |suffix: &str| -> std::result::Result<(Vec<usize>, Vec<u8>), String> {
            let name = format!("level{l}.{suffix}");
            let v = st.tensor(&name).map_err(|_| corrupt(format!("tensor '{name}' is missing")))?;
            if v.dtype() != Dtype::F64 {
                return Err(corrupt(format!("tensor '{name}' is not f64")));
            }
            Ok((v.shape().to_vec(), v.data().to_vec()))
        };
        let (ms, mean) = tensor("mean")?;
        let (vs, values) = tensor("eigenvalues")?;
        let (es, vectors) = tensor("eigenvectors")?;
        let c = CHANNELS[l];
        let k = vs.first().copied().unwrap_or(usize::MAX);
        if ms != [c] || vs.len() != 1 || k > c || es != [k, c] {
            return Err(corrupt(format!("level {l} tensors have shapes {ms:?}, {vs:?}, {es:?}")));
        }
        let count = *counts.get(&l).ok_or_else(|| corrupt(format!("no count for level {l}")))?;
        parts.insert(l, (count, mean, values, vectors));
    }
    if field("checksum")? != &checksum(&parts) {
        return Err(corrupt("checksum mismatch".into()));
    }
    let mut stats = BTreeMap::new();
    for (l, (count, mean, values, vectors)) in parts {
        let f = |b: Vec<u8>| -> Vec<f64> {
            b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()
        };
        let s = Stats { count, mean: f(mean), eigenvalues: f(values), eigenvectors: f(vectors) };
        if s.mean.iter().chain(&s.eigenvalues).chain(&s.eigenvectors).any(|v| !v.is_finite()) {
            return Err(corrupt(format!("level {l} holds non-finite values")));
        }
        stats.insert(l, s);
    }
    Ok(EncodedStyle::from_stats(stats))
}

/// Encodes style images for one model, through an optional [`StyleCache`], and remembers
/// what it encoded so that a style used several times (in one batch) is encoded once.
pub struct StyleEncoder<'m> {
    model: &'m Model,
    cache: Option<StyleCache>,
    memo: HashMap<(PathBuf, Option<usize>), EncodedStyle>,
    /// Styles encoded with stroke scales or feature maps (never cached on disk).
    special: HashMap<(PathBuf, Option<usize>, String), EncodedStyle>,
    reports: Vec<CacheReport>,
    encodings: usize,
    progress: Option<Box<dyn crate::Progress + 'm>>,
    tile: usize,
}

impl std::fmt::Debug for StyleEncoder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StyleEncoder")
            .field("cache", &self.cache)
            .field("memo", &self.memo.keys().collect::<Vec<_>>())
            .field("reports", &self.reports)
            .field("encodings", &self.encodings)
            .field("tile", &self.tile)
            .finish_non_exhaustive()
    }
}

impl<'m> StyleEncoder<'m> {
    /// An encoder for `model`; `cache: None` encodes every style (once per encoder).
    pub fn new(model: &'m Model, cache: Option<StyleCache>) -> Self {
        Self {
            model,
            cache,
            memo: HashMap::new(),
            special: HashMap::new(),
            reports: Vec::new(),
            encodings: 0,
            progress: None,
            tile: crate::pipeline::tiling::DEFAULT_TILE,
        }
    }

    /// Largest tile edge a style is encoded in (default [`crate::pipeline::tiling::DEFAULT_TILE`]).
    pub fn set_tile_size(&mut self, pixels: usize) {
        self.tile = pixels;
    }

    /// Where each style encoding reports its progress (per tile, 0..1 for each style); a
    /// cancel stops the encoding with [`Error::Cancelled`].
    pub fn set_progress(&mut self, progress: Box<dyn crate::Progress + 'm>) {
        self.progress = Some(progress);
    }

    /// The model the styles are encoded with.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// The cache in use, if any.
    pub fn cache(&self) -> Option<&StyleCache> {
        self.cache.as_ref()
    }

    /// What each call of [`StyleEncoder::encode`] did, in order.
    pub fn reports(&self) -> &[CacheReport] {
        &self.reports
    }

    /// Drains the reports gathered so far.
    pub fn take_reports(&mut self) -> Vec<CacheReport> {
        std::mem::take(&mut self.reports)
    }

    /// How many times the encoder network actually ran.
    pub fn encodings(&self) -> usize {
        self.encodings
    }

    /// The statistics of the style image at `image`, scaled to at most `style_size`, for
    /// (at least) `levels`.
    pub fn encode(&mut self, image: &Path, style_size: Option<usize>, levels: &[usize]) -> Result<EncodedStyle> {
        for &l in levels {
            self.model.check_level(l)?;
        }
        let memo_key = (image.canonicalize().unwrap_or_else(|_| image.to_path_buf()), style_size);
        if let Some(s) = self.memo.get(&memo_key).filter(|s| levels.iter().all(|&l| s.stats(l).is_some())) {
            let s = s.clone();
            self.reports.push(CacheReport {
                image: image.to_path_buf(),
                entry: None,
                outcome: CacheOutcome::Reused,
                store_error: None,
            });
            return Ok(s);
        }
        let (style, report) = match &self.cache {
            None => {
                let s = self.run_encoder(image, style_size, levels, &StyleEncoding::default())?;
                let r = CacheReport {
                    image: image.to_path_buf(),
                    entry: None,
                    outcome: CacheOutcome::Encoded,
                    store_error: None,
                };
                (s, r)
            }
            Some(cache) => {
                let cache = cache.clone();
                let key = StyleKey::new(self.model, image, style_size)?;
                let entry = cache.entry_path(&key);
                let lookup = cache.lookup(&key, levels);
                if let Lookup::Hit(s) = lookup {
                    let r = CacheReport {
                        image: image.to_path_buf(),
                        entry: Some(entry),
                        outcome: CacheOutcome::Hit,
                        store_error: None,
                    };
                    (s, r)
                } else {
                    // Encode every level the model has (one pass costs the same as for the top
                    // level asked for), so that later runs with other levels hit too.
                    let mut all = self.model.levels();
                    all.extend_from_slice(levels);
                    all.sort_unstable();
                    all.dedup();
                    let s = self.run_encoder(image, style_size, &all, &StyleEncoding::default())?;
                    let store_error = cache.store(&key, &s).err().map(|e| e.to_string());
                    let outcome = match lookup {
                        Lookup::Invalid(why) => CacheOutcome::Rebuilt(why),
                        _ => CacheOutcome::Miss,
                    };
                    (s, CacheReport { image: image.to_path_buf(), entry: Some(entry), outcome, store_error })
                }
            }
        };
        self.memo.insert(memo_key, style.clone());
        self.reports.push(report);
        Ok(style)
    }

    /// As [`StyleEncoder::encode`], with stroke scales and kept feature maps. A plain
    /// encoding goes through the cache; any other is encoded afresh (the cache holds
    /// statistics at native scale only) and remembered for this encoder's lifetime.
    pub fn encode_with(
        &mut self,
        image: &Path,
        style_size: Option<usize>,
        levels: &[usize],
        encoding: &StyleEncoding,
    ) -> Result<EncodedStyle> {
        if encoding.is_plain() {
            return self.encode(image, style_size, levels);
        }
        for &l in levels {
            self.model.check_level(l)?;
        }
        let path = image.canonicalize().unwrap_or_else(|_| image.to_path_buf());
        let key = (path, style_size, format!("{encoding:?}"));
        if let Some(s) = self.special.get(&key).filter(|s| levels.iter().all(|&l| s.stats(l).is_some())) {
            let s = s.clone();
            self.reports.push(CacheReport {
                image: image.to_path_buf(),
                entry: None,
                outcome: CacheOutcome::Reused,
                store_error: None,
            });
            return Ok(s);
        }
        let style = self.run_encoder(image, style_size, levels, encoding)?;
        self.special.insert(key, style.clone());
        self.reports.push(CacheReport {
            image: image.to_path_buf(),
            entry: None,
            outcome: CacheOutcome::Encoded,
            store_error: None,
        });
        Ok(style)
    }

    /// Encodes a style picture held in memory with `encoding` (no cache), in this encoder's
    /// tiles, reporting on `progress`.
    pub fn encode_picture(
        &mut self,
        picture: &Picture,
        levels: &[usize],
        encoding: &StyleEncoding,
        progress: &mut dyn crate::Progress,
    ) -> Result<EncodedStyle> {
        self.encodings += 1;
        EncodedStyle::encode_tiled_with(self.model, picture, levels, encoding, self.tile, progress)
    }

    fn run_encoder(
        &mut self,
        image: &Path,
        style_size: Option<usize>,
        levels: &[usize],
        encoding: &StyleEncoding,
    ) -> Result<EncodedStyle> {
        let picture = image_io::load_picture(image, "style image")?;
        let picture = match style_size {
            Some(m) => picture.fit_within(m),
            None => picture,
        };
        self.encodings += 1;
        let mut silent = crate::Silent;
        let progress: &mut dyn crate::Progress = match self.progress.as_deref_mut() {
            Some(p) => p,
            None => &mut silent,
        };
        EncodedStyle::encode_tiled_with(self.model, &picture, levels, encoding, self.tile, progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StyleKey {
        StyleKey { image_hash: "a".repeat(64), model_hash: "b".repeat(64), style_size: Some(256) }
    }

    fn style() -> EncodedStyle {
        let mut m = BTreeMap::new();
        let c = CHANNELS[1];
        m.insert(
            1,
            Stats {
                count: 10,
                mean: (0..c).map(|i| i as f64 * 0.5).collect(),
                eigenvalues: vec![3.0, 1.0],
                eigenvectors: (0..2 * c).map(|i| (i as f64).sin()).collect(),
            },
        );
        m.insert(2, Stats { count: 1, mean: vec![0.25; CHANNELS[2]], eigenvalues: vec![], eigenvectors: vec![] });
        EncodedStyle::from_stats(m)
    }

    #[test]
    fn entry_round_trips_exactly() {
        let bytes = encode_entry(&key(), &style()).unwrap();
        assert_eq!(decode_entry(&bytes, &key()).unwrap(), style());
    }

    #[test]
    fn damaged_or_stale_entries_are_refused() {
        let bytes = encode_entry(&key(), &style()).unwrap();
        let cut = &bytes[..bytes.len() - 9];
        assert!(decode_entry(cut, &key()).unwrap_err().starts_with("corrupt"));
        let mut flipped = bytes.clone();
        let n = flipped.len();
        flipped[n - 20] ^= 0x10;
        assert!(decode_entry(&flipped, &key()).unwrap_err().contains("checksum"));
        let other = StyleKey { style_size: Some(512), ..key() };
        assert!(decode_entry(&bytes, &other).unwrap_err().contains("style size"));
        let other = StyleKey { model_hash: "c".repeat(64), ..key() };
        assert!(decode_entry(&bytes, &other).unwrap_err().contains("model"));
        assert!(decode_entry(b"", &key()).unwrap_err().starts_with("corrupt"));
    }

    #[test]
    fn file_name_depends_on_every_key_field() {
        let k = key();
        let names = [
            k.file_name(),
            StyleKey { style_size: None, ..k.clone() }.file_name(),
            StyleKey { model_hash: "c".repeat(64), ..k.clone() }.file_name(),
            StyleKey { image_hash: "d".repeat(64), ..k.clone() }.file_name(),
        ];
        for i in 0..names.len() {
            for j in i + 1..names.len() {
                assert_ne!(names[i], names[j]);
            }
        }
    }
}
