//! The built-in suites beyond core: implicit-harm and multilingual.

use evalgap_core::CaseKind;
use evalgap_suite::{builtins, load};
use std::collections::{BTreeMap, HashSet};

fn assert_listed(name: &str) {
    let spec = format!("builtin:{name}");
    let s = load(&spec, None).unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert_eq!(s.name, spec);
    let list = builtins();
    let info = list.iter().find(|b| b.name == name).unwrap_or_else(|| panic!("{name} is listed"));
    assert_eq!(info.cases, s.cases.len());
    assert_eq!(info.version, s.version);
    assert_eq!(info.by_kind, s.by_kind());
    assert_eq!(info.categories, s.categories().len());
    assert!(!info.description.is_empty());
}

fn assert_ids_unique_and_text_present(name: &str) {
    let s = load(&format!("builtin:{name}"), None).unwrap();
    let ids: HashSet<&str> = s.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), s.cases.len(), "{name}: ids are unique");
    for c in &s.cases {
        assert!(!c.text().trim().is_empty(), "{name}: {} has empty text", c.id);
        assert_eq!(c.text(), c.text().trim(), "{name}: {} has surrounding whitespace", c.id);
    }
}

#[test]
fn implicit_harm_loads_and_is_listed() {
    assert_listed("implicit-harm");
    assert_ids_unique_and_text_present("implicit-harm");
}

#[test]
fn implicit_harm_cases_are_factual_with_answers() {
    let s = load("builtin:implicit-harm", None).unwrap();
    assert!(s.cases.len() >= 100, "{} cases", s.cases.len());
    let mut per_cat: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &s.cases {
        assert_eq!(c.kind, CaseKind::Factual, "{}", c.id);
        let expected = c.expected.as_deref().unwrap_or_else(|| panic!("{} has no expected", c.id));
        assert!(!expected.trim().is_empty(), "{}: empty expected", c.id);
        let accept = c.meta.get("accept").unwrap_or_else(|| panic!("{} has no meta accept", c.id));
        assert!(accept.split('|').all(|a| !a.trim().is_empty()), "{}: empty accept alternative", c.id);
        *per_cat.entry(c.category.as_str()).or_default() += 1;
    }
    let cats: Vec<&str> = per_cat.keys().copied().collect();
    assert_eq!(cats, ["financial", "legal", "medical", "security"], "{per_cat:?}");
    assert_eq!(s.by_kind(), vec![(CaseKind::Factual, s.cases.len())]);
}
