// Bad readings on the live path (issue "Bad input, as a kind", kinds 2 and 4): a board streams glitches and failed
// reads to the host session; the learning loop holds what it cannot trust, learns nothing from a bad target, counts
// both, and is afterwards exactly the learner that never saw them.
import test from 'ava';
import { Session } from '../firmware-bridge/session.ts';
import { createInProcessBoard } from '../sim/board/index.ts';
import { SyntheticSignal } from '../sim/board/signals.ts';
import type { SampleSource } from '../firmware-bridge/source.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { MISSING_VALUE } from '../firmware-bridge/protocol.ts';
import { GUARD_WARMUP } from '../firmware-bridge/learning-loop.ts';

const opts = { learner: 'rflo', inputs: 3, hidden: 16, outputs: 1, tau: 4, lrRec: 0.002, lrOut: 0.01, update: 'step', trialLength: 1 } as const;
const weights = () => initWeights({ inputs: 3, hidden: 16, outputs: 1, tau: 4, seed: 5, gain: 1.2 });
const SAMPLES = 4000;

// Where the stream goes bad (sample indices): absurd readings the board saturates to full scale (after the guard's
// warm-up: the stream starts at 0), and failed reads.
const inputGlitch = (n: number): number => (n < GUARD_WARMUP + 50 ? -1 : n % 397 === 200 ? 0 : n % 509 === 300 ? 1 : -1); // channel or -1
const targetGlitch = (n: number): boolean => n > GUARD_WARMUP + 50 && n % 601 === 450;
const inputFails = (n: number): boolean => n % 113 === 50; // channel 2 reads NaN
const targetFails = (n: number): boolean => n % 89 === 40;

/** The synthetic signal with the bad readings put in (bad = false: the clean signal). */
class BadSource implements SampleSource {
  readonly channels = 3;
  readonly outputs = 1;
  private readonly s = new SyntheticSignal({ channels: 3, outputs: 1, rateHz: 4000, seed: 3, driftEvery: 1000 });
  constructor(private readonly bad: boolean) {}
  sample(n: number, x: Float64Array, target: Float64Array): void {
    this.s.sample(n, x, target);
    if (!this.bad) return;
    const g = inputGlitch(n);
    if (g === 0) x[0] = 1e200;
    if (g === 1) x[1] = -1e200;
    if (targetGlitch(n)) target[0] = 1e200;
    if (inputFails(n)) x[2] = NaN;
    if (targetFails(n)) target[0] = NaN;
  }
}

const q12 = (v: number): number => Math.max(-32768, Math.min(32767, Math.round(v * 4096)));

/** Streams SAMPLES samples of the bad source from a virtual board into a session; returns what the host did. */
async function live(outlier?: number) {
  const board = await createInProcessBoard({ source: new BadSource(true), rateHz: 4000, maxSamples: SAMPLES });
  const learner = createFixedLearner(opts, weights());
  const seqs: number[] = [];
  const session = new Session({ transport: board.transport, learner, config: { inputs: 3, outputs: 1, rateHz: 4000 }, startSeq: 0, outlier, onStep: (seq) => seqs.push(seq) });
  try {
    await session.start();
    while (board.board.generated < SAMPLES || session.stats.expectedSeq < SAMPLES) await new Promise((r) => setTimeout(r, 10));
    await session.idle();
  } finally {
    await session.stop();
    await board.stop();
  }
  return { learner, seqs, loop: session.loop, stats: session.stats };
}

/** The learner stepped directly on the clean signal, with the bad readings marked missing: what the policy promises. */
function twinOf(seqs: number[]) {
  const l = createFixedLearner(opts, weights());
  const clean = new BadSource(false);
  const x = new Float64Array(3);
  const tg = new Float64Array(1);
  const xq = new Int16Array(3);
  const tq = new Int16Array(1);
  const yq = new Int16Array(1);
  const mask = new Uint8Array(3);
  for (const n of seqs) {
    clean.sample(n, x, tg);
    for (let j = 0; j < 3; j++) xq[j] = q12(x[j]);
    tq[0] = q12(tg[0]);
    mask.fill(0);
    if (inputGlitch(n) >= 0) mask[inputGlitch(n)] = 1;
    if (inputFails(n)) mask[2] = 1;
    const noTarget = targetGlitch(n) || targetFails(n);
    l.stepQ(xq, noTarget ? null : tq, yq, mask.some((v) => v) ? mask : null, noTarget);
  }
  return l;
}

