//! IEEE half precision conversions.

/// f16 bits to f32.
#[inline]
pub fn to_f32(h: u16) -> f32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = if exp == 0 {
        if man == 0 {
            sign
        } else {
            // Subnormal: value = man * 2^-24.
            let v = man as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
    } else if exp == 31 {
        sign | 0x7f80_0000 | (man << 13)
    } else {
        sign | ((exp + 112) << 23) | (man << 13)
    };
    f32::from_bits(bits)
}

/// f32 to f16 bits, rounding to nearest even.
pub fn from_f32(f: f32) -> u16 {
    let x = f.to_bits();
    let sign = ((x >> 16) & 0x8000) as u16;
    let exp = ((x >> 23) & 0xff) as i32;
    let man = x & 0x7f_ffff;
    if exp == 255 {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 31 {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let rem = m & ((1 << shift) - 1);
        let mut r = m >> shift;
        if rem > half || (rem == half && (r & 1) == 1) {
            r += 1;
        }
        return sign | r as u16;
    }
    let mut r = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    if rem > 0x1000 || (rem == 0x1000 && (r & 1) == 1) {
        r += 1;
    }
    sign | r as u16
}

/// Rounds an f32 to the nearest f16 value.
#[inline]
pub fn round_f16(f: f32) -> f32 {
    to_f32(from_f32(f))
}

/// Converts f32 values to f16 bits (round to nearest even).
pub fn encode_slice(src: &[f32], dst: &mut [u16]) {
    #[cfg(target_arch = "x86_64")]
    if super::simd_available() {
        // SAFETY: AVX2/FMA/F16C detected.
        unsafe { super::simd::f32_to_f16_slice(src, dst) };
        return;
    }
    for (d, s) in dst.iter_mut().zip(src) {
        *d = from_f32(*s);
    }
}

/// Dot product of f32 values with f16 values.
pub fn dot_f16(a: &[f32], b: &[u16]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if super::simd_available() {
        // SAFETY: AVX2/FMA/F16C detected.
        return unsafe { super::simd::dot_f32_f16(a, b) };
    }
    a.iter().zip(b).map(|(x, y)| x * to_f32(*y)).sum()
}

/// `out += w * v` with `v` in f16.
pub fn axpy_f16(out: &mut [f32], w: f32, v: &[u16]) {
    #[cfg(target_arch = "x86_64")]
    if super::simd_available() {
        // SAFETY: AVX2/FMA/F16C detected.
        unsafe { super::simd::axpy_f16(out, w, v) };
        return;
    }
    for (o, x) in out.iter_mut().zip(v) {
        *o += w * to_f32(*x);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn slice_helpers_match_scalar() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.37 - 5.0).collect();
        let mut h = vec![0u16; a.len()];
        encode_slice(&a, &mut h);
        for (x, y) in a.iter().zip(&h) {
            assert_eq!(from_f32(*x), *y);
        }
        let want: f32 = a.iter().zip(&h).map(|(x, y)| x * to_f32(*y)).sum();
        assert!((dot_f16(&a, &h) - want).abs() < 1e-3);
        let mut o = vec![1f32; a.len()];
        axpy_f16(&mut o, 0.5, &h);
        for (i, v) in o.iter().enumerate() {
            assert!((v - (1.0 + 0.5 * to_f32(h[i]))).abs() < 1e-5);
        }
    }

    use super::*;
    #[test]
    fn known_values() {
        assert_eq!(to_f32(0x3c00), 1.0);
        assert_eq!(to_f32(0xc000), -2.0);
        assert_eq!(to_f32(0x7bff), 65504.0);
        assert_eq!(from_f32(1.0), 0x3c00);
        assert_eq!(from_f32(65504.0), 0x7bff);
        assert_eq!(to_f32(0x0001), 5.960_464_5e-8);
        for h in 0..0x7c00u16 {
            assert_eq!(from_f32(to_f32(h)), h, "{h:#x}");
        }
    }
}
