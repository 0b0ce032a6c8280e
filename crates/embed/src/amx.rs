//! bf16 matrix product on Intel AMX (`TDPBF16PS`) for the encoder's linear layers:
//! `C = A * W^T + bias` with A and W rounded to bf16 (round to nearest even) and every product
//! summed in f32 by the tile unit.
//!
//! Why AMX and not AVX512-BF16 (`VDPBF16PS`) or AVX512-VNNI int8 (`VPDPBUSD`): measured on the
//! development machine (Xeon, Sapphire Rapids class), one core sustains about 150-210 GFLOP/s with
//! f32 `VFMADD` (2 per cycle), 110 GFLOP/s with `VDPBF16PS` (one per two cycles: slower than f32),
//! 850 GOP/s with `VPDPBUSD` int8 (but int8 activations lose agreement with the reference), and
//! 2,400 GFLOP/s with `TDPBF16PS`. AMX gives the bf16 accuracy of `VDPBF16PS` at 15 times its speed.
//!
//! W (n x k, PyTorch's layout) is packed once at load into 1 KiB B tiles: for each panel of 16
//! outputs and each block of 32 inputs, 16 rows of input pairs x 16 outputs x 2 (the "VNNI"
//! layout `TDPBF16PS` reads), zero-padded to whole tiles. A is converted per call into a bf16
//! buffer of whole 32-row blocks. For each 32-row block, then each 32-column block, the kernel
//! keeps a 32 x 32 block of C in four tiles (tmm0-3, started from the bias by a stride-0 tile
//! load), A in tmm4-5 and W in tmm6-7.
//!
//! The tile instructions are written with `asm!` (Rust has no stable AMX intrinsics); the
//! compiler itself never touches the tile registers. Linux gives a process the AMX tile state only
//! after `arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`; [`available`] asks once and
//! reports false when the CPU lacks AMX-BF16, the kernel refuses, or the OS is not Linux.

/// A weight matrix packed into AMX B tiles, with its bias.
pub struct Weights {
    pub n: usize,
    pub k: usize,
    /// k rounded up to a multiple of 32.
    kp: usize,
    /// n rounded up to a multiple of 32.
    np: usize,
    /// bf16 bits: panel p (16 outputs), block kb (32 inputs) at `(p * kp / 32 + kb) * 512`.
    data: Vec<u16>,
    /// Bias zero-padded to np.
    bias: Vec<f32>,
}

/// f32 -> bf16 bits, round to nearest even (finite inputs; the model has no NaN).
#[inline(always)]
pub fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// bf16 bits -> f32 (exact).
#[cfg(test)]
#[inline(always)]
pub fn from_bf16(x: u16) -> f32 {
    f32::from_bits((x as u32) << 16)
}

impl Weights {
    /// Packs `w` (n x k, row-major) with its bias. Any n and k (zero-padded to whole tiles).
    pub fn new(w: &[f32], n: usize, k: usize, bias: Vec<f32>) -> Self {
        assert_eq!(w.len(), n * k);
        assert_eq!(bias.len(), n);
        let (kp, np) = (k.div_ceil(32) * 32, n.div_ceil(32) * 32);
        let mut data = vec![0u16; np * kp];
        for p in 0..np / 16 {
            for kb in 0..kp / 32 {
                let tile = &mut data[(p * kp / 32 + kb) * 512..][..512];
                for r in 0..16 {
                    for j in 0..16 {
                        for e in 0..2 {
                            let (row, col) = (p * 16 + j, kb * 32 + 2 * r + e);
                            if row < n && col < k {
                                tile[r * 32 + j * 2 + e] = to_bf16(w[row * k + col]);
                            }
                        }
                    }
                }
            }
        }
        let mut bias = bias;
        bias.resize(np, 0.0);
        Self { n, k, kp, np, data, bias }
    }
}

/// Whether the AMX kernel can run here: the CPU has AMX-TILE and AMX-BF16 and the OS granted this
/// process the tile state. Asked once.
pub fn available() -> bool {
    static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OK.get_or_init(imp::request)
}

