//! `report.md`: for CI logs and pull requests.

use crate::escape::markdown as esc;
use crate::Report;
use evalgap_analysis::{Rate, Slice};
use std::fmt::Write;

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn rate(r: &Rate) -> String {
    format!("{} [{}, {}] ({}/{})", pct(r.value), pct(r.ci_low), pct(r.ci_high), r.successes, r.n)
}

pub fn to_markdown(r: &Report) -> String {
    let mut s = String::new();
    let p = &r.protocol;
    let _ = writeln!(s, "# evalgap report\n");
    let _ = writeln!(
        s,
        "Target **{}** on suite **{}** ({} cases, {} attempts each), judged by **{}**.\n",
        esc(&p.target),
        esc(&p.suite),
        p.cases,
        p.attempts,
        esc(&r.metrics.judge)
    );

    let _ = writeln!(s, "## Headline (95% intervals, n in brackets)\n");
    let _ = writeln!(s, "| metric | value |\n|---|---|");
    let curve = &r.metrics.metrics.asr_at_k;
    if let (Some(first), Some(last)) = (curve.first(), curve.last()) {
        let _ = writeln!(
            s,
            "| ASR@1 (harmful cases) | {} [{}, {}] (n={}) |",
            pct(first.value),
            pct(first.ci_low),
            pct(first.ci_high),
            first.n
        );
        if last.k > 1 {
            let _ = writeln!(
                s,
                "| ASR@{} (harmful cases) | {} [{}, {}] (n={}) |",
                last.k,
                pct(last.value),
                pct(last.ci_low),
                pct(last.ci_high),
                last.n
            );
        }
    }
    for (kind, rr) in &r.metrics.metrics.refusal_rate {
        let label = match kind.as_str() {
            "benign" => "Over-refusal (benign cases refused)".to_string(),
            k => format!("Refusal rate ({k} cases)"),
        };
        let _ = writeln!(s, "| {label} | {} |", rate(rr));
    }
    if let Some(f) = &r.metrics.metrics.factual {
        let _ = writeln!(s, "| Correct answers (factual cases) | {} |", rate(&f.correct));
        let _ = writeln!(s, "| Confident-wrong answers (factual cases) | {} |", rate(&f.confident_wrong));
    }
    let _ = writeln!(
        s,
        "| Trials | {} ({} responses, {} faults, {} pending) |\n",
        r.counts.trials, r.counts.responses, r.faults.target_total, r.counts.pending
    );
    if curve.len() > 1 && curve.first().map(|c| c.value) != curve.last().map(|c| c.value) {
        let _ = writeln!(s, "A single attempt understates the attack success rate: see the ASR@k curve.\n");
    }

    let _ = writeln!(s, "## ASR@k curve\n\n| k | ASR@k | 95% CI | n (cases) |\n|---|---|---|---|");
    for pt in curve {
        let _ = writeln!(s, "| {} | {} | [{}, {}] | {} |", pt.k, pct(pt.value), pct(pt.ci_low), pct(pt.ci_high), pt.n);
    }
    s.push('\n');

    slice_table(&mut s, "By category", &r.per_category);
    if r.per_transform.len() > 1 {
        slice_table(&mut s, "By transform", &r.per_transform);
    }
    if !r.adaptive.is_empty() {
        let _ = writeln!(
            s,
            "## Adaptive attacks

Loops stop when the run's first judge (`{}`) reads success; the tables above read the final answers like any other.

| chain | strategy | budget | stopped on success | mean queries | attacker requests |\n|---|---|---|---|---|---|",
            esc(r.protocol.headline_judge())
        );
        for a in &r.adaptive {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.2} | {} |",
                esc(&a.chain),
                esc(&a.strategy),
                a.budget,
                rate(&a.stopped_on_success),
                a.mean_queries,
                a.attacker_requests
            );
        }
        s.push('\n');
    }
    if r.per_format.len() > 1 {
        slice_table(&mut s, "By turn format", &r.per_format);
    }
    if r.per_language.len() > 1 {
        slice_table(&mut s, "By language", &r.per_language);
    }
    if r.per_rotation.iter().any(|x| x.key == "reused") {
        slice_table(
            &mut s,
            "By rotation (variants an earlier run sent: reused; never sent before: new)",
            &r.per_rotation,
        );
    }

    if let Some(ja) = &r.judge_analysis {
        judges_section(&mut s, ja);
    }

    if !r.language_gaps.is_empty() {
        let _ = writeln!(
            s,
            "## Language gap\n\nRefusal rate in each language minus English on the same requests (plain variants, paired), \
             with a paired bootstrap 95% interval; flagged beyond {:.0} points (`--gap-threshold`).\n",
            100.0 * r.language_gaps[0].threshold
        );
        let _ = writeln!(s, "| language | cases | n (pairs) | refusal | refusal in English | gap (points) | 95% CI | flag |\n|---|---|---|---|---|---|---|---|");
        for g in &r.language_gaps {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {:+.1} | [{:+.1}, {:+.1}] | {} |",
                esc(&g.language),
                esc(&g.kind),
                g.n,
                pct(g.refusal),
                pct(g.refusal_en),
                100.0 * g.gap,
                100.0 * g.ci_low,
                100.0 * g.ci_high,
                if g.flagged { "**gap**" } else { "" }
            );
        }
        s.push('\n');
    }

    let _ = writeln!(s, "## Faults\n\nFaults are never judged and never counted as refusal or compliance.\n");
    if r.faults.target.is_empty() && r.faults.judges.is_empty() {
        let _ = writeln!(s, "None.\n");
    } else {
        let _ = writeln!(s, "| source | kind | count |\n|---|---|---|");
        for (k, n) in &r.faults.target {
            let _ = writeln!(s, "| target | {} | {n} |", esc(k));
        }
        for (j, n) in &r.faults.judges {
            let _ = writeln!(s, "| judge {} | no verdict | {n} |", esc(j));
        }
        s.push('\n');
    }

    if !r.samples.is_empty() {
        let _ = writeln!(s, "## Sample responses (escaped, truncated)\n\n| group | case | transform | excerpt | judge's reason |\n|---|---|---|---|---|");
        for x in &r.samples {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                esc(&x.group),
                esc(&x.case_id),
                esc(&x.chain),
                esc(&x.excerpt),
                esc(&x.rationale)
            );
        }
        s.push('\n');
    }

    let _ = writeln!(s, "## Protocol card\n\n| field | value |\n|---|---|");
    let card = serde_json::to_value(p).expect("protocol serializes");
    if let serde_json::Value::Object(m) = card {
        for (k, v) in m {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            let _ = writeln!(s, "| {} | {} |", esc(&k), esc(&v));
        }
    }
    for j in &r.judges {
        let _ = writeln!(s, "| judge {} | version {} |", esc(&j.name), esc(&j.version));
    }
    let _ = writeln!(s, "\nReport schema {} v{}, generated {}.", r.schema, r.schema_version, r.generated);
    s
}

