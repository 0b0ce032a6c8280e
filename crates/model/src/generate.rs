//! Generation: requests, sampling (greedy, or seeded temperature + top-p), and the batched
//! decoding loop. All sequences advance together, one token each per step, so every weight
//! matrix is read once per step for the whole batch.

use crate::arch::{KvCache, SeqStep};
use crate::hooks::{Hooks, Residuals};
use crate::{LocalModel, ModelError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One generation request. The prompt is already rendered (see
/// [`LocalModel::render_chat`]); it is tokenized with special tokens parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct GenRequest {
    pub prompt: String,
    pub max_tokens: u32,
    /// 0 (or below) means greedy.
    pub temperature: f32,
    /// Nucleus sampling mass, in (0, 1].
    pub top_p: f32,
    pub seed: u64,
    /// Residual capture and additions during this generation (prompt and generated tokens).
    pub hooks: Option<Hooks>,
    /// How many alternatives to report per generated token (0 = none).
    pub top_logprobs: u32,
}

impl GenRequest {
    /// Greedy, 256 tokens at most.
    pub fn new(prompt: impl Into<String>) -> GenRequest {
        GenRequest {
            prompt: prompt.into(),
            max_tokens: 256,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            hooks: None,
            top_logprobs: 0,
        }
    }
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// An end-of-generation token (not included in the output).
    Stop,
    /// `max_tokens` reached.
    Length,
}

/// A candidate token and its log-probability (natural log, over the whole vocabulary, before
/// temperature and top-p).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenLogprob {
    pub token: u32,
    pub text: String,
    pub logprob: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenOutput {
    pub text: String,
    pub tokens: Vec<u32>,
    pub finish_reason: FinishReason,
    pub prompt_tokens: usize,
    /// Per generated token, the chosen token first, then the top alternatives.
    pub top_logprobs: Option<Vec<Vec<TokenLogprob>>>,
    /// Captured residuals (prompt positions first, then generated ones) if the hooks asked.
    pub residuals: Option<Residuals>,
}

/// Picks the next token: argmax when `temperature <= 0`, else a draw from the softmax at that
/// temperature restricted to the smallest set of tokens holding `top_p` of the mass.
pub fn sample(logits: &[f32], temperature: f32, top_p: f32, rng: &mut ChaCha8Rng) -> u32 {
    if temperature <= 0.0 || !temperature.is_finite() {
        return argmax(logits);
    }
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut probs: Vec<f32> = logits.iter().map(|&l| ((l - max) / temperature).exp()).collect();
    let total: f32 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= total);
    let top_p = if top_p > 0.0 && top_p < 1.0 { top_p } else { 1.0 };
    // The candidates by falling probability, ties by id. Probabilities are never negative, so
    // their bits order them, and a stable radix sort of the bits keeps the ids in order: the
    // same order as a comparison sort, in linear time. A NaN (from a NaN logit) takes the
    // comparison sort.
    let sorted: Vec<(u32, f32)> = if probs.iter().all(|p| *p >= 0.0) {
        radix_sort_desc(&probs)
    } else {
        let mut idx: Vec<(u32, f32)> = probs.iter().enumerate().map(|(i, &p)| (i as u32, p)).collect();
        idx.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        idx
    };
    let mut keep = sorted.len();
    let mut cum = 0f32;
    for (i, p) in sorted.iter().enumerate() {
        cum += p.1;
        if cum >= top_p {
            keep = i + 1;
            break;
        }
    }
    let kept = &sorted[..keep];
    let mass: f32 = kept.iter().map(|p| p.1).sum();
    let mut u = rng.random::<f32>() * mass;
    for p in kept {
        u -= p.1;
        if u <= 0.0 {
            return p.0;
        }
    }
    kept[kept.len() - 1].0
}

