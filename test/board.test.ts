import test from 'ava';
import { Session } from '../firmware-bridge/session.ts';
import { SyntheticSignal, hasSocat, hostTransport, startVirtualBoard } from '../sim/board/index.ts';
import { initWeights } from '../runtime/init.ts';
import { createFloatLearner } from '../sim/reference/index.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

test('the synthetic signal is a deterministic function of the sample index', (t) => {
  const a = new SyntheticSignal({ channels: 4, outputs: 2, seed: 9 });
  const b = new SyntheticSignal({ channels: 4, outputs: 2, seed: 9 });
  const xa = new Float64Array(4);
  const xb = new Float64Array(4);
  const ta = new Float64Array(2);
  const tb = new Float64Array(2);
  for (const n of [0, 1, 3999, 4000, 123456, 7]) {
    a.sample(n, xa, ta);
    b.sample(n, xb, tb);
    t.deepEqual(xa, xb, `x at ${n}`);
    t.deepEqual(ta, tb, `target at ${n}`);
  }
});

test('drift events change the signal abruptly at the documented sample indices', (t) => {
  const s = new SyntheticSignal({ channels: 2, outputs: 1, driftEvery: 1000, noise: 0, rateHz: 1000 });
  t.deepEqual(s.driftEventsBefore(3500), [1000, 2000, 3000]);
  t.is(s.regimeOf(999), 0);
  t.is(s.regimeOf(1000), 1);
  // within a regime consecutive samples differ by at most the largest per-sample slope; across a drift they jump
  const x = new Float64Array(2);
  const y = new Float64Array(1);
  const step = (n: number): number => {
    s.sample(n, x, y);
    const a = x[0];
    s.sample(n + 1, x, y);
    return Math.abs(x[0] - a);
  };
  let within = 0;
  for (let n = 0; n < 998; n++) within = Math.max(within, step(n));
  let jumps = 0;
  for (const d of [1000, 2000, 3000, 4000, 5000]) if (step(d - 1) > within) jumps++;
  t.true(jumps >= 3, `${jumps} of 5 drift events jump by more than any within-regime step (${within.toFixed(3)})`);
});

const socat = hasSocat();
// Every test runs over the built-in link (a local socket, Node alone) and over a socat pty (the serial path).
for (const link of ['socket', 'pty'] as const) {
const ptyTest = link === 'socket' || socat ? test : process.env.CI ? test : test.skip;
const why = link === 'socket' || socat ? '' : process.env.CI ? '' : ' (skipped: socat is not installed; apt-get install socat)';
const over = link === 'socket' ? 'a local socket' : 'a pty';
function needSocat(t: { fail(m: string): void }): boolean {
  if (link === 'socket' || socat) return true;
  t.fail('socat is missing but CI is set: install it with apt-get install -y --no-install-recommends socat (.ci/run does)');
  return false;
}

ptyTest(`${over}: twenty unplugs of the link mid-stream: the session reconnects each time and no acknowledged sample is lost or repeated${why}`, async (t) => {
  if (!needSocat(t)) return;
  const board = await startVirtualBoard({ rateHz: 2000, link });
  const seqs: number[] = [];
  const session = new Session({
    transport: hostTransport(board.path),
    learner: null,
    config: { inputs: 3, outputs: 1, rateHz: 2000 },
    helloTimeoutMs: 150,
    heartbeatMs: 100,
    heartbeatTimeoutMs: 500,
    onStep: (seq) => seqs.push(seq),
    onEvent: (e) => events.push(`${Date.now() - t0} ms ${e.type}: ${e.message}`),
  });
  const t0 = Date.now();
  const events: string[] = [];
  try {
    await session.start();
    for (let i = 0; i < 20; i++) {
      const n = seqs.length;
      await until(() => seqs.length > n + 40, 15000, `samples before kill ${i + 1}`);
      const connects = session.stats.connects;
      await board.unplug();
      await sleep(20);
      await board.replug();
      await until(() => session.stats.connects === connects + 1, 30000, `reconnect ${i + 1}`);
    }
    const n = seqs.length;
    await until(() => seqs.length > n + 100, 10000, 'samples after the last reconnect');
  } catch (e) {
    t.log(`session events before the failure:\n${events.slice(-20).join('\n')}`);
    throw e;
  } finally {
    await session.stop();
    await board.stop();
  }
  const st = session.stats;
  let breaks = 0;
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1] + 1) breaks++;
  t.log(`${seqs.length} samples, ${st.reconnects} reconnects, lost ${st.samplesLost}, dropped ${JSON.stringify(st.dropped)}`);
  t.is(st.reconnects, 20);
  t.is(breaks, 0, 'every sample stepped exactly once, in order');
  t.is(st.samplesLost, 0);
  t.true(seqs[seqs.length - 1] + 1 >= st.ackedSeq, 'every acknowledged sample was stepped');
});

