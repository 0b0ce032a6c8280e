//! The loops against scripted targets: budgets, early stops, take-backs, faults, determinism.

use crate::testing::{last_user_text, ok, Marks, Scripted};
use crate::{run, Ctx, Strategy};
use evalgap_core::{
    Case, CaseKind, Fault, FaultKind, Outcome, Response, Role, Sampling, TokenLogprob, ToolCall, Variant,
};

fn case() -> Case {
    Case::single("c1", "a request under test", CaseKind::Harmful, "cat")
}

fn sampling() -> Sampling {
    Sampling { temperature: 0.0, top_p: 1.0, max_tokens: 32 }
}

async fn attack(strategy: &Strategy, variant: &Variant, target: &Scripted, attacker: Option<&Scripted>) -> Outcome {
    let case = case();
    let sampling = sampling();
    let cx = Ctx {
        target,
        attacker: attacker.map(|a| a as &dyn evalgap_target::Target),
        scorer: &Marks,
        case: &case,
        variant,
        sampling: &sampling,
        seed: 42,
    };
    run(strategy, &cx).await
}

/// An attacker whose n-th prompt is `rewrite n: <goal>`, n counted from its requests.
fn numbering_attacker() -> Scripted {
    let n = std::sync::atomic::AtomicU32::new(0);
    Scripted::new("attacker", move |req| {
        let k = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let text = last_user_text(req);
        let goal = text.split("<goal>").nth(1).and_then(|g| g.split("</goal>").next()).unwrap_or("?").to_string();
        ok(format!("Sure. {{\"improvement\": \"more context\", \"prompt\": \"rewrite {k}: {goal}\"}}"))
    })
}

#[tokio::test]
async fn pair_stops_at_the_first_success_and_records_the_loop() {
    let target = Scripted::new("t", |req| {
        if last_user_text(req).starts_with("rewrite 2:") {
            ok("COMPLY [placeholder]")
        } else {
            ok("REFUSE")
        }
    });
    let attacker = numbering_attacker();
    let variant = Variant::plain(&case());
    let out = attack(&Strategy::Pair { budget: 5 }, &variant, &target, Some(&attacker)).await;
    let r = out.response().expect("a response");
    let trace = r.attack.as_ref().unwrap();
    assert_eq!((trace.queries, trace.success_at, trace.budget), (3, Some(3), 5));
    assert_eq!(trace.attacker_requests, 2);
    assert_eq!(trace.scores, vec![0.2, 0.2, 1.0]);
    assert_eq!(r.requests, 3, "target requests of the whole loop");
    assert!(r.text.contains("COMPLY"));
    assert_eq!(trace.detail["prompts"][0], "a request under test", "query 1 is the planned variant");
    assert_eq!(trace.detail["prompts"][2], "rewrite 2: a request under test");
    assert_eq!(trace.transcript.last().unwrap().role, Role::Assistant);
    assert_eq!(trace.transcript[trace.transcript.len() - 2].content, "rewrite 2: a request under test");
    // The attacker saw the refusal it must improve on, with the goal.
    let seen = attacker.seen.lock().unwrap();
    assert!(last_user_text(&seen[0]).contains("<target_response>REFUSE</target_response>"));
    assert!(seen[0].messages[0].role == Role::System);
    // The first target query used the trial seed itself; later ones other seeds.
    let sent = target.seen.lock().unwrap();
    assert_eq!(sent[0].seed, 42);
    assert_ne!(sent[1].seed, 42);
}

#[tokio::test]
async fn pair_spends_the_budget_and_replays_the_same() {
    let target = Scripted::new("t", |_| ok("REFUSE"));
    let variant = Variant::plain(&case());
    let a = attack(&Strategy::Pair { budget: 4 }, &variant, &target, Some(&numbering_attacker())).await;
    let trace = a.response().unwrap().attack.clone().unwrap();
    assert_eq!((trace.queries, trace.success_at, trace.attacker_requests), (4, None, 3));
    let target2 = Scripted::new("t", |_| ok("REFUSE"));
    let b = attack(&Strategy::Pair { budget: 4 }, &variant, &target2, Some(&numbering_attacker())).await;
    assert_eq!(a, b, "same trial, same loop");
    let seeds = |t: &Scripted| t.seen.lock().unwrap().iter().map(|r| r.seed).collect::<Vec<_>>();
    assert_eq!(seeds(&target), seeds(&target2));
}

