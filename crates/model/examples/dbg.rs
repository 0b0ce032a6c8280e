use evalgap_model::*;
fn main() {
    let name = std::env::args().nth(1).unwrap_or("smollm2".into());
    let m = LocalModel::load(&resolve(&name, false).unwrap()).unwrap();
    let g: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("crates/model/tests/fixtures/{name}/top_logits.json")).unwrap(),
    )
    .unwrap();
    let gens: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("crates/model/tests/fixtures/{name}/generations.json")).unwrap(),
    )
    .unwrap();
    for (p, t) in gens["prompts"].as_array().unwrap().iter().zip(g["prompts"].as_array().unwrap()) {
        let ids = m.tokenize(p["rendered_prompt"].as_str().unwrap(), true, true);
        let out = m.forward_hooked(&ids, &Hooks::default()).unwrap();
        let mut errs = vec![];
        for e in t["helper_top10"].as_array().unwrap() {
            let id = e["id"].as_u64().unwrap() as usize;
            errs.push(format!("{:+.3}", out.logits[id] - e["logit"].as_f64().unwrap() as f32));
        }
        println!("{}", errs.join(" "));
    }
}
