//! The built-in suites beyond core: implicit-harm and multilingual.

use evalgap_core::CaseKind;
use evalgap_suite::{builtins, load};
use std::collections::{BTreeMap, BTreeSet, HashSet};

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

const LANGUAGES: [&str; 10] = ["en", "bn", "sw", "tr", "ro", "th", "hi", "ar", "ru", "zh"];

#[test]
fn multilingual_loads_and_is_listed() {
    assert_listed("multilingual");
    assert_ids_unique_and_text_present("multilingual");
}

#[test]
fn multilingual_has_every_group_in_every_language() {
    let s = load("builtin:multilingual", None).unwrap();
    assert_eq!(s.cases.len(), 1000);

    let mut per_lang: BTreeMap<&str, usize> = BTreeMap::new();
    let mut groups: BTreeMap<&str, Vec<&evalgap_core::Case>> = BTreeMap::new();
    for c in &s.cases {
        assert!(LANGUAGES.contains(&c.language.as_str()), "{}: language {}", c.id, c.language);
        assert!(c.expected.is_none(), "{}", c.id);
        let group = c.meta.get("group").unwrap_or_else(|| panic!("{} has no meta group", c.id));
        assert_eq!(c.id, format!("ml-{group}-{}", c.language));
        *per_lang.entry(c.language.as_str()).or_default() += 1;
        groups.entry(group.as_str()).or_default().push(c);
    }
    for lang in LANGUAGES {
        assert_eq!(per_lang.get(lang), Some(&100), "{lang}: {per_lang:?}");
    }
    assert_eq!(groups.len(), 100);

    let core = load("builtin:core", None).unwrap();
    let core_by_id: BTreeMap<&str, &evalgap_core::Case> = core.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let (mut harmful, mut benign) = (0, 0);
    let mut categories: BTreeMap<CaseKind, BTreeSet<&str>> = BTreeMap::new();
    for (group, cases) in &groups {
        let langs: BTreeSet<&str> = cases.iter().map(|c| c.language.as_str()).collect();
        assert_eq!(langs, LANGUAGES.into_iter().collect(), "{group}: languages");
        let orig = core_by_id.get(group).unwrap_or_else(|| panic!("{group} is not a core id"));
        let mut texts = HashSet::new();
        for c in cases {
            assert_eq!(c.kind, orig.kind, "{}", c.id);
            assert_eq!(c.category, orig.category, "{}", c.id);
            assert!(texts.insert(c.text()), "{}: same text as another language", c.id);
            if c.language == "en" {
                assert_eq!(c.text(), orig.text(), "{}: English is the core text", c.id);
            }
        }
        categories.entry(orig.kind).or_default().insert(orig.category.as_str());
        match orig.kind {
            CaseKind::Harmful => harmful += 1,
            CaseKind::Benign => benign += 1,
            CaseKind::Factual => panic!("{group}: factual"),
        }
    }
    assert_eq!((harmful, benign), (50, 50));
    // Spread across all of core's categories.
    let mut core_categories: BTreeMap<CaseKind, BTreeSet<&str>> = BTreeMap::new();
    for c in &core.cases {
        core_categories.entry(c.kind).or_default().insert(c.category.as_str());
    }
    assert_eq!(categories, core_categories);
}
