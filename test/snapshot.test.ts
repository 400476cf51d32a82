import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
// The TypeScript kernels (backend 'js'); test/wasm.test.ts proves the wasm backend writes the same arena.
const JS = { backend: 'js' } as const;
import type { FixedLearner } from '../runtime/learner.ts';
import { crc32, inspectSnapshot, loadSnapshot, saveSnapshot } from '../runtime/snapshot.ts';
import type { LearnerKind } from '../runtime/types.ts';

function make(kind: LearnerKind, direct = false): FixedLearner {
  const N = kind === 'rtrl' ? 6 : 12;
  const w = initWeights({ inputs: 2, hidden: N, outputs: 1, tau: 10, seed: 9 });
  const o = { learner: kind, inputs: 2, hidden: N, outputs: 1, tau: 10, lrRec: 0.05, lrOut: 0.05, update: 'trial', trialLength: 50 } as const;
  return createFixedLearner(direct ? { ...o, direct: true } : o, w, JS);
}

function arenaBytes(l: FixedLearner): Uint8Array {
  return new Uint8Array(l.arena, l.arenaOffset, l.plan.totalBytes);
}

function drive(l: FixedLearner, from: number, to: number): void {
  const out = new Float64Array(1);
  for (let s = from; s < to; s++) {
    l.step([Math.sin(s / 5), Math.cos(s / 8)], [Math.sin(s / 6)], out);
    if ((s + 1) % 50 === 0) l.endTrial();
  }
}

test('crc32 matches the standard check value', (t) => {
  t.is(crc32(new Uint8Array([...'123456789'].map((c) => c.charCodeAt(0)))), 0xcbf43926);
});

for (const kind of ['rtrl', 'rflo', 'snap1', 'output'] as const) {
  test(`${kind}: resuming from a snapshot mid-trial is bit-identical to never having stopped`, (t) => {
    const a = make(kind);
    drive(a, 0, 1025);
    const bytes = saveSnapshot(a);
    const b = loadSnapshot(bytes, 'js');
    drive(a, 1025, 2000);
    drive(b, 1025, 2000);
    t.deepEqual(arenaBytes(b), arenaBytes(a));
    t.is(b.stepCount(), 2000);
    t.deepEqual(b.options, a.options);
  });
}

test('a snapshot with a flipped byte is refused with a checksum message', (t) => {
  const bytes = saveSnapshot(make('rflo'));
  bytes[100] ^= 1;
  t.throws(() => loadSnapshot(bytes), { message: /^snapshot checksum mismatch: stored CRC-32 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}/ });
});

test('a snapshot with the wrong magic, version or size is refused with a clear message', (t) => {
  const good = saveSnapshot(make('output'));
  const m = good.slice();
  m[0] = 0x58;
  t.throws(() => loadSnapshot(m), { message: 'not a neurostream snapshot: magic is "XSNP", expected "NSNP"' });
  const v = good.slice();
  v[4] = 9;
  t.throws(() => loadSnapshot(v), {
    message: 'snapshot version 9 is not supported (this runtime reads versions 1 to 4); save it again with the runtime that wrote it, or update this one',
  });
  t.throws(() => loadSnapshot(good.subarray(0, good.length - 10)), { message: /^snapshot size is \d+ bytes but its header says \d+/ });
  t.throws(() => loadSnapshot(new Uint8Array(5)), { message: /^snapshot too short/ });
});

test('inspectSnapshot describes config, steps and buffers', (t) => {
  const l = make('rflo');
  drive(l, 0, 100);
  const d = inspectSnapshot(saveSnapshot(l));
  t.is(d.version, 1);
  t.is(d.steps, 100);
  t.is(d.config.learner, 'rflo');
  t.is(d.arenaBytes, l.plan.totalBytes);
  t.true(d.buffers.some((b) => b.name === 'P_rec' && b.format === 'Q1.15'));
});

for (const kind of ['rflo', 'output'] as const) {
  test(`${kind} with direct: the snapshot is version 2, carries D and resumes bit-identically`, (t) => {
    const a = make(kind, true);
    drive(a, 0, 1025);
    const bytes = saveSnapshot(a);
    t.is(bytes[4] | (bytes[5] << 8), 2);
    const d = inspectSnapshot(bytes);
    t.is(d.version, 2);
    t.deepEqual(
      d.buffers.filter((b) => b.name === 'D' || b.name === 'acc_D').map((b) => [b.name, b.length, b.format]),
      [['D', 2, 'Q7.24'], ['acc_D', 2, 'Q30 (int64)']],
    );
    t.notDeepEqual([...a.state.D], [0, 0], 'D has learned something');
    const b = loadSnapshot(bytes, 'js');
    t.true(b.options.direct);
    drive(a, 1025, 2000);
    drive(b, 1025, 2000);
    t.deepEqual(arenaBytes(b), arenaBytes(a));
  });
}

test('a learner without direct still writes version 1 snapshots, which earlier runtimes read', (t) => {
  const bytes = saveSnapshot(make('rflo'));
  t.is(bytes[4] | (bytes[5] << 8), 1);
  t.false(inspectSnapshot(bytes).config.direct === true);
});