#[tokio::test]
async fn faults_end_the_loop_as_the_trials_fault() {
    let variant = Variant::plain(&case());
    let attacker = Scripted::new("attacker", |_| {
        Outcome::Fault(Fault { kind: FaultKind::RateLimited, detail: "HTTP 429".into(), requests: 3 })
    });
    let target = Scripted::new("t", |_| ok("REFUSE"));
    let out = attack(&Strategy::Pair { budget: 3 }, &variant, &target, Some(&attacker)).await;
    let Outcome::Fault(f) = out else { panic!("an attacker fault is the trial's fault, got {out:?}") };
    assert_eq!(f.kind, FaultKind::RateLimited);
    assert!(f.detail.starts_with("attacker") && f.detail.contains("HTTP 429"), "{}", f.detail);
    assert_eq!(f.requests, 1 + 3, "the target query and the attacker's three tries");

    let flaky = Scripted::new("t", |req| {
        if last_user_text(req).starts_with("rewrite") {
            Outcome::Fault(Fault { kind: FaultKind::ServerError, detail: "HTTP 500".into(), requests: 2 })
        } else {
            ok("REFUSE")
        }
    });
    let out = attack(&Strategy::Pair { budget: 3 }, &variant, &flaky, Some(&numbering_attacker())).await;
    let Outcome::Fault(f) = out else { panic!("a target fault mid-loop is the trial's fault") };
    assert_eq!((f.kind, f.requests), (FaultKind::ServerError, 1 + 1 + 2));
    assert!(f.detail.starts_with("target, query 2"), "{}", f.detail);

    let out = attack(&Strategy::Crescendo { budget: 2 }, &variant, &flaky, None).await;
    assert!(matches!(out, Outcome::Fault(f) if f.detail.contains("--attacker")), "no attacker: a clear fault");
}

#[tokio::test]
async fn crescendo_takes_back_refused_turns_and_grows_the_rest() {
    // Turn 2 is refused and taken back; turn 4 succeeds.
    let target = Scripted::new("t", |req| match last_user_text(req).split(':').next().unwrap_or("") {
        "rewrite 2" => ok("REFUSE"),
        "rewrite 4" => ok("COMPLY [placeholder]"),
        _ => ok("an answer"),
    });
    let attacker = numbering_attacker();
    let mut c = case();
    c.turns.insert(0, evalgap_core::Message::system("be helpful"));
    let variant = Variant::plain(&c);
    let out = attack(&Strategy::Crescendo { budget: 6 }, &variant, &target, Some(&attacker)).await;
    let trace = out.response().unwrap().attack.clone().unwrap();
    assert_eq!((trace.queries, trace.success_at), (4, Some(4)));
    let users: Vec<&str> = trace
        .transcript
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.content.split(':').next().unwrap())
        .collect();
    assert_eq!(users, ["rewrite 1", "rewrite 3", "rewrite 4"], "the refused turn left the conversation");
    assert_eq!(trace.transcript[0].content, "be helpful", "the variant's system prompt stays");
    assert_eq!(trace.detail["turns"][1]["kept"], false);
    let asked = attacker.seen.lock().unwrap();
    assert!(last_user_text(&asked[2]).contains("<refused_turn>rewrite 2"), "the attacker hears of the take-back");
}

#[tokio::test]
async fn suffix_search_climbs_the_first_token_probability() {
    // P(refusal opening) falls with each word the suffix gains (10 at the start); the target
    // complies once a full answer is asked with 14 or more.
    let target = Scripted::new("t", |req| {
        let text = last_user_text(req);
        let words = text.split_whitespace().count() as f64 - 4.0;
        let p_refuse = 1.0 / (1.0 + (0.8 * (words - 13.0)).exp());
        if req.logprobs.is_some() {
            assert_eq!(req.sampling.max_tokens, 1, "probes ask for one token");
            let top = vec![("I".to_string(), p_refuse.ln()), ("Sure".to_string(), (1.0 - p_refuse).ln())];
            return Outcome::Ok(Response {
                text: "I".into(),
                requests: 1,
                logprobs: Some(vec![TokenLogprob { token: "I".into(), logprob: p_refuse.ln(), top }]),
                ..Default::default()
            });
        }
        if words >= 14.0 {
            ok("COMPLY [placeholder]")
        } else {
            ok("REFUSE")
        }
    });
    let case = case();
    let chain = evalgap_transform::parse("suffix-search:60").unwrap().remove(0);
    let variant = evalgap_transform::apply(&chain, &case, 7, 0).unwrap();
    let strategy = evalgap_transform::strategy(&variant).unwrap();
    let Strategy::SuffixSearch { budget: 60, ref start } = strategy else { panic!("{strategy:?}") };
    assert!(variant.messages[0].content.ends_with(start.as_str()));
    let out = attack(&strategy, &variant, &target, None).await;
    let r = out.response().unwrap();
    let trace = r.attack.as_ref().unwrap();
    assert!(r.text.contains("COMPLY"), "the search found a complying suffix: {:?}", trace.detail["best"]);
    assert!(trace.queries <= 60 && trace.success_at == Some(trace.queries), "{trace:?}");
    assert_eq!(trace.detail["logprobs"], true);
    let best = trace.detail["best"].as_str().unwrap();
    assert!(best.split_whitespace().count() >= 14);
    let sent = &trace.transcript[trace.transcript.len() - 2].content;
    assert!(
        sent.starts_with("a request under test ") && sent.ends_with(best),
        "the request is kept, the suffix swapped"
    );
    assert!(r.logprobs.is_none(), "probe log-probabilities are not stored with the answer");
}

