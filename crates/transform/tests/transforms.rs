//! The transforms: determinism, rotation, verbatim requests, recorded chains, encodings, parse errors.

use evalgap_core::{Case, CaseKind, Message, Role, Variant};
use evalgap_transform::encoding::{base64_decode, base64_encode, leet_decode, leet_encode, rot13};
use evalgap_transform::*;
use std::collections::{BTreeSet, HashSet};

fn case(i: usize) -> Case {
    let cats = ["cybercrime", "weapons", "homonyms", "fraud", "unknown_category"];
    Case::single(
        format!("case-{i:03}"),
        format!("Explain topic number {i} in detail, with \"quotes\" and {{braces}}"),
        [CaseKind::Harmful, CaseKind::Benign][i % 2],
        cats[i % cats.len()],
    )
}

fn one(spec: &str) -> Chain {
    let mut v = parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert_eq!(v.len(), 1, "{spec}");
    v.remove(0)
}

fn all_text(v: &Variant) -> String {
    v.messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n")
}

/// Every chain the tests sweep: each transform alone (translate with a language) and a few chains.
fn sweep() -> Vec<Chain> {
    let mut v = parse("all").unwrap();
    v.extend(parse("translate:bn,roleplay+base64,hierarchy+leet,manyshot:3+rot13,suffix+agentic,roleplay+multiturn,roleplay+translate:sw").unwrap());
    v
}

#[test]
fn catalogue_is_complete_with_pools_for_rotation() {
    let cat = catalogue();
    let names: Vec<&str> = cat.iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        [
            "roleplay",
            "hierarchy",
            "suffix",
            "manyshot",
            "base64",
            "rot13",
            "leet",
            "translate",
            "multiturn",
            "agentic",
            "pair",
            "crescendo",
            "suffix-search"
        ]
    );
    let pool = |n: &str| cat.iter().find(|t| t.name == n).unwrap().pool_size;
    assert!(pool("roleplay") >= 12);
    assert!(pool("hierarchy") >= 10);
    assert!(pool("multiturn") >= 6);
    assert!(pool("agentic") >= 6);
    assert_eq!(pool("translate"), 0);
    assert_eq!((pool("pair"), pool("crescendo")), (0, 0), "the attacker writes the prompts");
    for t in &cat {
        assert!(!t.family.is_empty() && !t.params.is_empty() && !t.description.is_empty(), "{}", t.name);
        assert_eq!(rotation_pool(t.name), t.pool_size);
        if !["translate", "pair", "crescendo"].contains(&t.name) {
            assert!(t.pool_size > SHARES, "{}: a pool has more templates than one cycle uses", t.name);
        }
    }
    assert_eq!(rotation_pool("nope"), 0);
}

#[test]
fn all_expands_to_the_template_transforms_alone() {
    let all = parse("all").unwrap();
    // Not in `all`: translate (needs a language and a translator) and the adaptive steps (they
    // query the target many times per trial).
    let expected: Vec<Chain> = catalogue()
        .iter()
        .filter(|t| !["translate", "pair", "crescendo", "suffix-search"].contains(&t.name))
        .map(|t| Chain { steps: vec![Step { name: t.name.to_string(), arg: None }] })
        .collect();
    assert_eq!(all, expected);
    // Lists, `plain`, duplicates dropped, and Display parses back.
    let v = parse(" plain , roleplay,all, roleplay+base64:encoded ,translate:pt-BR").unwrap();
    assert_eq!(v[0], Chain::plain());
    assert_eq!(v[1], one("roleplay"));
    assert_eq!(v.len(), 2 + expected.len() - 1 + 2);
    for c in &v {
        assert_eq!(&one(&c.to_string()), c);
    }
    assert_eq!(one("roleplay+base64:encoded").to_string(), "roleplay+base64:encoded");
}

#[test]
fn examples_for_every_transform() {
    for t in catalogue() {
        let v = example(t.name).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(v.chain[0].name, t.name);
        assert_eq!(v.case_id, "example");
        let text = all_text(&v);
        let found = [
            EXAMPLE_REQUEST.to_string(),
            base64_encode(EXAMPLE_REQUEST),
            rot13(EXAMPLE_REQUEST),
            leet_encode(EXAMPLE_REQUEST),
        ]
        .iter()
        .any(|r| text.contains(r.as_str()));
        assert!(found, "{}: {text}", t.name);
    }
    assert_eq!(example("translate").unwrap().chain[0].params["lang"], "fr");
    assert!(example("roleplay+base64").is_ok());
    assert!(matches!(example("bogus"), Err(TransformError::UnknownTransform { .. })));
}

