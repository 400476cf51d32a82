import test from 'ava';
import {
  mul32x16RoundShift,
  mulQ15,
  mulWide16RoundShift,
  roundShiftRight,
  roundShiftRightWide,
  saturate16,
  saturate16Count,
  saturate32,
  saturate32Count,
  toScale,
  bitLength,
  nlmsReciprocal,
  mulShiftWide,
} from '../runtime/fixed.ts';
import { createRng, rngNextU32 } from '../runtime/rng.ts';

/** Exact floor((a*b + 2^(s-1)) / 2^s) with BigInt: the specification the helpers must match bit for bit. */
function refRound(a: bigint, b: bigint, s: number): number {
  const p = a * b;
  if (s === 0) return Number(p);
  const half = 1n << BigInt(s - 1);
  const q = p + half;
  const d = 1n << BigInt(s);
  // BigInt division truncates toward zero; floor it.
  let r = q / d;
  if (q < 0n && r * d !== q) r -= 1n;
  return Number(r);
}

test('saturate16 clamps to int16 and leaves values inside unchanged', (t) => {
  t.is(saturate16(32768), 32767);
  t.is(saturate16(-32769), -32768);
  t.is(saturate16(1234), 1234);
  t.is(saturate16(-32768), -32768);
});

test('saturate32 clamps wide integers to int32', (t) => {
  t.is(saturate32(2 ** 40), 2147483647);
  t.is(saturate32(-(2 ** 40)), -2147483648);
  t.is(saturate32(-5), -5);
});

test('counting saturators increment their counter only when they clamp', (t) => {
  const c = new Uint32Array(2);
  t.is(saturate16Count(40000, c, 0), 32767);
  t.is(saturate16Count(-40000, c, 0), -32768);
  t.is(saturate16Count(100, c, 0), 100);
  t.is(saturate32Count(2 ** 33, c, 1), 2147483647);
  t.is(saturate32Count(7, c, 1), 7);
  t.deepEqual([...c], [2, 1]);
});

test('roundShiftRight rounds half up, including negative ties, without overflowing near int32 limits', (t) => {
  t.is(roundShiftRight(3, 1), 2); // 1.5 -> 2
  t.is(roundShiftRight(-3, 1), -1); // -1.5 -> -1 (half up)
  t.is(roundShiftRight(5, 2), 1); // 1.25 -> 1
  t.is(roundShiftRight(6, 2), 2); // 1.5 -> 2
  t.is(roundShiftRight(-6, 2), -1); // -1.5 -> -1
  t.is(roundShiftRight(-7, 2), -2); // -1.75 -> -2
  t.is(roundShiftRight(2147483647, 1), 1073741824);
  t.is(roundShiftRight(-2147483648, 31), -1);
  const rng = createRng(3);
  for (let i = 0; i < 20000; i++) {
    const v = rngNextU32(rng) | 0;
    const s = 1 + (rngNextU32(rng) % 31);
    t.is(roundShiftRight(v, s), refRound(BigInt(v), 1n, s), `v=${v} s=${s}`);
  }
});

test('roundShiftRightWide matches exact rounding for integers up to 2^52', (t) => {
  const rng = createRng(4);
  for (let i = 0; i < 20000; i++) {
    const v = (rngNextU32(rng) | 0) * 2 ** 20 + (rngNextU32(rng) % 2 ** 20);
    const s = rngNextU32(rng) % 40;
    t.is(roundShiftRightWide(v, s), refRound(BigInt(v), 1n, s), `v=${v} s=${s}`);
  }
  t.is(roundShiftRightWide(-3, 1), -1);
  t.is(roundShiftRightWide(3, 1), 2);
});

test('mulQ15 rounds half up and saturates only -1 x -1', (t) => {
  t.is(mulQ15(-32768, -32768), 32767);
  t.is(mulQ15(16384, 16384), 8192);
  t.is(mulQ15(-32768, 32767), -32767);
  t.is(mulQ15(1, 16384), 1); // 0.5 LSB -> 1
  t.is(mulQ15(-1, 16384), 0); // -0.5 LSB -> 0
});

test('mul32x16RoundShift equals the exact 48-bit product rounded half up for every shift 0..47', (t) => {
  const rng = createRng(5);
  const edges = [2147483647, -2147483648, 0, 1, -1, 65535, -65536];
  const bEdges = [32768, -32768, 32767, 1, -1, 0];
  let n = 0;
  for (let s = 0; s <= 47; s++) {
    for (const a of edges) for (const b of bEdges) {
      t.is(mul32x16RoundShift(a, b, s), refRound(BigInt(a), BigInt(b), s), `a=${a} b=${b} s=${s}`);
      n++;
    }
    for (let i = 0; i < 2000; i++) {
      const a = rngNextU32(rng) | 0;
      const b = (rngNextU32(rng) % 65537) - 32768;
      const got = mul32x16RoundShift(a, b, s);
      const want = refRound(BigInt(a), BigInt(b), s);
      if (got !== want) t.fail(`first mismatch at a=${a} b=${b} s=${s}: ${got} != ${want}`);
      n++;
    }
  }
  t.true(n > 90000);
});

