/*
 * Fixed-point helpers of the C kernel: a line-by-line port of runtime/fixed.ts (see runtime/ARITHMETIC.md).
 *
 * The TypeScript runtime keeps integers in float64 and forms products with Math.imul; this file reproduces the
 * same integers in C99 without undefined behaviour:
 * - Math.imul (a product wrapped to 32 bits) is ns_imul: the product is formed on uint32_t, where wrapping is
 *   defined, and converted back with ns_i32 (ToInt32 of the ECMAScript spec), which is portable.
 * - JavaScript's `>>` first wraps its operand to int32 (ToInt32); callers pass ns_i32(v) where a value may not fit.
 * - Right shifts of negative numbers (ns_asr32/ns_asr64) use `>>` on signed types: C99 leaves that
 *   implementation-defined, every compiler this code targets (gcc, clang, arm-none-eabi-gcc) documents it as an
 *   arithmetic shift (a floor), and a compile-time check below refuses to build where it is not.
 * - "Wide" sums, which the TypeScript code keeps exactly in float64 below 2^53, are int64_t here.
 * Rounding is round half up everywhere: floor((v + 2^(s-1)) / 2^s), computed as (v >> s) + bit (s-1) of v.
 */
#ifndef NS_FIXED_H
#define NS_FIXED_H
#include <stdint.h>

/* ToInt32: v modulo 2^32 into [-2^31, 2^31). Portable (no implementation-defined signed conversion). */
static inline int32_t ns_i32(int64_t v) {
  uint32_t u = (uint32_t)(uint64_t)v;
  return u <= 0x7fffffffu ? (int32_t)u : (int32_t)(u - 0x80000000u) - 0x7fffffff - 1;
}

/* Math.imul: the low 32 bits of a * b as a signed int32. */
static inline int32_t ns_imul(int32_t a, int32_t b) {
  return ns_i32((int64_t)((uint32_t)a * (uint32_t)b));
}

/* Fails to compile unless >> of a negative signed value is an arithmetic shift (floor division by 2^s). */
typedef char ns_arithmetic_shift_required[((-7 >> 1) == -4 && ((int64_t)-7 >> 1) == -4) ? 1 : -1];

/* floor(v / 2^s) for s in 0..31. */
static inline int32_t ns_asr32(int32_t v, int s) {
  return v >> s;
}

/* floor(v / 2^s) for s in 0..63. */
static inline int64_t ns_asr64(int64_t v, int s) {
  return v >> s;
}

/* roundShiftRight: round-half-up shift of an int32 by s in 1..31; never overflows. */
static inline int32_t ns_rsr(int32_t v, int s) {
  return ns_asr32(v, s) + (ns_asr32(v, s - 1) & 1);
}

/* roundShiftRightWide: round-half-up shift of a wide integer by s in 0..62. */
static inline int64_t ns_rsrw(int64_t v, int s) {
  if (s == 0) return v;
  return ns_asr64(v, s) + (ns_asr64(v, s - 1) & 1);
}

/* mul32x16RoundShift: round-half-up (a * b) / 2^s, exact, for a int32, b in [-32768, 32768], s in 0..47. */
static inline int64_t ns_mul32x16(int32_t a, int32_t b, int s) {
  return ns_rsrw((int64_t)a * b, s);
}

/* bitLength of an exact integer v in [1, 2^53). */
static inline int ns_bitlen64(uint64_t v) {
  return 64 - __builtin_clzll(v);
}

/*
 * nlmsReciprocal (runtime/fixed.ts): p = bit length of the Q30 norm n2 in [1, 2^53), its 15-bit mantissa n
 * (round half up; 2^15 becomes 2^14 with p + 1) and r = floor((2^29 + n/2) / n) in [2^14, 2^15], so that
 * 2^30 / n2 ~= r 2^(16 - p). Packed as p << 16 | r.
 */
static inline int32_t ns_nlms_reciprocal(int64_t n2) {
  int p = ns_bitlen64((uint64_t)n2);
  uint32_t n;
  if (p > 15) {
    n = (uint32_t)ns_rsrw(n2, p - 15);
    if (n == 32768u) {
      n = 16384u;
      p++;
    }
  } else {
    n = (uint32_t)n2 << (15 - p);
  }
  return (int32_t)(((uint32_t)p << 16) | ((536870912u + (n >> 1)) / n));
}

/* mulShiftWide (runtime/fixed.ts) on v = g z: v 2^-s for |v| < 2^45, round half up for s > 0 (0 for s >= 46), exact for s in -17..0. */
static inline int64_t ns_shift_wide(int64_t v, int s) {
  if (s > 0) return s >= 46 ? 0 : ns_rsrw(v, s);
  return v * ((int64_t)1 << -s);
}

/*
 * mulWide16RoundShift: round-half-up (v * m) / 2^s for a wide v (|v| < 2^53), m in [-32768, 32768], s in 20..52.
 * v * m may need 68 bits, so v is split as hi * 2^20 + lo (lo in [0, 2^20)), exactly as runtime/fixed.ts does.
 */
static inline int64_t ns_mulwide16(int64_t v, int32_t m, int s) {
  int64_t hi = ns_asr64(v, 20);
  int64_t lo = v - hi * 1048576;
  if (s == 20) return hi * m + ns_rsrw(lo * m, 20);
  return ns_rsrw(hi * m + ns_asr64(lo * m, 20), s - 20);
}