#[test]
fn deterministic_in_chain_case_seed_cycle() {
    for chain in sweep() {
        for i in 0..10 {
            let c = case(i);
            let a = apply(&chain, &c, 42, 1).unwrap();
            let b = apply(&chain, &c, 42, 1).unwrap();
            assert_eq!(a, b, "{chain}");
            assert_eq!(a.case_id, c.id);
            assert_eq!(a.kind, c.kind);
        }
    }
}

#[test]
fn request_appears_verbatim_or_exactly_encoded() {
    for chain in sweep() {
        for i in 0..20 {
            let c = case(i);
            let v = apply(&chain, &c, 7, i as u32 % 4).unwrap();
            let text = all_text(&v);
            let names: Vec<&str> = chain.steps.iter().map(|s| s.name.as_str()).collect();
            let encoded_in = |enc: fn(&str) -> String| {
                // The encoding step encodes everything built before it; check the plain request was
                // inside what got encoded by decoding every user message.
                v.messages.iter().any(|m| m.content.contains(&enc(c.text())))
            };
            if names.contains(&"base64") {
                let decoded: Vec<String> = v
                    .messages
                    .iter()
                    .flat_map(|m| {
                        m.content.split(|ch: char| ch.is_whitespace()).map(str::to_string).collect::<Vec<_>>()
                    })
                    .filter_map(|tok| base64_decode(&tok))
                    .collect();
                assert!(decoded.iter().any(|d| d.contains(c.text())), "{chain}: {text}");
            } else if names.contains(&"rot13") {
                assert!(text.contains(&rot13(c.text())) || rot13(&text).contains(c.text()), "{chain}");
            } else if names.contains(&"leet") {
                assert!(encoded_in(leet_encode), "{chain}: {text}");
            } else {
                assert!(text.contains(c.text()), "{chain}: {text}");
            }
        }
    }
}

#[test]
fn chain_is_recorded_with_arguments_and_template_index() {
    for chain in sweep() {
        let c = case(3);
        let (seed, cycle) = (11, 2);
        let v = apply(&chain, &c, seed, cycle).unwrap();
        let names: Vec<&str> = v.chain.iter().map(|s| s.name.as_str()).collect();
        let want: Vec<&str> = chain.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, want);
        for step in &v.chain {
            if rotation_pool(&step.name) > 0 {
                assert_eq!(
                    step.params["template"].as_u64().unwrap() as usize,
                    template_index(&step.name, &c.id, seed, cycle),
                    "{}",
                    step.name
                );
            }
        }
        assert_eq!(v.chain_name(), want.join("+"));
    }
    let v = apply(&one("manyshot"), &case(0), 1, 0).unwrap();
    assert_eq!(v.chain[0].params["n"], 8);
    let v = apply(&one("base64:encoded"), &case(0), 1, 0).unwrap();
    assert_eq!(v.chain[0].params["answer"], "encoded");
    assert!(v.messages[0].content.contains("Write your answer in base64 as well."));
    let plain = apply(&Chain::plain(), &case(0), 1, 0).unwrap();
    assert_eq!(plain, Variant::plain(&case(0)));
}

#[test]
fn seeds_and_cycles_pick_different_templates() {
    for name in ["roleplay", "hierarchy", "manyshot", "base64", "multiturn", "agentic", "suffix"] {
        let chain = one(name);
        let pick = |seed: u64, cycle: u32| -> Vec<u64> {
            (0..60)
                .map(|i| apply(&chain, &case(i), seed, cycle).unwrap().chain[0].params["template"].as_u64().unwrap())
                .collect()
        };
        let a = pick(1, 0);
        assert!(a.iter().collect::<HashSet<_>>().len() > 1, "{name}: one seed spreads over cases");
        assert_ne!(a, pick(2, 0), "{name}: another seed");
        let sets: Vec<BTreeSet<u64>> = (0..SHARES as u32).map(|cy| pick(1, cy).into_iter().collect()).collect();
        for x in 0..sets.len() {
            for y in x + 1..sets.len() {
                assert!(sets[x].is_disjoint(&sets[y]), "{name}: cycles {x} and {y} share templates");
            }
        }
        let variants: HashSet<String> =
            (0..SHARES as u32).map(|cy| apply(&chain, &case(5), 1, cy).unwrap().id).collect();
        assert_eq!(variants.len(), SHARES, "{name}: new cycles give new variants");
    }
}

