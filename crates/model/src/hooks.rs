//! Hooks into the residual stream, for the representation-level (latent) audit.
//!
//! Layer `l` means the residual stream *after* transformer block `l` (0-based), at a position
//! (0-based index of the token in the sequence, prompt first, then generated tokens).
//! Additions at layer `l` are applied before that layer's residuals are captured, so captured
//! residuals show the stream the next block reads.

/// Which positions an addition applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Positions {
    /// Every position, prompt and generated.
    All,
    /// Positions `>= start` (for example the generated tokens only).
    From(usize),
    /// These positions.
    List(Vec<usize>),
}

impl Positions {
    /// Rank of `pos` within the selection, if selected.
    pub fn rank(&self, pos: usize) -> Option<usize> {
        match self {
            Positions::All => Some(pos),
            Positions::From(s) => pos.checked_sub(*s),
            Positions::List(l) => l.iter().position(|&p| p == pos),
        }
    }
}

/// What is added.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    /// The same vector (length `d_model`) at every selected position.
    Vector(Vec<f32>),
    /// A perturbation tensor: the i-th selected position (in the order of [`Positions::rank`])
    /// gets row i (each of length `d_model`); positions past the last row get nothing.
    PerPosition(Vec<Vec<f32>>),
}

/// Adds `delta` to the residual stream after block `layer` at `positions`.
#[derive(Debug, Clone, PartialEq)]
pub struct Addition {
    pub layer: usize,
    pub positions: Positions,
    pub delta: Delta,
}

impl Addition {
    /// A steering vector at every position of one layer.
    pub fn vector(layer: usize, v: Vec<f32>) -> Addition {
        Addition { layer, positions: Positions::All, delta: Delta::Vector(v) }
    }

    /// The vector to add at `pos`, if any.
    pub fn at(&self, pos: usize) -> Option<&[f32]> {
        let rank = self.positions.rank(pos)?;
        match &self.delta {
            Delta::Vector(v) => Some(v),
            Delta::PerPosition(rows) => rows.get(rank).map(|r| r.as_slice()),
        }
    }
}

/// What to read and change during a forward pass or a generation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hooks {
    /// Record the residual stream after every block (or the layers in `capture_layers`) at
    /// every position.
    pub capture_residuals: bool,
    /// Restrict the capture to these layers (None = all).
    pub capture_layers: Option<Vec<usize>>,
    /// Vectors added to the residual stream.
    pub additions: Vec<Addition>,
    /// For [`crate::LocalModel::forward_hooked`]: return the logits of every position, not only
    /// the last.
    pub all_logits: bool,
}

impl Hooks {
    /// Capture every layer's residuals.
    pub fn capture() -> Hooks {
        Hooks { capture_residuals: true, ..Hooks::default() }
    }

    pub fn with_addition(mut self, a: Addition) -> Hooks {
        self.additions.push(a);
        self
    }

    pub(crate) fn captures(&self, layer: usize) -> bool {
        self.capture_residuals && self.capture_layers.as_ref().is_none_or(|l| l.contains(&layer))
    }

    /// Checks layer indices and vector lengths against the model.
    pub fn validate(&self, n_layers: usize, d_model: usize) -> Result<(), crate::ModelError> {
        let bad = |m: String| Err(crate::ModelError::BadRequest(m));
        for a in &self.additions {
            if a.layer >= n_layers {
                return bad(format!(
                    "addition at layer {} but the model has {n_layers} layers (0..{})",
                    a.layer,
                    n_layers - 1
                ));
            }
            let lens: Vec<usize> = match &a.delta {
                Delta::Vector(v) => vec![v.len()],
                Delta::PerPosition(r) => r.iter().map(Vec::len).collect(),
            };
            if let Some(l) = lens.iter().find(|&&l| l != d_model) {
                return bad(format!("addition vector has length {l}, the model's residual width is {d_model}"));
            }
        }
        if let Some(ls) = &self.capture_layers {
            if let Some(l) = ls.iter().find(|&&l| l >= n_layers) {
                return bad(format!("capture of layer {l} but the model has {n_layers} layers"));
            }
        }
        Ok(())
    }
}

/// Captured residual streams: for each captured layer, `n_pos × d_model` values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Residuals {
    pub d_model: usize,
    /// The captured layer indices, in order.
    pub layers: Vec<usize>,
    /// `data[i]` holds layer `layers[i]`, row-major by position.
    pub data: Vec<Vec<f32>>,
}

impl Residuals {
    pub(crate) fn new(hooks: &Hooks, n_layers: usize, d_model: usize) -> Residuals {
        let layers: Vec<usize> = (0..n_layers).filter(|&l| hooks.captures(l)).collect();
        Residuals { d_model, data: vec![Vec::new(); layers.len()], layers }
    }

    /// Number of positions captured.
    pub fn n_pos(&self) -> usize {
        self.data.first().map_or(0, |d| d.len() / self.d_model.max(1))
    }

    /// The residual after block `layer` at position `pos`.
    pub fn get(&self, layer: usize, pos: usize) -> Option<&[f32]> {
        let i = self.layers.iter().position(|&l| l == layer)?;
        self.data[i].get(pos * self.d_model..(pos + 1) * self.d_model)
    }

    /// All positions of one layer, row-major.
    pub fn layer(&self, layer: usize) -> Option<&[f32]> {
        let i = self.layers.iter().position(|&l| l == layer)?;
        Some(&self.data[i])
    }

    pub(crate) fn push(&mut self, layer: usize, row: &[f32]) {
        if let Some(i) = self.layers.iter().position(|&l| l == layer) {
            self.data[i].extend_from_slice(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_deltas() {
        let a = Addition {
            layer: 0,
            positions: Positions::List(vec![3, 5]),
            delta: Delta::PerPosition(vec![vec![1.0], vec![2.0]]),
        };
        assert_eq!(a.at(3), Some(&[1.0][..]));
        assert_eq!(a.at(5), Some(&[2.0][..]));
        assert_eq!(a.at(4), None);
        let b = Addition { layer: 0, positions: Positions::From(2), delta: Delta::Vector(vec![1.0]) };
        assert!(b.at(1).is_none() && b.at(9).is_some());
    }

    #[test]
    fn validation() {
        let h = Hooks::default().with_addition(Addition::vector(3, vec![0.0; 4]));
        assert!(h.validate(4, 4).is_ok());
        assert!(h.validate(3, 4).is_err());
        assert!(h.validate(4, 5).is_err());
    }
}
