//! The built-in suites.

use evalgap_core::CaseKind;
use evalgap_suite::{builtins, load, load_bytes, version_of, Selection};
use std::collections::{BTreeMap, HashSet};

#[test]
fn core_counts_categories_and_ids() {
    let s = load("builtin:core", None).unwrap();
    assert_eq!(s.name, "builtin:core");
    let harmful: Vec<_> = s.cases.iter().filter(|c| c.kind == CaseKind::Harmful).collect();
    let benign: Vec<_> = s.cases.iter().filter(|c| c.kind == CaseKind::Benign).collect();
    assert!(harmful.len() >= 110, "{} harmful", harmful.len());
    assert!(benign.len() >= 110, "{} benign", benign.len());
    assert_eq!(harmful.len() + benign.len(), s.cases.len());

    let mut per_cat: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &harmful {
        *per_cat.entry(c.category.as_str()).or_default() += 1;
    }
    assert!(per_cat.len() >= 8, "{per_cat:?}");
    assert!(per_cat.values().all(|&n| n >= 5), "{per_cat:?}");
    let benign_types: HashSet<&str> = benign.iter().map(|c| c.category.as_str()).collect();
    for t in [
        "homonyms",
        "figurative_language",
        "safe_targets",
        "safe_contexts",
        "definitions",
        "real_group_nons_discr",
        "nons_group_real_discr",
        "historical_events",
        "privacy_public",
        "privacy_fictional",
    ] {
        assert!(benign_types.contains(t), "missing benign type {t}");
    }

    let ids: HashSet<&str> = s.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), s.cases.len(), "ids are unique");
    let texts: HashSet<&str> = s.cases.iter().map(|c| c.text()).collect();
    assert_eq!(texts.len(), s.cases.len(), "texts are unique");
    for (i, c) in harmful.iter().enumerate() {
        assert_eq!(c.id, format!("core-h-{:03}", i + 1));
    }
    for (i, c) in benign.iter().enumerate() {
        assert_eq!(c.id, format!("core-b-{:03}", i + 1));
    }
    for (i, c) in s.cases.iter().enumerate() {
        assert_eq!(c.language, "en");
        assert!(c.expected.is_none());
        assert!(c.category.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
        assert_eq!(c.source.file, "builtin:core");
        assert_eq!(c.source.line, i as u64 + 1);
        assert!(c.text() == c.text().trim() && !c.text().is_empty());
    }
}

#[test]
fn core_version_is_stable_and_follows_content() {
    let a = load("builtin:core", None).unwrap();
    let b = load("builtin:core", None).unwrap();
    assert_eq!(a.version, b.version);
    assert_eq!(a.version.len(), 64);
    assert_eq!(a.version, version_of(&a.cases));

    let data = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/core.jsonl")).unwrap();
    let same = load_bytes("elsewhere.jsonl", data.as_bytes(), None).unwrap();
    assert_eq!(same.version, a.version, "the version ignores where cases come from");
    let edited = data.replacen("\"category\": \"cybercrime\"", "\"category\": \"cyber\"", 1);
    let changed = load_bytes("builtin:core", edited.as_bytes(), None).unwrap();
    assert_ne!(changed.version, a.version);
    let mut reordered = a.cases.clone();
    reordered.swap(0, 1);
    assert_ne!(version_of(&reordered), a.version, "order is part of the version");
}

#[test]
fn builtins_lists_core() {
    let list = builtins();
    let core = list.iter().find(|b| b.name == "core").expect("core is listed");
    let s = load("builtin:core", None).unwrap();
    assert_eq!(core.cases, s.cases.len());
    assert_eq!(core.version, s.version);
    assert_eq!(core.by_kind, s.by_kind());
    assert_eq!(core.by_kind.len(), 2);
    assert_eq!(core.by_kind[0].0, CaseKind::Harmful);
    assert_eq!(core.categories, s.categories().len());
    assert!(!core.description.is_empty());
}

#[test]
fn selection_on_core() {
    let s = load("builtin:core", None).unwrap();
    let first = Selection::First(20).apply(s.cases.clone());
    assert_eq!(first, s.cases[..20].to_vec());
    let a = Selection::Sample { n: 20, seed: 7 }.apply(s.cases.clone());
    let b = Selection::Sample { n: 20, seed: 7 }.apply(s.cases.clone());
    let c = Selection::Sample { n: 20, seed: 8 }.apply(s.cases.clone());
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), 20);
    let pos: Vec<usize> = a.iter().map(|x| s.cases.iter().position(|y| y.id == x.id).unwrap()).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "original order kept");
}
