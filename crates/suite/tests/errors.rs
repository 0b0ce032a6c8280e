//! Every error names the file, the line (and JSON pointer for JSON) and the field.

mod common;

use evalgap_suite::{load, Format, SuiteError};

fn fx(name: &str, bytes: &[u8]) -> String {
    common::fixture("errors", name, bytes)
}

fn err(path: &str, format: Option<Format>) -> (SuiteError, String) {
    let e = load(path, format).expect_err("an error");
    let m = e.to_string();
    (e, m)
}

const XS_HEADER: &str = "id,prompt,type,label,focus,note\n";

#[test]
fn csv_unclosed_quote_names_record_line_and_field() {
    let p = fx(
        "unclosed.csv",
        format!("{XS_HEADER}1,ok,homonyms,safe,,\n2,\"never closed,homonyms,safe,,\n3,x,homonyms,safe,,\n").as_bytes(),
    );
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::Csv { .. }));
    assert!(
        m.starts_with(&format!(
            "{p}:3: field `prompt`: malformed CSV: the quoted field opened on line 3 is never closed"
        )),
        "{m}"
    );
    assert_eq!(e.location().unwrap().line, 3);
    assert_eq!(e.field(), Some("prompt"));
}

#[test]
fn csv_stray_quote_names_record_line_and_field() {
    let p = fx(
        "stray.csv",
        format!("{XS_HEADER}1,ok,homonyms,safe,,\n2,\"multi\nline\",homonyms,safe,,\n3,\"say \"hi\" now\",homonyms,safe,,\n").as_bytes(),
    );
    let (_, m) = err(&p, Some(Format::XsTest));
    assert!(
        m.starts_with(&format!("{p}:5: field `prompt`: malformed CSV: text after a closing quote on line 5")),
        "{m}"
    );
}

#[test]
fn csv_wrong_field_count_names_record_line() {
    let p = fx("fields.csv", format!("{XS_HEADER}1,ok,homonyms,safe,,\n2,\"two\nlines\",homonyms,safe,\n").as_bytes());
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::Csv { .. }));
    assert_eq!(
        m,
        format!("{p}:3: malformed CSV: record has 5 fields but the header has 6 (id,prompt,type,label,focus,note)")
    );
}

#[test]
fn jsonl_malformed_line() {
    let p = fx(
        "bad.jsonl",
        b"{\"id\": \"a\", \"text\": \"t\", \"kind\": \"benign\", \"category\": \"c\"}\n\n{\"id\": \"b\", \"text\": \"t\",, }\n",
    );
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::Json { .. }));
    assert!(m.starts_with(&format!("{p}:3: malformed JSON: ")), "{m}");
    assert!(m.contains("(column "), "{m}");
    let p = fx("array.jsonl", b"[1, 2]\n");
    let (_, m) = err(&p, None);
    assert!(m.starts_with(&format!("{p}:1: malformed JSON: expected one JSON object per line")), "{m}");
}

#[test]
fn json_malformed_document() {
    let p = fx("broken.json", b"{\n  \"parameters\": {},\n  \"jailbreaks\": [\n    {\"index\": 0,}\n  ]\n}\n");
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::Json { .. }));
    assert!(m.starts_with(&format!("{p}:4: malformed JSON: ")), "{m}");
    let (_, m) = err(&p, Some(Format::JbbArtifacts));
    assert!(m.starts_with(&format!("{p}:4: malformed JSON: ")), "{m}");
}

#[test]
fn json_field_errors_name_line_pointer_and_field() {
    let doc = |prompt: &str| {
        format!(
            "{{\n \"parameters\": {{\"method\": \"GCG\", \"model\": \"m\", \"attack_type\": \"white_box\"}},\n \"jailbreaks\": [\n  {{\"index\": 0, \"goal\": \"g\", \"behavior\": \"b\", \"category\": \"c\", \"prompt\": \"p\", \"jailbroken\": true}},\n  {{\"index\": 1, \"goal\": \"g\", \"behavior\": \"b\", \"category\": \"c\",\n   \"prompt\": {prompt}, \"jailbroken\": false}}\n ]\n}}\n"
        )
    };
    let p = fx("empty-prompt.json", doc("\" \"").as_bytes());
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::EmptyText { .. }));
    assert_eq!(m, format!("{p}:5 (/jailbreaks/1): field `prompt`: empty text"));
    let p = fx("number-prompt.json", doc("7").as_bytes());
    let (_, m) = err(&p, None);
    assert_eq!(m, format!("{p}:5 (/jailbreaks/1): field `prompt`: expected a string or null, found a number"));
    let p = fx("dup-index.json", doc("\"p\"").replace("\"index\": 1", "\"index\": 0").as_bytes());
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::DuplicateId { .. }));
    assert_eq!(m, format!("{p}:5 (/jailbreaks/1): field `index`: duplicate id `jbb-GCG-m-0` (first used at line 4)"));
    let p = fx("no-method.json", doc("\"p\"").replace("\"method\": \"GCG\", ", "").as_bytes());
    let (_, m) = err(&p, None);
    assert_eq!(m, format!("{p}:2 (/parameters): field `method`: missing"));
}

