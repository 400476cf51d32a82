/**
 * Fixed-point primitives: the one place where rounding and saturation are decided (see runtime/ARITHMETIC.md).
 *
 * Conventions
 * - Values are JavaScript numbers holding integers. "int16"/"int32" say which range a value is kept in.
 * - Products are formed with Math.imul only (exact when both factors are int16, or int32 x uint16/int16 split
 *   into halves); sums of such products are accumulated exactly in float64 while their magnitude stays below
 *   2^53 ("wide" accumulators, int64_t in C). No product is ever rounded by floating point.
 * - Rounding is ROUND HALF UP (toward +infinity on exact ties): roundShiftRight(v, s) = floor((v + 2^(s-1)) / 2^s).
 *   It is what `(v + (1 << (s-1))) >> s` computes in C on int64 (and ARM's rounding multiplies), costs one add,
 *   and its bias is only on exact ties (one in 2^s of uniformly spread values, half an LSB each).
 * - Saturation clamps to the format's range; kernels count every clamp in a per-buffer counter.
 * All functions are pure, allocate nothing, and take integers in and return integers.
 */

export const INT16_MAX = 32767;
export const INT16_MIN = -32768;
export const INT32_MAX = 2147483647;
export const INT32_MIN = -2147483648;
/** 1.0 in Q1.15 when held in an int32 slot (it does not fit int16). */
export const Q15_ONE = 32768;

/** 2^-s for s in 0..62, exact. */
const POW2_NEG = new Float64Array(63);
for (let s = 0; s < 63; s++) POW2_NEG[s] = 2 ** -s;
/** 2^s for s in 0..17, exact (mulShiftWide's left shifts). */
const POW2_POS = new Float64Array(18);
for (let s = 0; s < 18; s++) POW2_POS[s] = 2 ** s;

/** Clamps v to [-32768, 32767]. */
export function saturate16(v: number): number {
  return v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v;
}

/** Clamps an exact integer v (|v| < 2^53) to [-2^31, 2^31 - 1]. */
export function saturate32(v: number): number {
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
}

/** saturate16, counting a clamp in counts[idx]. */
export function saturate16Count(v: number, counts: Uint32Array, idx: number): number {
  if (v > INT16_MAX) {
    counts[idx]++;
    return INT16_MAX;
  }
  if (v < INT16_MIN) {
    counts[idx]++;
    return INT16_MIN;
  }
  return v;
}

/** saturate32, counting a clamp in counts[idx]. */
export function saturate32Count(v: number, counts: Uint32Array, idx: number): number {
  if (v > INT32_MAX) {
    counts[idx]++;
    return INT32_MAX;
  }
  if (v < INT32_MIN) {
    counts[idx]++;
    return INT32_MIN;
  }
  return v;
}

/**
 * Clamps v to [0, 65536] (0..2 in Q1.15 held in an int32 slot), counting a clamp in counts[idx]. The range of
 * SnAp-1's decay (runtime/ARITHMETIC.md, "Traces"): its deviation from 1 stays within +-1, so every trace product
 * fits an int32.
 */
export function saturateQ15ZeroTwoCount(v: number, counts: Uint32Array, idx: number): number {
  if (v > 2 * Q15_ONE) {
    counts[idx]++;
    return 2 * Q15_ONE;
  }
  if (v < 0) {
    counts[idx]++;
    return 0;
  }
  return v;
}

/**
 * Round-half-up arithmetic shift of an int32 by s in 1..31: floor((v + 2^(s-1)) / 2^s).
 * Computed as (v >> s) + bit (s-1) of v, so it never overflows (no v + half is formed).
 */
export function roundShiftRight(v: number, s: number): number {
  return (v >> s) + ((v >> (s - 1)) & 1);
}

/**
 * Round-half-up shift of a wide exact integer (|v| < 2^53, int64_t in C) by s in 0..52: floor(v / 2^s + 1/2).
 * v * 2^-s is exact (a power-of-two scaling), + 1/2 is exact below 2^52, floor is exact.
 */
export function roundShiftRightWide(v: number, s: number): number {
  if (s === 0) return v;
  return Math.floor(v * POW2_NEG[s] + 0.5);
}