test('mulWide16RoundShift equals the exact product of a wide integer and an int16 rounded half up', (t) => {
  const rng = createRng(6);
  for (let i = 0; i < 20000; i++) {
    const v = (rngNextU32(rng) | 0) * 2 ** 16 + (rngNextU32(rng) % 65536);
    const m = (rngNextU32(rng) % 65537) - 32768;
    const s = 20 + (rngNextU32(rng) % 33);
    const got = mulWide16RoundShift(v, m, s);
    const want = refRound(BigInt(v), BigInt(m), s);
    if (got !== want) t.fail(`first mismatch at v=${v} m=${m} s=${s}: ${got} != ${want}`);
  }
  t.pass();
});

test('toScale represents a learning rate as a 15-bit mantissa and exponent within half an LSB', (t) => {
  for (const x of [1.5e-4, 5e-4, 0.03, 0.1 / 200, 2 ** -20, 0.25]) {
    const { m, k } = toScale(x);
    t.true(m >= 16384 && m < 32768, `m=${m}`);
    t.true(Math.abs(m * 2 ** -k - x) <= 2 ** -(k + 1), `x=${x}`);
  }
});

/** A random exact integer in [1, 2^53) with a random bit length (every exponent of the normalised readout's norm). */
function randomNorm(rng: Uint32Array): bigint {
  const bits = 1 + (rngNextU32(rng) % 53);
  let v = (BigInt(rngNextU32(rng)) << 32n) | BigInt(rngNextU32(rng));
  v &= (1n << BigInt(bits)) - 1n;
  return v | (1n << BigInt(bits - 1));
}

test('nlmsReciprocal: p is the bit length, n the mantissa rounded half up, r = floor((2^29 + floor(n/2)) / n), and r 2^(16-p) is 2^30 / n2 within 2^-13', (t) => {
  const rng = createRng(53);
  const values: bigint[] = [1n, 2n, 3n, 16383n, 16384n, 32767n, 32768n, 65535n, 65536n, (1n << 53n) - 1n, (1n << 30n) + 1n];
  for (let b = 15; b < 53; b++) values.push((1n << BigInt(b)) - 1n, (1n << BigInt(b)) - (1n << BigInt(b - 16))); // mantissa rounding up to 2^15
  for (let i = 0; i < 20000; i++) values.push(randomNorm(rng));
  let worst = 0;
  for (const v of values) {
    const n2 = Number(v);
    let p = v.toString(2).length;
    t.is(bitLength(n2), p);
    let n: bigint;
    if (p > 15) {
      const sh = BigInt(p - 15);
      n = (v + (1n << (sh - 1n))) >> sh;
      if (n === 32768n) {
        n = 16384n;
        p++;
      }
    } else n = v << BigInt(15 - p);
    const r = ((1n << 29n) + (n >> 1n)) / n;
    const hi = Math.floor(n2 / 2 ** 26);
    const got = nlmsReciprocal(hi, n2 - hi * 2 ** 26);
    t.is(got, p * 65536 + Number(r), `n2 = ${v}`);
    t.true(Number(r) >= 16384 && Number(r) <= 32768);
    const rel = Math.abs((Number(r) * 2 ** (16 - p)) / (2 ** 30 / n2) - 1);
    worst = Math.max(worst, rel);
  }
  t.log(`worst relative error of the reciprocal: ${worst.toExponential(3)}`);
  t.true(worst < 2 ** -13);
});

test('mulShiftWide rounds g z half up for s in 1..45, is 0 for s >= 46 and shifts left exactly for s in -17..0', (t) => {
  const rng = createRng(46);
  const edges = [0, 1, -1, 2 ** 30 - 1, -(2 ** 30) + 1];
  for (let i = 0; i < 20000; i++) {
    const g = i < 25 ? edges[i % 5] : (rngNextU32(rng) & 0x7fffffff) - 2 ** 30; // |g| < 2^30
    const z = i < 25 ? [32767, -32768, 1, -1, 0][Math.floor(i / 5)] : (rngNextU32(rng) & 0xffff) - 32768;
    const s = -17 + (rngNextU32(rng) % 80);
    const v = BigInt(g) * BigInt(z);
    const want = s <= 0 ? Number(v << BigInt(-s)) : refRound(v, 1n, s);
    t.is(mulShiftWide(g, z, s), want, `g = ${g}, z = ${z}, s = ${s}`);
  }
  t.is(mulShiftWide(-(2 ** 30) + 1, 32768, 46), 0);
  t.is(mulShiftWide(2 ** 30 - 1, -32768, 46), 0);
  t.is(mulShiftWide(-(2 ** 29), 32768, 45), 0); // -1/2 rounds up to 0
  t.is(mulShiftWide(2 ** 29, 32768, 45), 1);
});