#[test]
fn missing_column_lists_columns_found() {
    let p =
        fx("no-id.csv", b"Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString\r\nx,standard,illegal,,\r\n");
    let (e, m) = err(&p, Some(Format::HarmBench));
    assert!(matches!(e, SuiteError::MissingColumn { .. }));
    assert_eq!(
        m,
        format!("{p}:1: missing column `BehaviorID`; columns found: `Behavior`, `FunctionalCategory`, `SemanticCategory`, `Tags`, `ContextString`")
    );
    assert_eq!(e.field(), Some("BehaviorID"));
    let p = fx("no-label.csv", b"id,prompt,type\n1,x,homonyms\n");
    let (_, m) = err(&p, Some(Format::XsTest));
    assert_eq!(m, format!("{p}:1: missing column `label`; columns found: `id`, `prompt`, `type`"));
}

#[test]
fn empty_text_names_line_and_field() {
    let mut data = String::from("Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\r\n");
    for i in 0..14 {
        data.push_str(&format!("Placeholder {i},standard,illegal,,,id_{i}\r\n"));
    }
    data.push_str("\"multi\nline\",standard,illegal,,,id_m\r\n");
    data.push_str(",standard,illegal,,,id_empty\r\n");
    let p = fx("harmbench_empty.csv", data.as_bytes());
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::EmptyText { .. }));
    assert_eq!(m, format!("{p}:18: field `Behavior`: empty text"));
    // Whitespace only is empty too.
    let p = fx("xs_blank.csv", format!("{XS_HEADER}1,   ,homonyms,safe,,\n").as_bytes());
    assert_eq!(err(&p, None).1, format!("{p}:2: field `prompt`: empty text"));
    let p = fx("blank.jsonl", b"{\"id\": \"a\", \"text\": \"\", \"kind\": \"benign\", \"category\": \"c\"}\n");
    assert_eq!(err(&p, None).1, format!("{p}:1: field `text`: empty text"));
    let p = fx("multijail_empty.csv", b"\xEF\xBB\xBFid,source,tags,en,zh\n0,s,['A'],x,y\n1,s,['A'],x,\n");
    assert_eq!(err(&p, None).1, format!("{p}:3: field `zh`: empty text"));
}

#[test]
fn duplicate_id_names_both_lines() {
    let line = |id: &str| format!("{{\"id\": \"{id}\", \"text\": \"t\", \"kind\": \"benign\", \"category\": \"c\"}}\n");
    let data = format!("{}{}\n{}{}", line("a"), line("b"), line("c"), line("b"));
    let p = fx("dup.jsonl", data.as_bytes());
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::DuplicateId { .. }));
    assert_eq!(m, format!("{p}:5: field `id`: duplicate id `b` (first used at line 2)"));
    let p = fx(
        "dup_harmbench.csv",
        b"Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\r\nx,standard,illegal,,,same\r\n\"y\ny\",standard,illegal,,,other\r\nz,standard,illegal,,,same\r\n",
    );
    assert_eq!(err(&p, None).1, format!("{p}:5: field `BehaviorID`: duplicate id `same` (first used at line 2)"));
    let p = fx("dup_multijail.csv", b"id,source,tags,en\n0,s,[],x\n0,s,[],y\n");
    assert_eq!(err(&p, None).1, format!("{p}:3: field `id`: duplicate id `multijail-0-en` (first used at line 2)"));
}

#[test]
fn invalid_utf8_names_line_and_field() {
    let mut data = format!("{XS_HEADER}1,ok,homonyms,safe,,\n2,\"a\nb\",homonyms,safe,,\n").into_bytes();
    data.extend_from_slice(b"3,bad \xff byte,homonyms,safe,,\n");
    let p = fx("utf8.csv", &data);
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::InvalidUtf8 { .. }));
    assert_eq!(m, format!("{p}:5: field `prompt`: invalid UTF-8 (byte 0xff at column 7)"));
    let p = fx(
        "utf8.jsonl",
        b"{\"id\": \"a\", \"text\": \"t\", \"kind\": \"benign\", \"category\": \"c\"}\n{\"id\": \"\xc3(\"}\n",
    );
    assert_eq!(err(&p, None).1, format!("{p}:2: invalid UTF-8 (byte 0xc3 at column 9)"));
}

#[test]
fn unknown_builtin_lists_known() {
    let (e, m) = err("builtin:nope", None);
    assert!(matches!(e, SuiteError::UnknownBuiltin { .. }));
    assert!(m.starts_with("unknown built-in suite `builtin:nope`; known: builtin:core"), "{m}");
}

