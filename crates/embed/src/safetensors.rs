//! A reader for the safetensors format: 8 bytes little-endian header length, a JSON header
//! `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data.

use crate::EmbedError;
use std::collections::HashMap;

pub struct Tensor {
    pub dtype: String,
    pub shape: Vec<usize>,
    begin: usize,
    end: usize,
}

pub struct SafeTensors {
    pub tensors: HashMap<String, Tensor>,
    data: Vec<u8>,
    file: String,
}

impl SafeTensors {
    /// Parses `bytes` (the whole file); `file` names it in errors.
    pub fn parse(bytes: Vec<u8>, file: &str) -> Result<Self, EmbedError> {
        let err = |d: String| EmbedError::Format { file: file.to_string(), detail: d };
        if bytes.len() < 8 {
            return Err(err("shorter than the 8-byte header length".into()));
        }
        let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        if n > bytes.len() - 8 || n > 100 << 20 {
            return Err(err(format!("header length {n} past the end of the file")));
        }
        let header: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&bytes[8..8 + n]).map_err(|e| err(format!("header is not JSON: {e}")))?;
        let data_len = bytes.len() - 8 - n;
        let mut tensors = HashMap::new();
        for (name, v) in header {
            if name == "__metadata__" {
                continue;
            }
            let dtype = v["dtype"].as_str().ok_or_else(|| err(format!("{name}: no dtype")))?.to_string();
            let shape: Vec<usize> = v["shape"]
                .as_array()
                .ok_or_else(|| err(format!("{name}: no shape")))?
                .iter()
                .map(|d| d.as_u64().map(|d| d as usize))
                .collect::<Option<_>>()
                .ok_or_else(|| err(format!("{name}: bad shape")))?;
            let off = v["data_offsets"].as_array().ok_or_else(|| err(format!("{name}: no data_offsets")))?;
            let (begin, end) = match (off.first().and_then(|x| x.as_u64()), off.get(1).and_then(|x| x.as_u64())) {
                (Some(b), Some(e)) if b <= e && e as usize <= data_len => (b as usize, e as usize),
                _ => return Err(err(format!("{name}: data_offsets out of range"))),
            };
            tensors.insert(name, Tensor { dtype, shape, begin: begin + 8 + n, end: end + 8 + n });
        }
        Ok(Self { tensors, data: bytes, file: file.to_string() })
    }

    /// An f32 tensor's values and shape, checked against `shape`.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EmbedError> {
        let err = |d: String| EmbedError::Format { file: self.file.clone(), detail: format!("{name}: {d}") };
        let t = self.tensors.get(name).ok_or_else(|| err("missing tensor".into()))?;
        if t.dtype != "F32" {
            return Err(err(format!("dtype {}, expected F32", t.dtype)));
        }
        if t.shape != shape {
            return Err(err(format!("shape {:?}, expected {:?}", t.shape, shape)));
        }
        let n: usize = shape.iter().product();
        if t.end - t.begin != n * 4 {
            return Err(err(format!("{} bytes for {n} f32 values", t.end - t.begin)));
        }
        Ok(self.data[t.begin..t.end].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4"))).collect())
    }
}