/** Q1.15 x Q1.15 -> Q1.15, round half up, saturating (only -1 x -1 saturates). a, b int16. */
export function mulQ15(a: number, b: number): number {
  const p = roundShiftRight(Math.imul(a, b), 15);
  return p > INT16_MAX ? INT16_MAX : p;
}

/**
 * Exact (a * b) rounded half up and shifted right by s (0..47), for a int32 and b in [-32768, 32768].
 * a is split into a signed high half and an unsigned low half (a = hi * 2^16 + lo), each multiplied with
 * Math.imul (both products fit int32), and the halves are recombined with exact rounding:
 *   s >= 17: roundShiftRight(hp + (lp >> 16), s - 16)    (floor(floor(x / 2^16) / 2^k) = floor(x / 2^(16+k)))
 *   s == 16: hp + roundShiftRight(lp, 16)
 *   s <  16: hp * 2^(16-s) + roundShiftRight(lp, s)       (may exceed int32: the caller saturates)
 * This is `((int64_t)a * b + (1 << (s-1))) >> s` in C (SMULL on a Cortex-M3).
 */
export function mul32x16RoundShift(a: number, b: number, s: number): number {
  const hp = Math.imul(a >> 16, b);
  const lp = Math.imul(a & 0xffff, b);
  if (s >= 17) return roundShiftRight(hp + (lp >> 16), s - 16);
  if (s === 16) return hp + roundShiftRight(lp, 16);
  if (s === 0) return hp * 65536 + lp;
  return hp * (1 << (16 - s)) + roundShiftRight(lp, s);
}

/**
 * Wide x int16: round-half-up (v * m) / 2^s for an exact integer v (|v| < 2^53, int64_t in C), m in [-32768, 32768]
 * and s in 20..52. v is split as hi * 2^20 + lo with lo in [0, 2^20); both partial products stay below 2^53 (exact),
 * and for s > 20 floor((hi*m*2^20 + lo*m + 2^(s-1)) / 2^s) = roundShiftRightWide(hi*m + floor(lo*m / 2^20), s - 20)
 * (for s = 20: hi*m + roundShiftRightWide(lo*m, 20)).
 */
export function mulWide16RoundShift(v: number, m: number, s: number): number {
  const hi = Math.floor(v * POW2_NEG[20]);
  const lo = v - hi * 1048576;
  if (s === 20) return hi * m + roundShiftRightWide(lo * m, 20);
  return roundShiftRightWide(hi * m + Math.floor(lo * m * POW2_NEG[20]), s - 20);
}

/** Bit length of an exact integer v in [1, 2^53): the p with 2^(p-1) <= v < 2^p (64 - clz64 in C). */
export function bitLength(v: number): number {
  const hi = Math.floor(v * POW2_NEG[32]);
  return hi > 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(v >>> 0);
}

/**
 * Integer reciprocal of the normalised readout (runtime/ARITHMETIC.md, "Normalised readout"), for an exact Q30 norm
 * n2 = n2hi 2^26 + n2lo in [1, 2^53) (n2hi < 2^27, 0 <= n2lo < 2^26: two small integers, so that no double is boxed
 * for the call): n2 is rounded to a 15-bit mantissa n in [2^14, 2^15) with n2 ~= n 2^(p-15) (round half up; a
 * mantissa that rounds up to 2^15 becomes 2^14 with p + 1), and r = floor((2^29 + floor(n / 2)) / n) in
 * [2^14, 2^15] (the reciprocal rounded to nearest, ties up), so that 2^30 / n2 ~= r 2^(16 - p). Returns the pair
 * packed as p 2^16 + r (no allocation). Relative error of r 2^(16-p) against 2^30 / n2: below 2^-14.
 */
export function nlmsReciprocal(n2hi: number, n2lo: number): number {
  // Written out (bitLength, roundShiftRightWide) so that no double crosses a call: a boxed double per step would
  // allocate in step().
  let p = n2hi > 0 ? 58 - Math.clz32(n2hi) : 32 - Math.clz32(n2lo);
  let n: number;
  if (p > 15) {
    n = Math.floor((n2hi * 67108864 + n2lo) * POW2_NEG[p - 15] + 0.5);
    if (n === 32768) {
      n = 16384;
      p++;
    }
  } else {
    n = n2lo * (1 << (15 - p)); // p <= 15: n2hi = 0
  }
  return p * 65536 + Math.floor((536870912 + (n >> 1)) / n);
}