#[test]
fn transforms_touch_only_the_last_user_turn() {
    let mut c = case(1);
    c.turns = vec![
        Message::system("Be brief."),
        Message::user("Earlier question?"),
        Message::assistant("Earlier answer."),
        Message::user("Final request here"),
    ];
    let v = apply(&one("roleplay"), &c, 0, 0).unwrap();
    assert_eq!(v.messages[..3], c.turns[..3]);
    assert!(v.messages[3].content.contains("Final request here"));
    let v = apply(&one("manyshot:2"), &c, 0, 0).unwrap();
    assert_eq!(v.messages[..3], c.turns[..3]);
    assert_eq!(v.messages.len(), 3 + 4 + 1);
    let mut none = case(1);
    none.turns = vec![Message::system("only a system message")];
    assert!(matches!(apply(&one("roleplay"), &none, 0, 0), Err(TransformError::NoRequest { .. })));
}

#[test]
fn manyshot_shots_are_turns_with_placeholders() {
    for n in [1, 8, 50, 256] {
        let c = case(1);
        let v = apply(&one(&format!("manyshot:{n}")), &c, 3, 0).unwrap();
        assert_eq!(v.messages.len(), 2 * n + 1);
        for (i, m) in v.messages.iter().enumerate() {
            if i == 2 * n {
                assert_eq!(m.role, Role::User);
                assert!(m.content.ends_with(c.text()));
            } else if i % 2 == 0 {
                assert_eq!(m.role, Role::User);
                assert!(!m.content.contains(c.text()));
            } else {
                assert_eq!(m.role, Role::Assistant);
                assert!(m.content.contains(MANYSHOT_PLACEHOLDER), "{}", m.content);
            }
        }
    }
}

#[test]
fn multiturn_decomposes_with_placeholders() {
    for i in 0..30 {
        let c = case(i);
        let v = apply(&one("multiturn"), &c, 9, i as u32).unwrap();
        let users: Vec<&Message> = v.messages.iter().filter(|m| m.role == Role::User).collect();
        assert!((3..=4).contains(&users.len()), "{}", users.len());
        assert_eq!(users.iter().filter(|m| m.content.contains(c.text())).count(), 1);
        for w in v.messages.windows(2) {
            assert_ne!(w[0].role, w[1].role, "turns alternate");
        }
        assert!(v.messages.iter().filter(|m| m.role == Role::Assistant).all(|m| m.content == MULTITURN_PLACEHOLDER));
        assert_eq!(v.messages.last().unwrap().role, Role::User);
    }
}

#[test]
fn agentic_variants_carry_a_valid_tools_array() {
    for i in 0..10 {
        let v = apply(&one("agentic"), &case(i), 1, 0).unwrap();
        assert_eq!(v.messages[0].role, Role::System);
        let tools = v.tools.as_ref().expect("tools").as_array().expect("array");
        let names: Vec<&str> = tools.iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["shell", "send_email", "browse", "write_file"]);
        for t in tools {
            assert_eq!(t["type"], "function");
            let params = &t["function"]["parameters"];
            assert_eq!(params["type"], "object");
            assert!(t["function"]["description"].as_str().is_some_and(|d| !d.is_empty()));
            for r in params["required"].as_array().unwrap() {
                assert!(params["properties"].get(r.as_str().unwrap()).is_some(), "{r} is a property");
            }
        }
        // Round-trips as JSON text, as it is sent.
        let text = serde_json::to_string(&v.tools).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), **v.tools.as_ref().unwrap());
    }
    assert!(apply(&one("roleplay"), &case(0), 1, 0).unwrap().tools.is_none());
}

#[test]
fn hierarchy_sometimes_prepends_a_system_message() {
    let prepended = (0..60)
        .filter(|&i| {
            let v = apply(&one("hierarchy"), &case(i), 4, i as u32 % 3).unwrap();
            let p = v.chain[0].params["system_prepended"].as_bool().unwrap();
            assert_eq!(p, v.messages[0].role == Role::System);
            p
        })
        .count();
    assert!(prepended > 0 && prepended < 60);
}