/// `(index, value)` of non-negative values by falling value, ties by index: a stable
/// least-significant-digit radix sort of the complemented bits, 11 bits a pass.
fn radix_sort_desc(values: &[f32]) -> Vec<(u32, f32)> {
    let mut a: Vec<(u32, u32)> = values.iter().enumerate().map(|(i, v)| (!v.to_bits(), i as u32)).collect();
    let mut b = vec![(0u32, 0u32); a.len()];
    for shift in [0u32, 11, 22] {
        let mut count = [0usize; 2048];
        for &(k, _) in &a {
            count[((k >> shift) & 2047) as usize] += 1;
        }
        let mut sum = 0;
        for c in count.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &(k, i) in &a {
            let slot = &mut count[((k >> shift) & 2047) as usize];
            b[*slot] = (k, i);
            *slot += 1;
        }
        std::mem::swap(&mut a, &mut b);
    }
    a.into_iter().map(|(_, i)| (i, values[i as usize])).collect()
}

/// Index of the largest logit (the first on ties).
pub fn argmax(logits: &[f32]) -> u32 {
    // The maximum first (branch-free, so it vectorizes), then its first position. NaNs are
    // never the maximum, as in a comparison loop starting from the first logit (which keeps a
    // leading NaN: nothing compares greater).
    if logits.first().is_some_and(|v| v.is_nan()) {
        return 0;
    }
    let mut lanes = [f32::NEG_INFINITY; 16];
    let chunks = logits.chunks_exact(16);
    let tail = chunks.remainder();
    for c in chunks {
        for (m, &v) in lanes.iter_mut().zip(c) {
            *m = if v > *m { v } else { *m };
        }
    }
    let mut max = lanes.iter().copied().fold(f32::NEG_INFINITY, |a, b| if b > a { b } else { a });
    for &v in tail {
        max = if v > max { v } else { max };
    }
    logits.iter().position(|&l| l == max).unwrap_or(0) as u32
}

struct SeqState {
    cache: KvCache,
    prompt: Vec<u32>,
    out: Vec<u32>,
    rng: ChaCha8Rng,
    residuals: Option<Residuals>,
    logprobs: Option<Vec<Vec<TokenLogprob>>>,
    finish: Option<FinishReason>,
}

/// Most tokens run through the model in one prefill batch.
const PREFILL_BATCH: usize = 512;

pub(crate) fn generate(model: &LocalModel, requests: &[GenRequest]) -> Result<Vec<GenOutput>, ModelError> {
    let cfg = &model.model.cfg;
    let mut states = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        let prompt = model.tokenize(&r.prompt, true, true);
        if prompt.is_empty() {
            return Err(ModelError::BadRequest(format!("request {i}: the prompt is empty")));
        }
        if prompt.len() + r.max_tokens as usize > cfg.context {
            return Err(ModelError::BadRequest(format!(
                "request {i}: prompt ({} tokens) + max_tokens ({}) exceeds the context length {}",
                prompt.len(),
                r.max_tokens,
                cfg.context
            )));
        }
        if let Some(h) = &r.hooks {
            h.validate(cfg.n_layers, cfg.d_model)?;
        }
        states.push(SeqState {
            cache: KvCache::new(cfg.n_layers),
            prompt,
            out: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(r.seed),
            residuals: r
                .hooks
                .as_ref()
                .filter(|h| h.capture_residuals)
                .map(|h| Residuals::new(h, cfg.n_layers, cfg.d_model)),
            logprobs: (r.top_logprobs > 0).then(Vec::new),
            finish: (r.max_tokens == 0).then_some(FinishReason::Length),
        });
    }

    // Prefill, several prompts per batch (long prompts in chunks).
    let mut pending: Vec<(usize, usize)> =
        states.iter().enumerate().filter(|(_, s)| s.finish.is_none()).map(|(i, _)| (i, 0)).collect();
    while !pending.is_empty() {
        let mut batch: Vec<(usize, usize, usize)> = Vec::new(); // (seq, start, end)
        let mut budget = PREFILL_BATCH;
        let mut rest = Vec::new();
        for (i, start) in pending {
            let len = states[i].prompt.len();
            if budget == 0 {
                rest.push((i, start));
                continue;
            }
            let end = (start + budget).min(len);
            budget -= end - start;
            batch.push((i, start, end));
            if end < len {
                rest.push((i, end));
            }
        }
        pending = rest;
        let logits = run_step(model, requests, &mut states, &batch);
        for ((i, _, end), lg) in batch.iter().zip(logits) {
            if *end == states[*i].prompt.len() {
                pick(model, &requests[*i], &mut states[*i], &lg);
            }
        }
    }

    // Decode: one token per unfinished sequence per step.
    loop {
        let active: Vec<(usize, usize, usize)> = states
            .iter()
            .enumerate()
            .filter(|(_, s)| s.finish.is_none())
            .map(|(i, s)| (i, s.out.len() - 1, s.out.len()))
            .collect();
        if active.is_empty() {
            break;
        }
        let logits = run_step_decode(model, requests, &mut states, &active);
        for ((i, _, _), lg) in active.iter().zip(logits) {
            pick(model, &requests[*i], &mut states[*i], &lg);
        }
    }

    Ok(states
        .into_iter()
        .map(|s| GenOutput {
            text: model.detokenize(&s.out),
            prompt_tokens: s.prompt.len(),
            tokens: s.out,
            finish_reason: s.finish.unwrap_or(FinishReason::Length),
            top_logprobs: s.logprobs,
            residuals: s.residuals,
        })
        .collect())
}