test('a snapshot whose version disagrees with its config (direct in a version 1 file) is refused', (t) => {
  const bytes = saveSnapshot(make('output', true));
  bytes[4] = 1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  dv.setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
  t.throws(() => loadSnapshot(bytes), { message: /^snapshot version 1 does not match its config \(direct true, normalizedReadout false, accumulateGradient true: version 2 expected\)/ });
});

for (const direct of [false, true]) {
  test(`a learner with the normalised readout${direct ? ' and direct' : ''} writes version 3 snapshots (a version 1 or 2 reader refuses them) and resumes bit-identically`, (t) => {
    const w = initWeights({ inputs: 2, hidden: 12, outputs: 1, tau: 2, seed: 9 });
    const o = { learner: 'rflo', inputs: 2, hidden: 12, outputs: 1, tau: 2, lrRec: 0.01, lrOut: 0.5, update: 'step', trialLength: 1, direct, normalizedReadout: true, readoutEps: 0.01, accumulateGradient: true } as const;
    const a = createFixedLearner(o, w, JS);
    drive(a, 0, 700);
    const bytes = saveSnapshot(a);
    t.is(bytes[4] | (bytes[5] << 8), 3);
    const d = inspectSnapshot(bytes);
    t.is(d.config.normalizedReadout, true);
    t.is(d.config.readoutEps, 0.01);
    const b = loadSnapshot(bytes, 'js');
    t.true(b.options.normalizedReadout);
    drive(a, 700, 1500);
    drive(b, 700, 1500);
    t.deepEqual(arenaBytes(b), arenaBytes(a));
    // The same file labelled version 1 or 2 (what an older runtime would write for this arena) is refused.
    bytes[4] = direct ? 2 : 1;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    dv.setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
    t.throws(() => loadSnapshot(bytes), { message: /normalizedReadout true, accumulateGradient true: version 3 expected/ });
  });
}

test("a 'step' learner without gradient accumulators writes version 4 (config says accumulateGradient false, no acc_* in the arena) and resumes bit-identically", (t) => {
  const w = initWeights({ inputs: 2, hidden: 12, outputs: 1, tau: 4, seed: 9 });
  const o = { learner: 'rflo', inputs: 2, hidden: 12, outputs: 1, tau: 4, lrRec: 0.01, lrOut: 0.05, update: 'step', trialLength: 1, direct: true } as const;
  const a = createFixedLearner(o, w, JS);
  const on = createFixedLearner({ ...o, accumulateGradient: true }, w, JS);
  drive(a, 0, 700);
  const bytes = saveSnapshot(a);
  t.is(bytes[4] | (bytes[5] << 8), 4);
  const d = inspectSnapshot(bytes);
  t.is(d.config.accumulateGradient, false);
  t.false(d.buffers.some((b) => b.name.startsWith('acc_')));
  // acc_W_in 24 + acc_W_rec 144 + acc_b 12 + acc_W_out 12 + acc_D 2 entries of 8 bytes fewer.
  t.is(d.arenaBytes, a.plan.totalBytes);
  t.is(on.plan.totalBytes - a.plan.totalBytes, (24 + 144 + 12 + 12 + 2) * 8);
  const b = loadSnapshot(bytes, 'js');
  t.not(b.options.accumulateGradient, true);
  t.throws(() => b.readGradient({ W_in: new Float64Array(24), W_rec: new Float64Array(144), b: new Float64Array(12), W_out: new Float64Array(12) }), {
    message: /accumulateGradient: true/,
  });
  drive(a, 700, 1500);
  drive(b, 700, 1500);
  t.deepEqual(arenaBytes(b), arenaBytes(a));
  // Labelled version 2 (what an older runtime would expect with direct), the arena without acc_* is refused.
  bytes[4] = 2;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  dv.setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
  t.throws(() => loadSnapshot(bytes), { message: /accumulateGradient false: version 4 expected/ });
});

test("a 'step' snapshot written before version 4 (config without accumulateGradient) loads with its accumulators, as it was saved", (t) => {
  const w = initWeights({ inputs: 2, hidden: 12, outputs: 1, tau: 4, seed: 9 });
  const o = { learner: 'rflo', inputs: 2, hidden: 12, outputs: 1, tau: 4, lrRec: 0.01, lrOut: 0.05, update: 'step', trialLength: 1 } as const;
  const a = createFixedLearner({ ...o, accumulateGradient: true }, w, JS);
  drive(a, 0, 300);
  const bytes = saveSnapshot(a);
  // Version 1 and a config without the key: byte for byte what a runtime before version 4 wrote for this learner.
  t.is(bytes[4] | (bytes[5] << 8), 1);
  t.false(new TextDecoder().decode(bytes).includes('accumulateGradient'));
  const b = loadSnapshot(bytes, 'js');
  t.true(b.options.accumulateGradient);
  t.true(b.plan.buffers.some((x) => x.name === 'acc_W_rec'));
  drive(a, 300, 600);
  drive(b, 300, 600);
  t.deepEqual(arenaBytes(b), arenaBytes(a));
});