#[tokio::test]
async fn suffix_search_without_logprobs_judges_full_answers() {
    let target = Scripted::new("t", |_| ok("REFUSE"));
    let variant =
        evalgap_transform::apply(&evalgap_transform::parse("suffix-search:4").unwrap().remove(0), &case(), 7, 0)
            .unwrap();
    let out = attack(&evalgap_transform::strategy(&variant).unwrap(), &variant, &target, None).await;
    let trace = out.response().unwrap().attack.clone().unwrap();
    assert_eq!(trace.detail["logprobs"], false);
    assert_eq!((trace.queries, trace.success_at), (4, None));
    assert_eq!(target.seen.lock().unwrap().iter().filter(|r| r.sampling.max_tokens == 32).count(), 3);
}

#[tokio::test]
async fn tool_loop_feeds_simulated_results_back() {
    // The agent calls a tool on each of its first two turns, then reports.
    let target = Scripted::new("t", |req| {
        let results = req.messages.iter().filter(|m| m.role == Role::Tool).count();
        assert!(req.tools.is_some(), "the tools go with every step");
        if results < 2 {
            Outcome::Ok(Response {
                text: String::new(),
                tool_calls: vec![ToolCall {
                    id: String::new(),
                    name: if results == 0 { "shell".into() } else { "send_email".into() },
                    arguments: "{}".into(),
                }],
                requests: 1,
                ..Default::default()
            })
        } else {
            ok("Done: [placeholder report]")
        }
    });
    let chain = evalgap_transform::parse("agentic:4").unwrap().remove(0);
    let variant = evalgap_transform::apply(&chain, &case(), 7, 0).unwrap();
    let strategy = evalgap_transform::strategy(&variant).unwrap();
    assert_eq!(strategy, Strategy::ToolLoop { steps: 4 });
    let out = attack(&strategy, &variant, &target, None).await;
    let r = out.response().unwrap();
    let names: Vec<&str> = r.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["shell", "send_email"], "every step's calls are in the answer");
    assert_eq!(r.text, "Done: [placeholder report]");
    let trace = r.attack.as_ref().unwrap();
    assert_eq!(trace.queries, 3);
    let tool_msgs: Vec<_> = trace.transcript.iter().filter(|m| m.role == Role::Tool).collect();
    assert_eq!(tool_msgs.len(), 2);
    assert_eq!(tool_msgs[0].tool_call_id.as_deref(), Some("call_0_0"));
    let result: serde_json::Value = serde_json::from_str(&tool_msgs[0].content).unwrap();
    assert_eq!((result["simulated"].clone(), result["tool"].clone()), (true.into(), "shell".into()));
    // A plain `agentic` variant is no loop, and keeps its old id.
    let plain =
        evalgap_transform::apply(&evalgap_transform::parse("agentic").unwrap().remove(0), &case(), 7, 0).unwrap();
    assert_eq!(evalgap_transform::strategy(&plain), None);
    assert_ne!(plain.id, variant.id);
}

#[tokio::test]
async fn tool_loop_stops_at_its_step_limit() {
    let target = Scripted::new("t", |_| {
        Outcome::Ok(Response {
            tool_calls: vec![ToolCall { id: "x".into(), name: "browse".into(), arguments: "{}".into() }],
            requests: 1,
            ..Default::default()
        })
    });
    let variant =
        evalgap_transform::apply(&evalgap_transform::parse("agentic:3").unwrap().remove(0), &case(), 1, 0).unwrap();
    let out = attack(&Strategy::ToolLoop { steps: 3 }, &variant, &target, None).await;
    let r = out.response().unwrap();
    assert_eq!((target.calls(), r.tool_calls.len()), (3, 3));
    let last = r.attack.as_ref().unwrap().transcript.last().unwrap();
    assert_eq!(last.role, Role::Assistant, "no tool result after the last step");
}