/// Runs prompt tokens `start..end` of each listed sequence.
fn run_step(
    model: &LocalModel,
    requests: &[GenRequest],
    states: &mut [SeqState],
    batch: &[(usize, usize, usize)],
) -> Vec<Vec<f32>> {
    let mut steps: Vec<SeqStep> = Vec::with_capacity(batch.len());
    let mut refs: Vec<Option<&mut SeqState>> = states.iter_mut().map(Some).collect();
    for &(i, start, end) in batch {
        let s = refs[i].take().expect("sequence listed twice");
        steps.push(SeqStep {
            cache: &mut s.cache,
            tokens: &s.prompt[start..end],
            hooks: requests[i].hooks.as_ref(),
            residuals: s.residuals.as_mut(),
            all_logits: false,
        });
    }
    model.model.forward(&mut steps)
}

/// Runs the last generated token of each listed sequence.
fn run_step_decode(
    model: &LocalModel,
    requests: &[GenRequest],
    states: &mut [SeqState],
    batch: &[(usize, usize, usize)],
) -> Vec<Vec<f32>> {
    let mut steps: Vec<SeqStep> = Vec::with_capacity(batch.len());
    let mut refs: Vec<Option<&mut SeqState>> = states.iter_mut().map(Some).collect();
    for &(i, start, end) in batch {
        let s = refs[i].take().expect("sequence listed twice");
        steps.push(SeqStep {
            cache: &mut s.cache,
            tokens: &s.out[start..end],
            hooks: requests[i].hooks.as_ref(),
            residuals: s.residuals.as_mut(),
            all_logits: false,
        });
    }
    model.model.forward(&mut steps)
}