ptyTest(`live learning over ${over} from the virtual board: running NMSE falls, and recovers after each drift event${why}`, async (t) => {
  if (!needSocat(t)) return;
  const rateHz = 4000;
  const driftEvery = 8000;
  const board = await startVirtualBoard({ rateHz, driftEvery, channels: 3, outputs: 1, seed: 1, link });
  const shape = { inputs: 3, hidden: 24, outputs: 1 };
  const learner = createFloatLearner(
    { ...shape, learner: 'rflo', tau: 4, lrRec: 0.0006, lrOut: 0.003, update: 'step', trialLength: 1 },
    initWeights({ ...shape, tau: 4, seed: 2, gain: 1.2 }),
  );
  // squared error and target per stepped sample, by seq
  const rec: { seq: number; e2: number; t: number }[] = [];
  const W = 1000;
  const session = new Session({
    transport: hostTransport(board.path),
    learner,
    config: { inputs: 3, outputs: 1, rateHz },
    startSeq: 0, // learn from the board's first sample, however long the start-up took (its buffer holds 4 s)
    onStep: (seq, _x, target, y) => {
      if (target) rec.push({ seq, e2: (target[0] - y[0]) ** 2, t: target[0] });
    },
  });
  let first = 0;
  try {
    await session.start();
    await until(() => rec.length > 0, 5000, 'the first sample');
    first = rec[0].seq;
    // the first drift counted is the first one at least 3 windows after the first sample (start-up time varies)
    const end = Math.ceil((first + 3 * W) / driftEvery) * driftEvery + 3 * driftEvery;
    await until(() => rec.length > 0 && rec[rec.length - 1].seq >= end, 40000, 'three drift events');
  } finally {
    await session.stop();
    await board.stop();
  }
  const nmse = (from: number, to: number): number => {
    let e2 = 0;
    let s = 0;
    let s2 = 0;
    let n = 0;
    for (const r of rec) {
      if (r.seq < from || r.seq >= to) continue;
      e2 += r.e2;
      s += r.t;
      s2 += r.t * r.t;
      n++;
    }
    return e2 / (s2 - (s * s) / n);
  };
  const regime0End = Math.ceil((first + 3 * W) / driftEvery) * driftEvery;
  const start = nmse(first, first + W);
  const settled = nmse(regime0End - W, regime0End);
  t.log(`NMSE first ${W} samples ${start.toFixed(3)}, before the first drift ${settled.toFixed(3)}`);
  t.true(settled < 0.3 * start, 'running NMSE falls');
  for (let k = 1; k <= 3; k++) {
    const d = regime0End + (k - 1) * driftEvery;
    const after = nmse(d, d + W);
    const end = nmse(d + driftEvery - W, d + driftEvery);
    t.log(`drift at ${d}: NMSE just after ${after.toFixed(3)}, at the end of the regime ${end.toFixed(3)}`);
    t.true(end < 0.5 * after, `recovers after the drift at ${d}`);
    t.true(end < 0.15, `back below 0.15 after the drift at ${d}`);
  }
  t.is(session.stats.samplesLost, 0);
});
}