/// `c (rows x n) = a (rows x k) * W^T + bias`, on the calling thread; `buf` is scratch space kept
/// between calls. Only when [`available`] is true.
pub fn matmul_rows(a: &[f32], w: &Weights, c: &mut [f32], buf: &mut Vec<u16>) {
    assert!(available(), "AMX kernel without AMX");
    let (k, n) = (w.k, w.n);
    let rows = a.len() / k;
    assert_eq!(a.len(), rows * k);
    assert_eq!(c.len(), rows * n);
    if rows == 0 {
        return;
    }
    let mp = rows.div_ceil(32) * 32;
    buf.clear();
    buf.resize(mp * w.kp, 0);
    convert(a, k, buf, w.kp);
    // SAFETY: available() checked the CPU and the OS permission; the buffers hold whole tiles
    // (buf: mp x kp, w.data: np x kp, w.bias: np) and c holds rows x n, checked above.
    unsafe { imp::kernel(buf, mp, w, c, rows) }
}

/// Rows of `a` (width k) to bf16 rows of width kp (the padding stays zero).
fn convert(a: &[f32], k: usize, buf: &mut [u16], kp: usize) {
    #[cfg(target_arch = "x86_64")]
    #[rustversion::since(1.89)]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn fast(a: &[f32], k: usize, buf: &mut [u16], kp: usize) {
        body(a, k, buf, kp)
    }
    // Before Rust 1.89 AVX-512 cannot be enabled (and the AMX path is never chosen).
    #[cfg(target_arch = "x86_64")]
    #[rustversion::before(1.89)]
    unsafe fn fast(a: &[f32], k: usize, buf: &mut [u16], kp: usize) {
        body(a, k, buf, kp)
    }
    #[inline(always)]
    fn body(a: &[f32], k: usize, buf: &mut [u16], kp: usize) {
        for (src, dst) in a.chunks_exact(k).zip(buf.chunks_exact_mut(kp)) {
            for (s, d) in src.iter().zip(dst.iter_mut()) {
                *d = to_bf16(*s);
            }
        }
    }
    #[cfg(target_arch = "x86_64")]
    if crate::gemm::avx512_available() {
        // SAFETY: the CPU has AVX-512 (AMX CPUs all do; checked anyway).
        return unsafe { fast(a, k, buf, kp) };
    }
    body(a, k, buf, kp)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod imp {
    use super::Weights;
    use std::arch::asm;

    const ARCH_REQ_XCOMP_PERM: i64 = 0x1023;
    const XFEATURE_XTILEDATA: i64 = 18;
    const SYS_ARCH_PRCTL: i64 = 158;

    pub fn request() -> bool {
        // CPUID.(EAX=7,ECX=0):EDX bit 22 AMX-BF16, bit 24 AMX-TILE.
        let max_leaf = std::arch::x86_64::__cpuid(0).eax;
        if max_leaf < 7 {
            return false;
        }
        let edx = std::arch::x86_64::__cpuid_count(7, 0).edx;
        if edx & (1 << 22) == 0 || edx & (1 << 24) == 0 {
            return false;
        }
        let ret: i64;
        // SAFETY: the arch_prctl system call with two integer arguments; it touches no memory of ours.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") SYS_ARCH_PRCTL => ret,
                in("rdi") ARCH_REQ_XCOMP_PERM,
                in("rsi") XFEATURE_XTILEDATA,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret == 0
    }

    /// Tile configuration: palette 1, eight tiles of 16 rows x 64 bytes.
    #[repr(C, align(64))]
    struct Config([u8; 64]);

    const CONFIG: Config = {
        let mut c = [0u8; 64];
        c[0] = 1;
        let mut t = 0;
        while t < 8 {
            c[16 + 2 * t] = 64;
            c[48 + t] = 16;
            t += 1;
        }
        Config(c)
    };

    /// # Safety
    /// AMX available and permitted; `a` is mp x w.kp bf16 (mp a multiple of 32), `c` rows x w.n.
    pub unsafe fn kernel(a: &[u16], mp: usize, w: &Weights, c: &mut [f32], rows: usize) {
        let (kp, np, n) = (w.kp, w.np, w.n);
        debug_assert!(a.len() == mp * kp && w.data.len() == np * kp && c.len() == rows * n);
        let kb_count = kp / 32;
        let a_stride = kp * 2;
        let mut tmp = [[0f32; 32]; 32];
        unsafe {
            asm!("ldtilecfg [{}]", in(reg) CONFIG.0.as_ptr(), options(nostack, readonly));
            for mb in (0..mp).step_by(32) {
                for nb in (0..np).step_by(32) {
                    let bias0 = w.bias.as_ptr().add(nb);
                    let bias1 = w.bias.as_ptr().add(nb + 16);
                    let b0 = w.data.as_ptr().add((nb / 16) * kb_count * 512);
                    let b1 = w.data.as_ptr().add((nb / 16 + 1) * kb_count * 512);
                    // C starts from the bias: a stride-0 load repeats one row 16 times.
                    asm!(
                        "tileloadd tmm0, [{b0} + {z}]",
                        "tileloadd tmm1, [{b1} + {z}]",
                        "tileloadd tmm2, [{b0} + {z}]",
                        "tileloadd tmm3, [{b1} + {z}]",
                        b0 = in(reg) bias0,
                        b1 = in(reg) bias1,
                        z = in(reg) 0usize,
                        options(nostack, readonly),
                    );
                    let a0 = a.as_ptr().add(mb * kp);
                    let a1 = a.as_ptr().add((mb + 16) * kp);
                    for kb in 0..kb_count {
                        asm!(
                            "tileloadd tmm4, [{a0} + {sa}]",
                            "tileloadd tmm5, [{a1} + {sa}]",
                            "tileloadd tmm6, [{b0} + {sb}]",
                            "tileloadd tmm7, [{b1} + {sb}]",
                            "tdpbf16ps tmm0, tmm4, tmm6",
                            "tdpbf16ps tmm1, tmm4, tmm7",
                            "tdpbf16ps tmm2, tmm5, tmm6",
                            "tdpbf16ps tmm3, tmm5, tmm7",
                            a0 = in(reg) a0.add(kb * 32),
                            a1 = in(reg) a1.add(kb * 32),
                            b0 = in(reg) b0.add(kb * 512),
                            b1 = in(reg) b1.add(kb * 512),
                            sa = in(reg) a_stride,
                            sb = in(reg) 64usize,
                            options(nostack, readonly),
                        );
                    }
                    if mb + 32 <= rows && nb + 32 <= n {
                        let p = c.as_mut_ptr().add(mb * n + nb);
                        asm!(
                            "tilestored [{p0} + {s}], tmm0",
                            "tilestored [{p1} + {s}], tmm1",
                            "tilestored [{p2} + {s}], tmm2",
                            "tilestored [{p3} + {s}], tmm3",
                            p0 = in(reg) p,
                            p1 = in(reg) p.add(16),
                            p2 = in(reg) p.add(16 * n),
                            p3 = in(reg) p.add(16 * n + 16),
                            s = in(reg) n * 4,
                            options(nostack),
                        );
                    } else {
                        let p = tmp.as_mut_ptr() as *mut f32;
                        asm!(
                            "tilestored [{p0} + {s}], tmm0",
                            "tilestored [{p1} + {s}], tmm1",
                            "tilestored [{p2} + {s}], tmm2",
                            "tilestored [{p3} + {s}], tmm3",
                            p0 = in(reg) p,
                            p1 = in(reg) p.add(16),
                            p2 = in(reg) p.add(16 * 32),
                            p3 = in(reg) p.add(16 * 32 + 16),
                            s = in(reg) 128usize,
                            options(nostack),
                        );
                        let cols = 32.min(n - nb.min(n));
                        for (i, t) in tmp.iter().enumerate().take(rows.saturating_sub(mb).min(32)) {
                            c[(mb + i) * n + nb..][..cols].copy_from_slice(&t[..cols]);
                        }
                    }
                }
            }
            asm!("tilerelease", options(nostack, nomem));
        }
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
mod imp {
    use super::Weights;

    pub fn request() -> bool {
        false
    }

    pub unsafe fn kernel(_: &[u16], _: usize, _: &Weights, _: &mut [f32], _: usize) {
        unreachable!("AMX is x86_64 Linux only")
    }
}