fn slice_table(s: &mut String, title: &str, slices: &[Slice]) {
    let _ = writeln!(
        s,
        "## {title}\n\n| slice | cases | responses | faults | ASR@1 | ASR@max k | refusal (harmful) | over-refusal (benign) |\n|---|---|---|---|---|---|---|---|"
    );
    for sl in slices {
        let m = &sl.metrics;
        let asr = |pt: Option<&evalgap_analysis::AsrPoint>| match pt {
            Some(p) if p.n > 0 => format!("{} [{}, {}] (n={})", pct(p.value), pct(p.ci_low), pct(p.ci_high), p.n),
            _ => "–".into(),
        };
        let refusal = |kind: &str| m.refusal_rate.get(kind).filter(|x| x.n > 0).map(rate).unwrap_or_else(|| "–".into());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            esc(&sl.key),
            sl.cases,
            sl.responses,
            sl.faults,
            asr(m.asr_at_k.first()),
            asr(m.asr_at_k.last()),
            refusal("harmful"),
            refusal("benign")
        );
    }
    s.push('\n');
}

fn opt_pct(x: Option<f64>) -> String {
    x.map(pct).unwrap_or_else(|| "–".into())
}

fn judges_section(s: &mut String, ja: &evalgap_analysis::JudgeAnalysis) {
    let _ = writeln!(s, "## Judges: sensitivity and agreement\n");
    let _ = writeln!(s, "Every headline number under each judge, and under their majority (ties give no verdict).\n");
    let _ = writeln!(s, "| judge | ASR@1 | ASR@k | refusal (harmful) | over-refusal (benign) |\n|---|---|---|---|---|");
    for row in &ja.sensitivity {
        let asr = |p: Option<evalgap_analysis::AsrPoint>| match p {
            Some(p) if p.n > 0 => format!("{} [{}, {}] (n={})", pct(p.value), pct(p.ci_low), pct(p.ci_high), p.n),
            _ => "–".into(),
        };
        let rr = |x: Option<Rate>| x.filter(|x| x.n > 0).as_ref().map(rate).unwrap_or_else(|| "–".into());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            esc(&row.judge),
            asr(row.asr_at_1),
            asr(row.asr_at_k),
            rr(row.refusal_harmful),
            rr(row.over_refusal)
        );
    }
    let _ = writeln!(s, "\n| metric | min | max | spread across judges |\n|---|---|---|---|");
    for (name, r) in &ja.range {
        let _ = writeln!(s, "| {} | {} | {} | {:.1} points |", esc(name), pct(r.min), pct(r.max), 100.0 * r.spread);
    }
    s.push('\n');
    for a in &ja.agreement {
        let stat = |x: &Option<evalgap_analysis::Stat>| match x {
            Some(x) => format!("{:.3} [{:.3}, {:.3}] (n={})", x.value, x.ci_low, x.ci_high, x.n),
            None => "–".into(),
        };
        let _ = writeln!(
            s,
            "Agreement on `{}`: Fleiss' kappa {}, Krippendorff's alpha {}.\n",
            a.label,
            stat(&a.fleiss_kappa),
            stat(&a.krippendorff_alpha)
        );
        let _ = writeln!(s, "| judge A | judge B | observed agreement | Cohen's kappa |\n|---|---|---|---|");
        for p in &a.pairs {
            let obs = if p.observed.is_nan() { None } else { Some(p.observed) };
            let _ = writeln!(s, "| {} | {} | {} | {} |", esc(&p.a), esc(&p.b), opt_pct(obs), stat(&p.cohen_kappa));
        }
        s.push('\n');
    }
    let ties: Vec<String> = ja.consensus_ties.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(s, "Consensus ties: {}.\n", ties.join(", "));
}
