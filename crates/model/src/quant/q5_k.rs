//! Q5_K: like Q4_K with a fifth bit per weight. Layout: `d`, `dmin` (f16), 12 bytes of 6-bit
//! scales and mins, 32 bytes `qh`, 128 bytes of nibbles. In the 64-weight chunk c, sub-block 2c
//! takes the low nibbles and bit 2c of `qh[l]`, sub-block 2c + 1 the high nibbles and bit 2c + 1.

use super::q4_k::{choose_scales, pack_scales_mins, scales_mins};
use super::{read_f16, BlockQ8, QK_K};

pub const BLOCK_BYTES: usize = 4 + 12 + QK_K / 8 + QK_K / 2;

#[inline]
fn value(b: &[u8], j: usize, l: usize) -> u8 {
    let c = j / 2;
    let ql = b[48 + 32 * c + l];
    let nib = if j.is_multiple_of(2) { ql & 0x0f } else { ql >> 4 };
    let hbit = (b[16 + l] >> j) & 1;
    nib | (hbit << 4)
}

pub fn dequantize_block(b: &[u8], out: &mut [f32]) {
    let d = read_f16(b, 0);
    let dmin = read_f16(b, 2);
    let (sc, m) = scales_mins(&b[4..16]);
    for j in 0..8 {
        let scale = d * sc[j] as f32;
        let min = dmin * m[j] as f32;
        for l in 0..32 {
            out[32 * j + l] = scale * value(b, j, l) as f32 - min;
        }
    }
}

pub fn quantize_block(x: &[f32], out: &mut Vec<u8>) {
    let (d, dmin, sc, m) = choose_scales(x, 31.0);
    out.extend_from_slice(&super::f16::from_f32(d).to_le_bytes());
    out.extend_from_slice(&super::f16::from_f32(dmin).to_le_bytes());
    out.extend_from_slice(&pack_scales_mins(&sc, &m));
    let mut q = [0u8; QK_K];
    for j in 0..8 {
        let scale = d * sc[j] as f32;
        let min = dmin * m[j] as f32;
        for l in 0..32 {
            let v = x[32 * j + l];
            q[32 * j + l] = if scale > 0.0 { ((v + min) / scale).round().clamp(0.0, 31.0) as u8 } else { 0 };
        }
    }
    let mut qh = [0u8; 32];
    for j in 0..8 {
        for l in 0..32 {
            qh[l] |= (q[32 * j + l] >> 4) << j;
        }
    }
    out.extend_from_slice(&qh);
    for c in 0..4 {
        for l in 0..32 {
            out.push((q[64 * c + l] & 0x0f) | ((q[64 * c + 32 + l] & 0x0f) << 4));
        }
    }
}

pub fn vec_dot_scalar(w: &[u8], x: &[BlockQ8]) -> f32 {
    let mut sum = 0f32;
    for (b, a) in w.chunks_exact(BLOCK_BYTES).zip(x.chunks_exact(8)) {
        let d = read_f16(b, 0);
        let dmin = read_f16(b, 2);
        let (sc, m) = scales_mins(&b[4..16]);
        for j in 0..8 {
            let mut isum = 0i32;
            for l in 0..32 {
                isum += value(b, j, l) as i32 * a[j].qs[l] as i32;
            }
            sum += d * sc[j] as f32 * a[j].d * isum as f32 - dmin * m[j] as f32 * a[j].s;
        }
    }
    sum
}
