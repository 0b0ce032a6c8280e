//! Content hashing: ids and versions in evalgap are sha256 of canonical bytes.

use sha2::{Digest, Sha256};

/// sha256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_digits(&Sha256::digest(bytes), 64)
}

/// The first `digits` lowercase hex digits of `bytes`. (Ids are made by the ten thousand when a run
/// is planned: this writes them straight into their string, without a char iterator.)
fn hex_digits(bytes: &[u8], digits: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let out: Vec<u8> =
        bytes.iter().flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]).take(digits).collect();
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// Incremental hasher whose fields are length-prefixed, so ("ab","c") and ("a","bc") differ.
#[derive(Default, Clone)]
pub struct Hasher(Sha256);

impl Hasher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one field.
    pub fn field(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        let b = bytes.as_ref();
        self.0.update((b.len() as u64).to_le_bytes());
        self.0.update(b);
        self
    }

    pub fn finish_hex(&self) -> String {
        self.finish_hex_prefix(64)
    }

    /// The first `digits` digits of [`Hasher::finish_hex`] (at most 64).
    pub fn finish_hex_prefix(&self, digits: usize) -> String {
        hex_digits(&self.0.clone().finalize(), digits)
    }

    pub fn finish_u64(&self) -> u64 {
        let d = self.0.clone().finalize();
        u64::from_le_bytes(d[..8].try_into().expect("sha256 has 32 bytes"))
    }
}

#[cfg(test)]
mod hex_tests {
    use super::*;

    #[test]
    fn hex_is_the_usual_lowercase_hex() {
        // sha256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let mut h = Hasher::new();
        h.field("x");
        assert_eq!(h.finish_hex_prefix(24), h.finish_hex()[..24]);
        assert_eq!(hex_digits(&[0x0f, 0xa0], 3), "0fa");
    }
}