const arena = (l: ReturnType<typeof createFixedLearner>) => new Uint8Array(l.arena, l.arenaOffset, l.plan.totalBytes);

test('a board streaming full-scale glitches and failed reads: each is held or not learned from, counted, and the learner equals one that never saw them', async (t) => {
  const r = await live();
  const { seqs, loop } = r;
  t.is(seqs.length, SAMPLES);
  t.is(seqs[0], 0);
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1] + 1) return t.fail(`seq ${seqs[i - 1]} then ${seqs[i]}`);
  let glitches = 0;
  let fails = 0;
  let tGlitches = 0;
  let tFails = 0;
  for (const n of seqs) {
    if (inputGlitch(n) >= 0) glitches++;
    if (inputFails(n)) fails++;
    if (targetFails(n)) tFails++;
    else if (targetGlitch(n)) tGlitches++;
  }
  t.true(glitches >= 5 && fails >= 10 && tGlitches >= 2 && tFails >= 10, `${glitches} ${fails} ${tGlitches} ${tFails}`);
  t.log(`${seqs.length} samples: ${loop.inputOutliers} input and ${loop.targetOutliers} target outliers rejected, ${loop.inputsMissing} inputs and ${loop.targetsMissing} targets marked missing`);
  // the guard rejected every glitch and nothing else; every failed read arrived as a MISSING mark
  t.is(loop.inputOutliers, glitches);
  t.is(loop.targetOutliers, tGlitches);
  t.is(loop.inputsMissing, fails);
  t.is(loop.targetsMissing, tFails);
  const sat = r.learner.saturation();
  t.is(sat.x_invalid, glitches + fails);
  t.is(sat.target_invalid, tGlitches + tFails);
  // nothing poisoned: bit for bit the learner stepped on the clean signal with those readings marked missing
  t.deepEqual(arena(r.learner), arena(twinOf(seqs)));
  t.true(Number.isFinite(r.stats.nmse), `running NMSE ${r.stats.nmse}`);
});

test('without the guard the same glitches reach the learner: it is no longer the clean twin (the check above can fail)', async (t) => {
  const r = await live(Infinity);
  t.is(r.loop.inputOutliers + r.loop.targetOutliers, 0);
  t.is(r.loop.inputsMissing > 0 && r.loop.targetsMissing > 0, true, 'failed reads are still marked missing');
  t.notDeepEqual(arena(r.learner), arena(twinOf(r.seqs)));
});

test('the virtual board sends a failed read as MISSING_VALUE with the MISSING flag, and a real -32768 beside it as -32767', async (t) => {
  // One channel fails while another reads full negative scale: the two must stay apart on the wire.
  const source: SampleSource = {
    channels: 2,
    outputs: 1,
    sample(n, x, target) {
      x[0] = n % 2 === 0 ? NaN : 0.25;
      x[1] = -100; // saturates to -32768
      target[0] = n % 3 === 0 ? NaN : 0.5;
    },
  };
  const board = await createInProcessBoard({ source, rateHz: 2000, maxSamples: 200 });
  const got: { x: number[]; held: number; t: number | null }[] = [];
  const session = new Session({
    transport: board.transport,
    learner: null,
    config: { inputs: 2, outputs: 1, rateHz: 2000 },
    startSeq: 0,
    outlier: Infinity,
    onStep: (seq, x, target) => got.push({ x: [x[0], x[1]], held: seq, t: target ? target[0] : null }),
  });
  try {
    await session.start();
    while (session.stats.expectedSeq < 200) await new Promise((r) => setTimeout(r, 10));
    await session.idle();
  } finally {
    await session.stop();
    await board.stop();
  }
  t.is(got.length, 200);
  for (const g of got) {
    const n = g.held;
    if (n % 2 === 0) {
      t.true(Number.isNaN(g.x[0]), `seq ${n}: channel 0 held`);
      t.is(g.x[1], -32767 / 4096, `seq ${n}: a real -32768 in a sample with a missing reading goes out as -32767`);
    } else {
      t.is(g.x[0], 0.25);
      t.is(g.x[1], MISSING_VALUE / 4096, `seq ${n}: without the flag -32768 is a reading`);
    }
    t.is(g.t, n % 3 === 0 ? null : 0.5);
  }
  t.is(session.loop.inputsMissing, got.filter((g) => g.held % 2 === 0).length);
  t.is(session.loop.targetsMissing, got.filter((g) => g.held % 3 === 0).length);
});
