//! `local:NAME` / `local:PATH`: a GGUF model run in-process on the CPU.
//!
//! Requests from the run's workers queue up for one batching thread, which generates for up to
//! `max_batch` of them at once (every weight matrix is read once per step for the whole batch),
//! so `--concurrency` is also the batch size. Each request's sampling seed is its trial seed:
//! the same trial gives the same text.

use crate::{ChatRequest, Target};
use evalgap_core::{Fault, FaultKind, Outcome, Response, TokenLogprob, ToolCall, Usage};
use evalgap_model::{FinishReason, GenOutput, GenRequest, LocalModel, ModelError};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How long the batcher waits for more requests to join a batch.
const GATHER: Duration = Duration::from_millis(3);

/// A generation failure, as the fault it becomes: (is the request itself at fault, message).
type GenError = (bool, String);

fn gen_error(e: ModelError) -> GenError {
    (matches!(e, ModelError::BadRequest(_)), e.to_string())
}

struct Job {
    request: GenRequest,
    reply: tokio::sync::oneshot::Sender<(Result<GenOutput, GenError>, Duration)>,
}

pub struct LocalTarget {
    id: String,
    model_name: String,
    jobs: mpsc::Sender<Job>,
    model: Arc<LocalModel>,
}

impl LocalTarget {
    /// `name` is what follows `local:` (a known model name or a GGUF path).
    pub fn new(name: &str, model: Arc<LocalModel>, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let m = model.clone();
        let max_batch = max_batch.max(1);
        std::thread::Builder::new()
            .name("evalgap-local-model".into())
            .spawn(move || batch_loop(&m, rx, max_batch))
            .expect("spawning the model thread");
        Self { id: format!("local:{name}"), model_name: model.info().name, jobs: tx, model }
    }

    pub fn model(&self) -> &Arc<LocalModel> {
        &self.model
    }

    fn fault(kind: FaultKind, detail: String) -> Outcome {
        Outcome::Fault(Fault { kind, detail, requests: 1 })
    }
}

fn batch_loop(model: &LocalModel, rx: mpsc::Receiver<Job>, max_batch: usize) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let deadline = Instant::now() + GATHER;
        while jobs.len() < max_batch {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let t0 = Instant::now();
        let requests: Vec<GenRequest> = jobs.iter().map(|j| j.request.clone()).collect();
        match model.generate(&requests) {
            Ok(outputs) => {
                let took = t0.elapsed();
                for (job, out) in jobs.into_iter().zip(outputs) {
                    let _ = job.reply.send((Ok(out), took));
                }
            }
            Err(_) if jobs.len() > 1 => {
                // One bad request (too long for the context, say) must not fail its batch-mates.
                for job in jobs {
                    let t = Instant::now();
                    let r =
                        model.generate(std::slice::from_ref(&job.request)).map(|mut v| v.remove(0)).map_err(gen_error);
                    let _ = job.reply.send((r, t.elapsed()));
                }
            }
            Err(e) => {
                let e = gen_error(e);
                for job in jobs {
                    let _ = job.reply.send((Err(e.clone()), t0.elapsed()));
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Target for LocalTarget {
    fn id(&self) -> String {
        self.id.clone()
    }

    async fn complete(&self, req: &ChatRequest) -> Outcome {
        let prompt = match self.model.render_chat(&req.messages, req.tools.as_deref()) {
            Ok(p) => p,
            Err(e) => return Self::fault(FaultKind::ClientError, e.to_string()),
        };
        let request = GenRequest {
            prompt,
            max_tokens: req.sampling.max_tokens,
            temperature: req.sampling.temperature as f32,
            top_p: req.sampling.top_p as f32,
            seed: req.seed,
            hooks: None,
            // The model gives the chosen token's log-probability beside the top ones only when
            // asked for at least one alternative.
            top_logprobs: req.logprobs.map(|n| n.clamp(1, 20)).unwrap_or(0),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.jobs.send(Job { request, reply: tx }).is_err() {
            return Self::fault(FaultKind::Internal, "the local model thread stopped".into());
        }
        let (result, took) = match rx.await {
            Ok(r) => r,
            Err(_) => return Self::fault(FaultKind::Internal, "the local model thread stopped".into()),
        };
        match result {
            Ok(out) => {
                let (text, tool_calls) = split_tool_calls(&out.text);
                Outcome::Ok(Response {
                    text,
                    finish_reason: Some(
                        match (out.finish_reason, tool_calls.is_empty()) {
                            (_, false) => "tool_calls",
                            (FinishReason::Stop, true) => "stop",
                            (FinishReason::Length, true) => "length",
                        }
                        .into(),
                    ),
                    tool_calls,
                    usage: Some(Usage {
                        prompt_tokens: out.prompt_tokens as u64,
                        completion_tokens: out.tokens.len() as u64,
                    }),
                    latency_ms: took.as_secs_f64() * 1000.0,
                    requests: 1,
                    model: Some(self.model_name.clone()),
                    system_fingerprint: None,
                    logprobs: out.top_logprobs.map(|steps| {
                        steps
                            .into_iter()
                            .filter(|step| !step.is_empty())
                            .map(|step| TokenLogprob {
                                token: step[0].text.clone(),
                                logprob: step[0].logprob as f64,
                                top: step[1..].iter().map(|a| (a.text.clone(), a.logprob as f64)).collect(),
                            })
                            .collect()
                    }),
                    attack: None,
                })
            }
            Err((true, e)) => Self::fault(FaultKind::ClientError, e),
            Err((false, e)) => Self::fault(FaultKind::Internal, e),
        }
    }
}

/// Qwen-style tool calls: `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` blocks in the
/// text become tool calls and leave the text. A block that is not such JSON stays in the text.
pub fn split_tool_calls(text: &str) -> (String, Vec<ToolCall>) {
    let mut calls = Vec::new();
    let mut rest = String::new();
    let mut s = text;
    while let Some(start) = s.find("<tool_call>") {
        let after = &s[start + "<tool_call>".len()..];
        let (body, next) = match after.find("</tool_call>") {
            Some(end) => (&after[..end], &after[end + "</tool_call>".len()..]),
            None => (after, ""),
        };
        let parsed = serde_json::from_str::<serde_json::Value>(body.trim()).ok().and_then(|v| {
            let name = v.get("name")?.as_str()?.to_string();
            let arguments = match v.get("arguments") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => "{}".into(),
            };
            Some(ToolCall { id: format!("call_{}", calls.len()), name, arguments })
        });
        rest.push_str(&s[..start]);
        match parsed {
            Some(c) => calls.push(c),
            None => rest.push_str(&s[start..start + "<tool_call>".len() + body.len()]),
        }
        s = next;
    }
    rest.push_str(s);
    (rest.trim().to_string(), calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_call_blocks_become_tool_calls() {
        let (text, calls) = split_tool_calls(
            "Sure.\n<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"cmd\": \"ls\"}}\n</tool_call>",
        );
        assert_eq!(text, "Sure.");
        assert_eq!(
            calls,
            vec![ToolCall { id: "call_0".into(), name: "shell".into(), arguments: "{\"cmd\":\"ls\"}".into() }]
        );
        let (text, calls) = split_tool_calls("<tool_call>not json</tool_call> ok");
        assert!(calls.is_empty());
        assert!(text.contains("not json") && text.ends_with("ok"));
        assert_eq!(split_tool_calls("plain").0, "plain");
    }
}
