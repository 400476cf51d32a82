import test from 'ava';
import { plan, formatMemoryTable, DEFAULT_MEMORY_BUDGET } from '../runtime/plan.ts';
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

test('plan refuses non-integer or non-positive sizes', (t) => {
  t.throws(() => plan({ ...base, hidden: 0 }), { message: 'hidden must be an integer in [1, 65535] (got 0)' });
  t.throws(() => plan({ ...base, outputs: 1.5 }), { message: 'outputs must be an integer in [1, 65535] (got 1.5)' });
  t.throws(() => plan({ ...base, inputs: -1 }), { message: 'inputs must be an integer in [0, 65535] (got -1)' });
  t.throws(() => plan({ ...base, trialLength: 70000 }), { message: 'trialLength must be an integer in [1, 65536] (got 70000)' });
});

test('plan refuses learning rates that Q-format cannot represent, giving the valid range', (t) => {
  const e = t.throws(() => plan({ ...base, lrRec: 200, trialLength: 1 }));
  t.regex(e!.message, /^lrRec \/ trialLength must be 0 or in \[.+, .+\] to be representable \(got lrRec = 200/);
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

test('plan refuses the float-only readout options by name rather than ignoring them', (t) => {
  t.throws(() => plan({ ...base, direct: 'yes' as unknown as boolean }), { message: 'direct must be true or false (got yes)' });
  t.throws(() => plan({ ...base, normalizedReadout: true }), { message: /^normalizedReadout \(normalised readout steps\) is not in the fixed-point runtime yet/ });
  t.throws(() => plan({ ...base, maxRecStep: 0.05 }), { message: /^maxRecStep \(the recurrent update bound\) is not in the fixed-point runtime yet/ });
});
