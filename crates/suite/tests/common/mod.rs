//! Fixture files for the reader tests, written under cargo's per-target temporary folder.

#![allow(dead_code)]

use std::path::PathBuf;

/// Writes `bytes` to a fresh file `name` in a folder for `group`, returns its path as a string.
pub fn fixture(group: &str, name: &str, bytes: &[u8]) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("suite-fixtures").join(group);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}