#[test]
fn unreadable_file_names_path() {
    let p = "no/such/dir/cases.csv";
    let (e, m) = err(p, None);
    assert!(matches!(e, SuiteError::Io { .. }));
    assert!(m.starts_with("no/such/dir/cases.csv: cannot read: "), "{m}");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn unknown_format_lists_formats_and_suggests_flag() {
    let p = fx("other.csv", b"question,answer\nq,a\n");
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::UnknownFormat { .. }));
    assert!(
        m.starts_with(&format!("{p}:1: cannot tell the format: a CSV header with columns `question`, `answer`")),
        "{m}"
    );
    assert!(
        m.contains(
            "known formats: native, harmbench, advbench, jbb-behaviors, jbb-artifacts, xstest, strongreject, multijail"
        ),
        "{m}"
    );
    assert!(m.contains("--format"), "{m}");
    let p = fx("other.json", b"{\"a\": 1}");
    let (_, m) = err(&p, None);
    assert!(m.contains("top-level keys `a`") && m.contains("--format"), "{m}");
    let p = fx("empty.csv", b"");
    assert!(err(&p, None).1.starts_with(&format!("{p}:1: cannot tell the format: the file is empty")));
    let e = "csvish".parse::<Format>().unwrap_err().to_string();
    assert!(e.starts_with("unknown format `csvish`; known formats: native,"), "{e}");
}

#[test]
fn advbench_harmful_strings_refused() {
    let p = fx("harmful_strings.csv", b"target\n\"a placeholder output, with a comma\"\nanother\n");
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::NotRequests { .. }));
    assert!(m.starts_with(&format!("{p}:1: field `target`: this is AdvBench harmful_strings.csv")), "{m}");
    assert!(m.contains("not requests"));
    assert_eq!(err(&p, Some(Format::AdvBench)).1, m);
}

#[test]
fn native_field_errors() {
    let cases = [
        (
            r#"{"id": "a", "text": "t", "kind": "benign", "category": "c", "colour": "red"}"#,
            "field `colour`: unknown key; known keys: id, text, turns",
        ),
        (
            r#"{"id": "a", "text": "t", "kind": "evil", "category": "c"}"#,
            "field `kind`: expected `harmful`, `benign` or `factual`, found `evil`",
        ),
        (
            r#"{"id": "a", "text": "t", "kind": "factual", "category": "c"}"#,
            "field `expected`: missing (required for kind `factual`)",
        ),
        (
            r#"{"id": "a", "text": "t", "kind": "harmful", "category": "c", "expected": "x"}"#,
            "field `expected`: only kind `factual` may have an expected answer",
        ),
        (r#"{"id": "a", "kind": "harmful", "category": "c"}"#, "field `text`: missing (give `text` or `turns`)"),
        (
            r#"{"id": "a", "text": "t", "turns": [], "kind": "harmful", "category": "c"}"#,
            "field `turns`: give `text` or `turns`, not both",
        ),
        (
            r#"{"id": "a", "turns": [{"role": "assistant", "content": "x"}], "kind": "harmful", "category": "c"}"#,
            "field `turns`: no `user` turn",
        ),
        (
            r#"{"id": "a", "turns": [{"role": "user", "content": "x", "name": "n"}], "kind": "harmful", "category": "c"}"#,
            "field `turns[0].name`: unknown key",
        ),
        (
            r#"{"id": "a", "turns": [{"role": "robot", "content": "x"}], "kind": "harmful", "category": "c"}"#,
            "field `turns[0].role`: expected `system`, `user`, `assistant` or `tool`, found `robot`",
        ),
        (r#"{"id": "a", "text": "t", "kind": "harmful"}"#, "field `category`: missing"),
        (
            r#"{"id": 3, "text": "t", "kind": "harmful", "category": "c"}"#,
            "field `id`: expected a string, found a number",
        ),
        (
            r#"{"id": "a", "text": "t", "kind": "harmful", "category": "c", "meta": {"n": 1}}"#,
            "field `meta.n`: expected a string, found a number",
        ),
    ];
    for (i, (line, want)) in cases.iter().enumerate() {
        let ok = r#"{"id": "ok", "text": "t", "kind": "benign", "category": "c"}"#;
        let p = fx(&format!("native_{i}.jsonl"), format!("{ok}\n{line}\n").as_bytes());
        let m = err(&p, None).1;
        assert!(m.starts_with(&format!("{p}:2: {want}")), "{m}");
    }
}

#[test]
fn xstest_bad_label() {
    let p = fx("label.csv", format!("{XS_HEADER}1,ok,homonyms,maybe,,\n").as_bytes());
    assert_eq!(err(&p, None).1, format!("{p}:2: field `label`: expected `safe` or `unsafe`, found `maybe`"));
}

#[test]
fn no_cases() {
    let p = fx("header_only.csv", XS_HEADER.as_bytes());
    let (e, m) = err(&p, None);
    assert!(matches!(e, SuiteError::NoCases { .. }));
    assert_eq!(m, format!("{p}:1: no cases"));
    let p = fx(
        "all_null.json",
        br#"{"parameters": {"method": "PAIR", "model": "m", "attack_type": "black_box"}, "jailbreaks": [{"index": 0, "goal": "g", "behavior": "b", "category": "c", "prompt": null, "jailbroken": false}]}"#,
    );
    assert_eq!(err(&p, None).1, format!("{p}:1: no cases (skipped 1 record with null prompt)"));
}