#if defined(__GNUC__)
#define NS_NOINLINE __attribute__((noinline))
#else
#define NS_NOINLINE
#endif

/* saturate16 without counting: one SSAT on cores with the saturating instructions (ARMv6 and ARMv7-M). */
#if defined(__ARM_FEATURE_SAT)
#include <arm_acle.h>
static inline int32_t ns_ssat16(int32_t v) { return __ssat(v, 16); }
#else
static inline int32_t ns_ssat16(int32_t v) { return v > 32767 ? 32767 : (v < -32768 ? -32768 : v); }
#endif

/*
 * Single instructions the hot loops of ns_kernel.c are written around, with portable definitions elsewhere:
 * ns_mla(a, b, acc) = a b + acc (MLA; callers guarantee no overflow); ns_mul_hi16_add(g, ghi, glo, p, k) =
 * floor(g p / 2^16) + k for an int16 p, where ghi = g >> 16 and glo = g & 0xffff (SMLAWB with the DSP extension,
 * else ghi p + k + (glo p >> 16), exact in int32 for |k| < 2^29); ns_ssat16_asr1(v) = saturate16(v >> 1) (SSAT
 * with a shift; sets the Q flag when it clamps).
 */
#if defined(__thumb2__) && defined(__GNUC__)
static inline int32_t ns_mla(int32_t a, int32_t b, int32_t acc) {
  int32_t r;
  __asm__("mla %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
#else
static inline int32_t ns_mla(int32_t a, int32_t b, int32_t acc) { return a * b + acc; }
#endif
#if defined(__ARM_FEATURE_DSP)
static inline int32_t ns_mul_hi16_add(int32_t g, int32_t ghi, int32_t glo, int32_t p, int32_t k) {
  (void)ghi, (void)glo;
  return __smlawb(g, p, k);
}
#else
static inline int32_t ns_mul_hi16_add(int32_t g, int32_t ghi, int32_t glo, int32_t p, int32_t k) {
  (void)g;
  return ns_mla(ghi, p, k) + ((glo * p) >> 16);
}
#endif
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
/* PKHBT: the low half of lo, the low half of hi in the top; PKHTB: the high half of hi, the high half of lo below. */
static inline int32_t ns_pkhbt(int32_t lo, int32_t hi) {
  int32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
  return r;
}
static inline int32_t ns_pkhtb(int32_t hi, int32_t lo) {
  int32_t r;
  __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
  return r;
}
#endif
#if defined(__ARM_FEATURE_SAT) && defined(__ARM_FEATURE_QBIT) && defined(__thumb2__) && defined(__GNUC__)
/* The sticky saturation flag Q (APSR bit 27), cleared and read by volatile asm so that the compiler keeps their
 * order with ns_ssat16_asr1 (also volatile asm). */
#define NS_HAVE_Q_ASM 1
static inline void ns_q_clear(void) {
  uint32_t t;
  __asm__ volatile("mrs %0, APSR\n\tbic %0, %0, #0x08000000\n\tmsr APSR_nzcvq, %0" : "=&r"(t) : : "cc");
}
static inline int ns_q_read(void) {
  uint32_t t;
  __asm__ volatile("mrs %0, APSR" : "=r"(t));
  return (int)((t >> 27) & 1u);
}
static inline int32_t ns_ssat16_asr1(int32_t v) {
  int32_t r;
  __asm__ volatile("ssat %0, #16, %1, asr #1" : "=r"(r) : "r"(v) : "cc");
  return r;
}
#else
#define NS_HAVE_Q_ASM 0
static inline int32_t ns_ssat16_asr1(int32_t v) { return ns_ssat16(v >> 1); }
#endif

/* Saturation, counted in *count when the value is clamped. */
static inline int32_t ns_sat16(int64_t v, uint32_t *count) {
  if (v > 32767) { (*count)++; return 32767; }
  if (v < -32768) { (*count)++; return -32768; }
  return (int32_t)v;
}

static inline int32_t ns_sat32(int64_t v, uint32_t *count) {
  if (v > 2147483647) { (*count)++; return 2147483647; }
  if (v < -2147483647 - 1) { (*count)++; return -2147483647 - 1; }
  return (int32_t)v;
}

/* What storing a number into an Int16Array does: ToInt16 (wrap modulo 2^16). Used where the value provably fits. */
static inline int16_t ns_i16(int32_t v) {
  uint16_t u = (uint16_t)(uint32_t)v;
  return u <= 0x7fffu ? (int16_t)u : (int16_t)((int32_t)u - 65536);
}

/* runtime/activation.ts TANH_TABLE (ns_activation.c). */
extern const int16_t ns_tanh_table[1025];

/* tanhQ15 (runtime/activation.ts) of a Q19.12 u in [-INT32_MAX, INT32_MAX]: table step 32 LSBs, linear interpolation
 * with a 5-bit fraction rounded half up, odd symmetry, +-32767 for |u| >= 8.0. ns_tanh_q15 takes any wide u. */
static inline int32_t ns_tanh_q15_i32(int32_t u) {
  const int32_t a = u < 0 ? -u : u;
  int32_t t = 32767;
  if (a < (8 << 12)) {
    const int32_t i = a >> 5, f = a & 31, t0 = ns_tanh_table[i];
    t = t0 + ns_rsr((ns_tanh_table[i + 1] - t0) * f, 5);
  }
  return u < 0 ? -t : t;
}

#endif
