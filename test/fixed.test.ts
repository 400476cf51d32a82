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
