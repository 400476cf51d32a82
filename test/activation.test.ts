import test from 'ava';
import { dtanhQ15, tanhQ15, TANH_TABLE } from '../runtime/activation.ts';

// Documented in runtime/activation.ts and ARITHMETIC.md (measured: 0.998 and 2.23 LSB).
const TANH_MAX_LSB = 1.0;
const DTANH_MAX_LSB = 2.25;

test('every tanh table entry is tanh(i/128) rounded to Q1.15 (saturated at 32767)', (t) => {
  for (let i = 0; i < TANH_TABLE.length; i++) {
    const want = Math.min(32767, Math.floor(Math.tanh(i / 128) * 32768 + 0.5));
    if (TANH_TABLE[i] !== want) t.fail(`entry ${i}: ${TANH_TABLE[i]} != ${want}`);
  }
  t.is(TANH_TABLE.length, 1025);
});

test('tanhQ15 is within 1 LSB of tanh for every Q12 input in [-8.5, 8.5], and odd', (t) => {
  let worst = 0;
  let at = 0;
  for (let u = -34816; u <= 34816; u++) {
    const q = tanhQ15(u);
    const err = Math.abs(q / 32768 - Math.tanh(u / 4096)) * 32768;
    if (err > worst) {
      worst = err;
      at = u;
    }
    if (q !== -tanhQ15(-u)) t.fail(`not odd at ${u}`);
  }
  t.log(`max tanh error ${worst.toFixed(3)} LSB at u = ${at / 4096}`);
  t.true(worst <= TANH_MAX_LSB, `max error ${worst} LSB at u=${at}`);
});

test('tanhQ15 is monotone and saturates at +-32767 beyond |u| = 8', (t) => {
  let prev = tanhQ15(-40000);
  for (let u = -39999; u <= 40000; u++) {
    const q = tanhQ15(u);
    if (q < prev) t.fail(`decreases at ${u}`);
    prev = q;
  }
  t.is(tanhQ15(2 ** 30), 32767);
  t.is(tanhQ15(-(2 ** 30)), -32767);
});

test('dtanhQ15 of tanhQ15 is within 2.25 LSB of 1 - tanh^2 for every Q12 input in [-8.5, 8.5]', (t) => {
  let worst = 0;
  for (let u = -34816; u <= 34816; u++) {
    const d = dtanhQ15(tanhQ15(u));
    const f = Math.tanh(u / 4096);
    const err = Math.abs(d / 32768 - (1 - f * f)) * 32768;
    if (err > worst) worst = err;
    if (d < 0 || d > 32768) t.fail(`out of [0, 32768] at ${u}`);
  }
  t.log(`max derivative error ${worst.toFixed(3)} LSB`);
  t.true(worst <= DTANH_MAX_LSB);
  t.is(dtanhQ15(0), 32768);
});