/**
 * (g z) 2^-s for integers |g| < 2^30, |z| <= 2^15 (so |g z| < 2^45, exact) and s in -17..62: round half up for
 * s > 0 (0 for s >= 46, where |g z| / 2^s < 1/2), an exact left shift for s <= 0 (|result| < 2^62, int64_t in C).
 * The normalised readout's update: g the normalised gain, z an entry of [h; x].
 */
export function mulShiftWide(g: number, z: number, s: number): number {
  const v = g * z;
  if (s > 0) return s >= 46 ? 0 : Math.floor(v * POW2_NEG[s] + 0.5);
  return v * POW2_POS[-s] + 0; // + 0: no -0 from g = 0, z < 0
}

/**
 * A positive real scale (a learning rate) as mantissa m in [2^14, 2^15) and exponent k: scale ~= m * 2^-k.
 * Plan-time helper (uses float64 freely). scale 0 gives {m: 0, k: minK}.
 */
export interface Scale {
  m: number;
  k: number;
}
export function toScale(x: number, minK = 16): Scale {
  if (x === 0) return { m: 0, k: minK };
  let k = 0;
  while (x * 2 ** k < 16384) k++;
  while (x * 2 ** k >= 32768) k--;
  let m = Math.round(x * 2 ** k);
  if (m === 32768) {
    m = 16384;
    k--;
  }
  return { m, k };
}

/** round(x 2^f), half up, as a float64 integer; NaN for NaN (callers decide what NaN means). No saturation. */
export function roundToFixed(x: number, f: number): number {
  return Math.floor(x * 2 ** f + 0.5);
}

/**
 * Float to an int16 fixed-point input with f fractional bits (the learner's x and target): round half up, saturated
 * (counted in counts[satIdx]); NaN becomes 0, counted in counts[invalidIdx].
 */
export function quantizeCount(x: number, f: number, counts: Uint32Array, satIdx: number, invalidIdx: number): number {
  // The table's exact 2^f (a call of Math.pow per value otherwise: V8 does not fold 2 ** f for a variable f).
  const v = Math.floor(x * (f >= 0 && f < 18 ? POW2_POS[f] : 2 ** f) + 0.5);
  if (v !== v) {
    counts[invalidIdx]++;
    return 0;
  }
  return saturate16Count(v, counts, satIdx);
}

/**
 * Float weight to a Q7.24 int32 kept at f fractional bits (f = 24 - drop): round(x 2^f) half up, saturated to
 * [-2^(31-drop), 2^(31-drop) - 1] (counted in counts[idx]), then times 2^drop. NaN becomes 0 (not counted).
 */
export function toWeightCount(x: number, f: number, drop: number, counts: Uint32Array, idx: number): number {
  const lim = 2 ** (31 - drop);
  let q = Math.floor(x * 2 ** f + 0.5);
  if (q !== q) q = 0;
  if (q >= lim || q < -lim) {
    counts[idx]++;
    q = q > 0 ? lim - 1 : -lim;
  }
  return q * 2 ** drop;
}

/**
 * An integer with `from` fractional bits as int16 with `to` fractional bits: round half up when bits are dropped
 * (roundShiftRight), exact when bits are added; saturated to int16, a clamp counted in counts[idx].
 */
export function requantize16Count(v: number, from: number, to: number, counts: Uint32Array, idx: number): number {
  if (from === to) return saturate16Count(v, counts, idx);
  if (from > to) return saturate16Count(roundShiftRight(v, from - to), counts, idx);
  return saturate16Count(v * 2 ** (to - from), counts, idx);
}

/** Float to fixed with f fractional bits: round half up, saturate to int16; NaN -> 0 (callers count NaN). */
export function toQ16(x: number, f: number): number {
  const v = Math.floor(x * 2 ** f + 0.5);
  if (v !== v) return 0;
  return saturate16(v);
}

/** Float to fixed with f fractional bits in an int32: round half up, saturate; NaN -> 0. */
export function toQ32(x: number, f: number): number {
  const v = Math.floor(x * 2 ** f + 0.5);
  if (v !== v) return 0;
  return saturate32(v);
}