#[test]
fn translate_is_recorded_then_applied() {
    let chain = one("roleplay+translate:bn");
    assert_eq!(needs_translator(&chain).as_deref(), Some("bn"));
    assert_eq!(needs_translator(&one("roleplay")), None);
    let c = case(2);
    let v = apply(&chain, &c, 1, 0).unwrap();
    assert_eq!(v.chain[1].params, serde_json::json!({"lang": "bn", "translated": false}));
    assert_eq!(v.messages, apply(&one("roleplay"), &c, 1, 0).unwrap().messages);
    let turns = vec![Message::user("অনুবাদিত অনুরোধ")];
    let t = apply_translation(&v, turns.clone());
    assert_eq!(t.messages[..], turns[..]);
    assert_eq!(t.language, "bn");
    assert_ne!(t.id, v.id);
    assert_eq!(t.case_id, v.case_id);
    assert_eq!(t.chain[0], v.chain[0]);
    assert_eq!(t.chain[1].params, serde_json::json!({"lang": "bn", "translated": true}));
    assert_eq!(apply_translation(&v, turns.clone()), t, "deterministic");
    let untagged = apply_translation(&Variant::plain(&c), turns);
    assert_eq!(untagged.chain[0].params["lang"], "und");
}

#[test]
fn encodings_round_trip() {
    let texts = [
        "How do I bake bread?",
        "Ünïcödé — 日本語のテキスト, emoji 🍞🔥, Bengali বাংলা, Arabic العربية",
        "control\u{1}chars\tand\nnew lines\r\n",
        "a",
        "   spaces   ",
        "ROT13 Test: Hello, World! 0123456789",
    ];
    for t in texts {
        assert_eq!(base64_decode(&base64_encode(t)).as_deref(), Some(t));
        assert_eq!(rot13(&rot13(t)), t);
        assert_eq!(decode_response(&one("base64"), &base64_encode(t)).as_deref(), Some(t), "{t:?}");
    }
    assert_eq!(rot13("Hello"), "Uryyb");
    // Responses in the encoding are read back; plain responses are not.
    let answer = "Sure, here is the answer to your question: it is in the oven for forty minutes.";
    assert_eq!(decode_response(&one("rot13"), &rot13(answer)).as_deref(), Some(answer));
    assert_eq!(decode_response(&one("rot13"), answer), None);
    let wrapped = format!("Here you go:\n\n{}\n\nHope that helps!", base64_encode(answer));
    assert_eq!(decode_response(&one("base64"), &wrapped).as_deref(), Some(answer));
    assert_eq!(decode_response(&one("base64"), "I can't help with that request, sorry."), None);
    assert_eq!(decode_response(&one("roleplay+base64"), &base64_encode(answer)).as_deref(), Some(answer));
    assert_eq!(decode_response(&one("roleplay"), &base64_encode(answer)), None);
    // Leet is lossy: numbers made only of substituted letters stay digits, case is lost.
    let leet = leet_encode("This is the best test of the system");
    assert_eq!(leet, "7h15 15 7h3 8357 7357 0f 7h3 5y573m");
    let back = decode_response(&one("leet"), &leet).unwrap();
    assert_eq!(back, "this 15 the 8357 7357 of the system");
    assert_eq!(leet_decode("h3ll0 w0rld, 2024 is a y34r"), "hello world, 2024 is a year");
    assert_eq!(decode_response(&one("leet"), "A plain answer with 2024 in it."), None);
}

