import test from 'ava';
import { plan, formatMemoryTable, DEFAULT_MEMORY_BUDGET, MAX_FAITHFUL_TAU } from '../runtime/plan.ts';
import { roundShiftRight } from '../runtime/fixed.ts';
import type { FixedConfig } from '../runtime/plan.ts';

const base: FixedConfig = {
  learner: 'rflo',
  inputs: 4,
  hidden: 32,
  outputs: 2,
  tau: 10,
  lrRec: 0.03,
  lrOut: 0.03,
  update: 'trial',
  trialLength: 200,
};

test('plan refuses tau below 1 naming the field, the value and the range', (t) => {
  t.throws(() => plan({ ...base, tau: 0.5 }), { message: 'tau must be >= 1 (got 0.5)' });
});

test('a number given as a string (tau: \'2\', from a form or a config file) is refused as a string, not as a number out of range, in both engines', async (t) => {
  const str = (v: string): number => v as unknown as number;
  t.throws(() => plan({ ...base, tau: str('2') }), { message: 'tau must be a number >= 1 (got "2", a string)' });
  t.throws(() => plan({ ...base, hidden: str('32') }), { message: 'hidden must be an integer in [1, 65535] (got "32", a string)' });
  t.throws(() => plan({ ...base, lrRec: str('0.03') }), { message: /^lrRec must be a finite number >= 0 \(got "0\.03", a string\)/ });
  const { createFloatLearner } = await import('../sim/reference/index.ts');
  const { initWeights } = await import('../runtime/init.ts');
  const w = initWeights({ inputs: 4, hidden: 32, outputs: 2, tau: 10, seed: 1 });
  t.throws(() => createFloatLearner({ ...base, tau: str('10') }, w), { message: /^tau must be a finite number >= 1 \(got "10", a string\)/ });
});

test('plan refuses non-integer or non-positive sizes', (t) => {
  t.throws(() => plan({ ...base, hidden: 0 }), { message: 'hidden must be an integer in [1, 65535] (got 0)' });
  t.throws(() => plan({ ...base, outputs: 1.5 }), { message: 'outputs must be an integer in [1, 65535] (got 1.5)' });
  t.throws(() => plan({ ...base, inputs: -1 }), { message: 'inputs must be an integer in [0, 65535] (got -1)' });
  t.throws(() => plan({ ...base, trialLength: 70000 }), { message: 'trialLength must be an integer in [1, 65536] (got 70000)' });
});