fn pick(model: &LocalModel, req: &GenRequest, s: &mut SeqState, logits: &[f32]) {
    let tok = sample(logits, req.temperature, req.top_p, &mut s.rng);
    if let Some(lp) = s.logprobs.as_mut() {
        let ls = crate::arch::ops::log_softmax(logits);
        let mut idx: Vec<u32> = (0..ls.len() as u32).collect();
        let k = (req.top_logprobs as usize).min(idx.len());
        idx.select_nth_unstable_by(k.saturating_sub(1), |&a, &b| ls[b as usize].total_cmp(&ls[a as usize]));
        idx.truncate(k);
        idx.sort_by(|&a, &b| ls[b as usize].total_cmp(&ls[a as usize]));
        let entry = |t: u32| TokenLogprob { token: t, text: model.detokenize(&[t]), logprob: ls[t as usize] };
        let mut v = vec![entry(tok)];
        v.extend(idx.into_iter().map(entry));
        lp.push(v);
    }
    if model.tokenizer.is_eog(tok) {
        s.finish = Some(FinishReason::Stop);
        return;
    }
    s.out.push(tok);
    if s.out.len() >= req.max_tokens as usize {
        s.finish = Some(FinishReason::Length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sampler as it was before the partial sort (full sort of the whole vocabulary).
    fn sample_reference(logits: &[f32], temperature: f32, top_p: f32, rng: &mut ChaCha8Rng) -> u32 {
        if temperature <= 0.0 || !temperature.is_finite() {
            return argmax(logits);
        }
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut probs: Vec<(u32, f32)> =
            logits.iter().enumerate().map(|(i, &l)| (i as u32, ((l - max) / temperature).exp())).collect();
        let total: f32 = probs.iter().map(|p| p.1).sum();
        probs.iter_mut().for_each(|p| p.1 /= total);
        probs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top_p = if top_p > 0.0 && top_p < 1.0 { top_p } else { 1.0 };
        let mut keep = probs.len();
        let mut cum = 0f32;
        for (i, p) in probs.iter().enumerate() {
            cum += p.1;
            if cum >= top_p {
                keep = i + 1;
                break;
            }
        }
        let kept = &probs[..keep];
        let mass: f32 = kept.iter().map(|p| p.1).sum();
        let mut u = rng.random::<f32>() * mass;
        for p in kept {
            u -= p.1;
            if u <= 0.0 {
                return p.0;
            }
        }
        kept[kept.len() - 1].0
    }

    #[test]
    fn sampling_matches_the_full_sort() {
        let mut s = 12345u32;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        for vocab in [3usize, 100, 5000, 40000] {
            // Peaked and flat distributions, with ties (quantized logits).
            for spread in [0.5f32, 4.0, 20.0] {
                let logits: Vec<f32> =
                    (0..vocab).map(|_| ((next() % 1000) as f32 / 1000.0 * spread * 4.0).round() / 4.0).collect();
                for (t, p) in [(0.7, 0.9), (1.0, 1.0), (1.3, 0.95), (0.2, 0.5), (1.0, 0.999)] {
                    let (mut r1, mut r2) =
                        (ChaCha8Rng::seed_from_u64(vocab as u64), ChaCha8Rng::seed_from_u64(vocab as u64));
                    for _ in 0..20 {
                        assert_eq!(
                            sample(&logits, t, p, &mut r1),
                            sample_reference(&logits, t, p, &mut r2),
                            "vocab {vocab} spread {spread} t {t} p {p}"
                        );
                    }
                }
            }
        }
        let with_nan = vec![1.0, f32::NAN, 0.5, 2.0];
        let (mut r1, mut r2) = (ChaCha8Rng::seed_from_u64(1), ChaCha8Rng::seed_from_u64(1));
        for _ in 0..10 {
            assert_eq!(sample(&with_nan, 1.0, 0.9, &mut r1), sample_reference(&with_nan, 1.0, 0.9, &mut r2));
        }
    }

    #[test]
    fn argmax_is_the_first_largest() {
        let mut v: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 1000) as f32 * 0.01).collect();
        let naive = |v: &[f32]| {
            let mut best = 0;
            for (i, &l) in v.iter().enumerate() {
                if l > v[best] {
                    best = i;
                }
            }
            best as u32
        };
        assert_eq!(argmax(&v), naive(&v));
        v[3] = 50.0;
        v[997] = 50.0;
        assert_eq!(argmax(&v), 3);
        v[999] = 51.0;
        assert_eq!(argmax(&v), 999);
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NEG_INFINITY]), 0);
        assert_eq!(argmax(&[f32::NAN, 1.0, 2.0]), naive(&[f32::NAN, 1.0, 2.0]));
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn greedy_and_seeded_sampling() {
        let logits = vec![0.0, 3.0, 2.9, -1.0];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(sample(&logits, 0.0, 1.0, &mut rng), 1);
        // top_p small keeps only the best token.
        for _ in 0..20 {
            assert_eq!(sample(&logits, 1.0, 0.1, &mut rng), 1);
        }
        let draw = |seed| {
            let mut r = ChaCha8Rng::seed_from_u64(seed);
            (0..50).map(|_| sample(&logits, 1.0, 1.0, &mut r)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        let d = draw(7);
        assert!(d.contains(&1) && d.contains(&2));
    }
}