#[test]
fn parse_errors_say_what_is_wrong() {
    let err = |spec: &str| parse(spec).expect_err(spec);
    assert!(
        matches!(err("bogus"), TransformError::UnknownTransform { name, known } if name == "bogus" && known.contains("roleplay"))
    );
    assert!(matches!(err("roleplay+bogus:1"), TransformError::UnknownTransform { .. }));
    let chain = |spec: &str, needle: &str| match err(spec) {
        TransformError::BadChain { why, .. } => assert!(why.contains(needle), "{spec}: {why}"),
        other => panic!("{spec}: {other:?}"),
    };
    chain("base64+base64", "appears twice");
    chain("roleplay+roleplay", "appears twice");
    chain("base64+rot13", "two encodings");
    chain("agentic+roleplay", "must be the last step");
    chain("multiturn+base64", "must be the last step");
    chain("translate:bn+roleplay", "must be the last step");
    chain("multiturn+agentic", "must be the last step");
    chain("rot13+translate:bn", "break the encoding");
    chain("all+base64", "stands alone");
    chain("roleplay+plain", "stands alone");
    chain("", "empty");
    chain("roleplay,,base64", "empty item");
    chain("roleplay+", "empty step");
    let param = |spec: &str, needle: &str| match err(spec) {
        TransformError::BadParam { why, transform, .. } => {
            assert!(why.contains(needle), "{spec}: {why}");
            assert!(spec.contains(&transform), "{spec}: {transform}");
        }
        other => panic!("{spec}: {other:?}"),
    };
    param("translate", "needs");
    param("translate:", "needs");
    param("translate:Bengali", "not a language code");
    param("translate:b", "not a language code");
    param("manyshot:0", "out of range");
    param("manyshot:257", "out of range");
    param("manyshot:-1", "not a whole number");
    param("manyshot:eight", "not a whole number");
    param("manyshot:", "empty argument");
    param("roleplay:novelist", "takes no argument");
    param("agentic:x", "not a number of agent steps");
    param("agentic:9", "from 1 to 8");
    param("pair:0", "not a budget");
    param("suffix-search:1000", "from 1 to 200");
    chain("base64+pair", "would undo the encoding");
    chain("pair+roleplay", "must be the last step");
    chain("crescendo+agentic", "must be the last step");
    param("base64:loud", "not an answer mode");
    assert!(parse("manyshot:256").is_ok() && parse("manyshot:1").is_ok());
    assert!(parse("translate:zh-Hans+").is_err());
    // apply validates chains built by hand, too.
    let bad =
        Chain { steps: vec![Step { name: "agentic".into(), arg: None }, Step { name: "leet".into(), arg: None }] };
    assert!(matches!(apply(&bad, &case(0), 0, 0), Err(TransformError::BadChain { .. })));
    let msg = err("manyshot:0").to_string();
    assert!(msg.starts_with("transform `manyshot`, parameter `N`"), "{msg}");
}

#[test]
fn suffix_files_and_mutation() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("transform-suffix");
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("suffixes.txt");
    std::fs::write(&good, "# comment\n\nalpha beta !!\r\n  gamma ]] delta  \n# another\nepsilon zeta\nsuffix four\n")
        .unwrap();
    let spec = format!("suffix:{}", good.display());
    let chain = one(&spec);
    let list = load_suffix_file(good.to_str().unwrap()).unwrap();
    assert_eq!(*list, ["alpha beta !!", "gamma ]] delta", "epsilon zeta", "suffix four"]);
    let mut seen = HashSet::new();
    for i in 0..40 {
        let c = case(i);
        let v = apply(&chain, &c, 5, i as u32 % 3).unwrap();
        let p = &v.chain[0].params;
        let t = p["template"].as_u64().unwrap() as usize;
        assert_eq!(p["suffix"], list[t]);
        assert_eq!(p["file"], good.to_str().unwrap());
        assert_eq!(v.messages[0].content, format!("{} {}", c.text(), list[t]));
        seen.insert(t);
    }
    assert!(seen.len() > 2);
    let builtin = apply(&one("suffix"), &case(0), 5, 0).unwrap();
    assert!(BUILTIN_SUFFIXES.contains(&builtin.chain[0].params["suffix"].as_str().unwrap()));
    assert!(builtin.chain[0].params["file"].is_null());

    let bad_utf8 = dir.join("bad.txt");
    std::fs::write(&bad_utf8, b"fine\n# ok\nbroken \xff here\n").unwrap();
    let e = parse(&format!("suffix:{}", bad_utf8.display())).unwrap_err();
    assert!(matches!(e, TransformError::SuffixFile { line: Some(3), .. }), "{e:?}");
    assert!(e.to_string().contains("bad.txt:3"), "{e}");
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "# nothing\n\n").unwrap();
    let e = parse(&format!("suffix:{}", empty.display())).unwrap_err();
    assert!(e.to_string().contains("no suffixes"), "{e}");
    let e = parse("suffix:/no/such/file.txt").unwrap_err();
    assert!(e.to_string().contains("/no/such/file.txt") && e.to_string().contains("cannot read"), "{e}");

    let s = BUILTIN_SUFFIXES[0];
    assert_eq!(mutate_suffix(s, 1), mutate_suffix(s, 1));
    let outs: HashSet<String> = (0..50).map(|k| mutate_suffix(s, k)).collect();
    assert!(outs.len() > 30, "seeds give different mutations");
    let mut cur = String::new();
    for k in 0..200 {
        cur = mutate_suffix(&cur, k);
        assert!(!cur.is_empty() && !cur.contains('\n'));
    }
}