test('plan refuses learning rates that Q-format cannot represent, giving the valid range', (t) => {
  const e = t.throws(() => plan({ ...base, lrRec: 200, trialLength: 1 }));
  t.regex(e!.message, /^lrRec must be 0 or in \[.+, .+\] to be representable \(got 200\)/);
  const e2 = t.throws(() => plan({ ...base, lrRec: 200, trialLength: 7 }));
  t.regex(e2!.message, /^lrRec \/ trialLength must be 0 or in \[.+, .+\] to be representable \(got lrRec = 200, trialLength = 7/);
  t.throws(() => plan({ ...base, lrOut: -1 }), { message: 'lrOut must be a finite number >= 0 (got -1)' });
});

test('plan refuses an unknown learner, update mode or feedback', (t) => {
  t.throws(() => plan({ ...base, learner: 'lstm' as never }), { message: /^learner must be one of rtrl, rflo, snap1, output \(got lstm\)/ });
  t.throws(() => plan({ ...base, update: 'batch' as never }), { message: "update must be 'step' or 'trial' (got batch)" });
});

test('the memory report gives the exact bytes of every buffer and the arena adds only 8-byte alignment', (t) => {
  const p = plan(base);
  const N = 32, M = 4, O = 2;
  const by = Object.fromEntries(p.buffers.map((b) => [b.name, b]));
  t.is(by.W_rec.bytes, N * N * 4);
  t.is(by.W_rec_q12.bytes, N * N * 2);
  t.is(by.P_rec.bytes, N * N * 2);
  t.is(by.P_in.bytes, N * M * 2);
  t.is(by.acc_W_rec.bytes, N * N * 8);
  t.is(by.W_out.bytes, O * N * 4);
  t.is(by.x.bytes, M * 2);
  let end = 0;
  for (const b of p.buffers) {
    t.is(b.offset % 8, 0);
    t.true(b.offset >= end, `${b.name} overlaps`);
    end = b.offset + b.bytes;
  }
  t.is(p.dataBytes, p.buffers.reduce((s, b) => s + b.bytes, 0));
  t.true(p.totalBytes >= end && p.totalBytes - end < 8);
  t.false('S' in by);
});

test('RTRL memory grows as N^3 and a plan over the budget is refused saying how much it needs', (t) => {
  const r = (N: number) => plan({ ...base, learner: 'rtrl', hidden: N, memoryBudget: 2 ** 40 });
  const s16 = r(16).buffers.find((b) => b.name === 'S')!;
  t.is(s16.bytes, 16 * (16 * 16 + 16 * 4 + 16) * 4);
  const need = r(256).totalBytes;
  t.true(need > DEFAULT_MEMORY_BUDGET);
  t.throws(() => plan({ ...base, learner: 'rtrl', hidden: 256 }), {
    message: new RegExp(`^rtrl with hidden = 256, inputs = 4, outputs = 2 needs ${need} bytes .*over memoryBudget = ${DEFAULT_MEMORY_BUDGET} bytes`),
  });
  t.throws(() => plan({ ...base, learner: 'rtrl', hidden: 16, memoryBudget: 1000 }), { message: /needs \d+ bytes .* over memoryBudget = 1000 bytes/ });
});

test('formatMemoryTable lists every buffer and the total', (t) => {
  const p = plan(base);
  const s = formatMemoryTable(p);
  for (const b of p.buffers) t.regex(s, new RegExp(`^${b.name}\\s`, 'm'));
  t.regex(s, new RegExp(`total ${p.totalBytes} bytes`));
});

test('plan warns about a tau whose state updates round away, naming the largest faithful value', (t) => {
  const w = plan({ ...base, tau: 22000 }).warnings;
  t.is(w.length, 1);
  t.regex(w[0], /^tau = 22000 is not faithful in fixed point: a = round\(2\^15\/tau\) = 1 .* largest faithful value is tau = 2114/);
  t.deepEqual(plan({ ...base, tau: MAX_FAITHFUL_TAU }).warnings, []);
  t.is(plan({ ...base, tau: MAX_FAITHFUL_TAU + 1 }).warnings.length, 1);
  // What the warning is about: h += round(a (d - h) / 2^15) driven toward d from 0 for tau steps, against the float
  // h += (d - h) / tau. At the largest faithful tau the fixed state is within 10% of the float one for drives down to
  // 0.1; at tau 22000 it is far short.
  const ratio = (tau: number, d: number): number => {
    const a = Math.round(32768 / tau);
    const dq = Math.round(d * 32768);
    let h = 0;
    let hf = 0;
    for (let i = 0; i < tau; i++) {
      h += roundShiftRight(Math.imul(a, dq - h), 15);
      hf += (d - hf) / tau;
    }
    return h / 32768 / hf;
  };
  for (const d of [0.1, 0.25, 0.5, 1]) {
    const r = ratio(MAX_FAITHFUL_TAU, d);
    t.true(Math.abs(r - 1) < 0.1, `tau ${MAX_FAITHFUL_TAU}, drive ${d}: fixed/float ${r}`);
  }
  t.true(ratio(22000, 0.5) < 0.5, `tau 22000: fixed/float ${ratio(22000, 0.5)}`);
});

test('direct adds D (O x M, Q7.24) and its Q30 accumulator and leaves every other buffer where it was', (t) => {
  const off = plan(base);
  const on = plan({ ...base, direct: true });
  t.true(on.options.direct);
  t.false('direct' in off.options, 'a plan without D carries no direct key (its snapshots stay version 1)');
  const D = on.buffers.find((b) => b.name === 'D')!;
  const accD = on.buffers.find((b) => b.name === 'acc_D')!;
  t.deepEqual([D.type, D.length, D.format, D.bytes], ['i32', 2 * 4, 'Q7.24', 32]);
  t.deepEqual([accD.type, accD.length, accD.format, accD.bytes], ['f64', 2 * 4, 'Q30 (int64)', 64]);
  t.is(on.totalBytes, off.totalBytes + 32 + 64);
  t.deepEqual(
    on.buffers.filter((b) => b.name !== 'D' && b.name !== 'acc_D').map((b) => [b.name, b.bytes]),
    off.buffers.map((b) => [b.name, b.bytes]),
  );
  t.false(off.buffers.some((b) => b.name === 'D' || b.name === 'acc_D'));
  t.is(on.shifts.outDirect, on.shifts.out - 3);
  t.regex(formatMemoryTable(on), /direct \(y = W_out h \+ D x\)/);
});

test('plan refuses the float-only recurrent bound by name rather than ignoring it', (t) => {
  t.throws(() => plan({ ...base, direct: 'yes' as unknown as boolean }), { message: 'direct must be true or false (got yes)' });
  t.throws(() => plan({ ...base, maxRecStep: 0.05 }), { message: /^maxRecStep \(the recurrent update bound\) is not in the fixed-point runtime yet/ });
});

test('the normalised readout: plan states the stable range of lrOut (NLMS, 0 < mu < 2), the eps range, and needs step updates', (t) => {
  const nl: FixedConfig = { ...base, update: 'step', trialLength: 1, lrOut: 0.5, normalizedReadout: true };
  const p = plan(nl);
  t.is(p.options.readoutEps, 1e-3, 'the default eps is written into the options (and so into snapshots)');
  t.is(p.readoutEpsQ30, Math.round(1e-3 * 2 ** 30));
  // Up to just below 2 is accepted (k down to 14); the plain delta rule keeps its range (below 1/2).
  t.is(plan({ ...nl, lrOut: 1.99 }).etaOut.k, 14);
  t.throws(() => plan({ ...nl, normalizedReadout: false, lrOut: 1.99 }), { message: /^lrOut must be 0 or in \[.*, 4\.999e-1\]/ });
  t.throws(() => plan({ ...nl, lrOut: 2 }), {
    message: 'lrOut must be below 2 with normalizedReadout: the normalised (NLMS) readout step is mean-square stable only for 0 < lrOut < 2 (Haykin, Adaptive Filter Theory); 0.1-1 is usual (got lrOut = 2)',
  });
  t.throws(() => plan({ ...nl, lrOut: 1000, trialLength: 100 }), { message: /^lrOut \/ trialLength must be below 2 with normalizedReadout: .* 0 < lrOut \/ trialLength < 2 .*trialLength = 100\)$/ });
  t.throws(() => plan({ ...nl, update: 'trial' }), { message: /^normalizedReadout needs update 'step'/ });
  t.throws(() => plan({ ...nl, readoutEps: 0 }), { message: /^readoutEps must be a number in \[2\^-30, 1\]/ });
  t.throws(() => plan({ ...nl, readoutEps: 2 }), { message: /^readoutEps must be a number in \[2\^-30, 1\]/ });
  t.throws(() => plan({ ...base, readoutEps: 0.01 }), { message: /^readoutEps is the normalised readout's eps/ });
  // The normalised readout does not change the arena.
  t.deepEqual(plan({ ...nl, lrOut: 0.3, direct: true }).buffers, plan({ ...nl, lrOut: 0.3, direct: true, normalizedReadout: false }).buffers);
});
