import test from 'ava';
import { Command } from 'commander';
import { register as registerBoard } from '../sim/commands/board.ts';
import { FIXED_STREAM_DEFAULTS } from '../sim/defaults.ts';
import { register as registerRun, runLive, type RunArgs } from '../sim/commands/run.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModel } from '../sim/modelio.ts';
import { inspectSnapshot } from '../runtime/snapshot.ts';

const base: RunArgs = {
  virtual: true,
  learner: 'rflo',
  engine: 'float',
  inputs: 3,
  outputs: 1,
  rate: 2000,
  seed: 1,
  baud: 115200,
  snapshotEvery: 60,
  driftEvery: 8000,
  progress: false,
};

function io(): { out: string[]; err: string[]; stdout(s: string): void; stderr(s: string): void } {
  const o = { out: [] as string[], err: [] as string[], stdout: (s: string) => o.out.push(s), stderr: (s: string) => o.err.push(s) };
  return o;
}

test('the run and board commands register with their options', (t) => {
  const p = new Command('neurostream');
  registerRun(p);
  registerBoard(p);
  const run = p.commands.find((c) => c.name() === 'run');
  const board = p.commands.find((c) => c.name() === 'board');
  t.truthy(run);
  t.truthy(board);
  const flags = run!.options.map((o) => o.long);
  for (const f of ['--port', '--learner', '--duration', '--json', '--snapshot']) t.true(flags.includes(f), f);
  t.true(board!.options.some((o) => o.long === '--virtual'));
});

test('run without --port or --virtual says how to name the board', async (t) => {
  await t.throwsAsync(runLive({ ...base, virtual: false }, io()), { message: /--port PATH/ });
});

// The built-in virtual board needs nothing but Node (a local socket), so these run everywhere.
const ptyTest = test;
const why = '';

ptyTest(`run --virtual --duration --json prints one summary whose NMSE falls from the first to the last tenth${why}`, async (t) => {
  const o = io();
  // no drift events here: one landing in the last tenth would measure relearning, not this summary
  await runLive({ ...base, duration: 6, json: true, driftEvery: 0 }, o);
  t.is(o.out.length, 1);
  const s = JSON.parse(o.out[0]);
  for (const k of ['samples', 'frames_dropped', 'reconnects', 'nmse_first', 'nmse_last']) t.true(k in s, k);
  t.log(`summary: ${o.out[0].trim()}`);
  t.true(s.samples > 2000, `samples ${s.samples}`);
  t.is(s.frames_dropped, 0);
  t.is(s.reconnects, 0);
  t.true(s.nmse_last < 0.5 * s.nmse_first, `NMSE ${s.nmse_first} -> ${s.nmse_last}`);
  // the outlier guard judges every reading of the board and finds nothing to reject in a clean signal
  t.deepEqual(s.outliers, { inputs: 0, targets: 0 });
  t.deepEqual(s.missing, { inputs: 0, targets: 0 });
});

ptyTest(`an abort (Ctrl-C) ends a run without --duration cleanly, with a summary${why}`, async (t) => {
  const o = io();
  const ac = new AbortController();
  // Ctrl-C once the progress line shows samples stepped (the board may take long to start on a loaded machine)
  const stderr = (x: string): void => {
    o.stderr(x);
    if (/^run: [1-9]\d* samples/m.test(x)) ac.abort();
  };
  const s = await runLive({ ...base, json: true, progress: true }, { ...o, stderr, signal: ac.signal, isTTY: false });
  t.true(s.samples > 0);
  t.is(o.out.length, 1);
});

// Serial: they run before the concurrent board tests, so they add no load to the ones that count dropped frames.
test.serial(`a run whose learner diverges restores its last good state, halves its rates, says so, counts it and goes on to its end${why}`, async (t) => {
  const o = io();
  const ac = new AbortController();
  let diverged = false;
  // Ctrl-C at the first progress line after the divergence line (duration 120 s only caps a run that never diverges)
  const stderr = (x: string): void => {
    o.stderr(x);
    if (/^run: rflo diverged/m.test(x)) diverged = true;
    else if (diverged && /^run: [1-9]\d* samples/m.test(x)) ac.abort();
  };
  const s = await runLive(
    { ...base, engine: 'fixed', tau: 1, lrOut: 0.45, lrRec: 0.45, normalized: false, direct: false, duration: 120, json: true, progress: true },
    { ...o, stderr, signal: ac.signal, isTTY: false },
  );
  const err = o.err.join('');
  t.log(err.split('\n').filter((l) => /diverged/.test(l))[0]);
  t.regex(err, /^run: rflo diverged \((exploded|saturated|weights)\) at sample \d+: .+; restored its last good state .+ and halved the learning rates: lr_rec 0\.225, lr_out 0\.225 \(divergence 1\); learning goes on$/m);
  t.is(o.out.length, 1, 'the run ended with its summary');
  t.true(s.divergences >= 1 && s.divergence_events.length === s.divergences, `${s.divergences} divergences`);
  t.is(s.divergence_events[0].lr_rec, 0.225);
  t.is(s.lr_rec, 0.45 / 2 ** s.divergences);
  t.is(s.lr_out, 0.45 / 2 ** s.divergences);
  t.true(s.samples > s.divergence_events[s.divergences - 1].at + 100, `went on: ${s.samples} samples, last divergence at ${s.divergence_events[s.divergences - 1].at}`);
  t.deepEqual(JSON.parse(o.out[0]).divergence_events, s.divergence_events);
});

test.serial(`run shows persistence and NLMS-AR p8 beside the learner, live and in the summary, and which leads${why}`, async (t) => {
  const o = io();
  const ac = new AbortController();
  const stderr = (x: string): void => {
    o.stderr(x);
    if (/^run: [1-9]\d* samples/m.test(x)) ac.abort();
  };
  const s = await runLive({ ...base, json: true, progress: true }, { ...o, stderr, signal: ac.signal, isTTY: false });
  t.regex(o.err.join(''), /^run: \d+ samples, \d+ samples\/s, NMSE [\d.e+-]+ \(persistence [\d.e+-]+, NLMS-AR p8 [\d.e+-]+; leading: (rflo|persistence|NLMS-AR p8)\), dropped/m);
  t.true(s.persistence_nmse !== null && s.persistence_nmse > 0 && s.linear_nmse !== null && s.linear_nmse > 0, `persistence ${s.persistence_nmse}, NLMS-AR ${s.linear_nmse}`);
  t.is(s.linear_variant, 'nlms');
  t.true(['rflo', 'persistence', 'NLMS-AR p8'].includes(s.leading), s.leading);
  t.is(s.divergences, 0);
});

ptyTest(`run --snapshot writes a loadable learner: model JSON for the float engine, a checked binary snapshot for fixed${why}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-run-'));
  try {
    // Stop (Ctrl-C) once the periodic snapshot is on disk, rather than after a duration that a slow start may use up.
    const stopWhenWritten = (path: string): AbortSignal => {
      const ac = new AbortController();
      const timer = setInterval(() => {
        if (existsSync(path)) {
          clearInterval(timer);
          ac.abort();
        }
      }, 20);
      return ac.signal;
    };
    const fjson = join(dir, 'float.json');
    const sf = await runLive({ ...base, snapshot: fjson, snapshotEvery: 1 }, { ...io(), signal: stopWhenWritten(fjson) });
    t.true(sf.snapshots >= 2, `periodic and final snapshots: ${sf.snapshots}`);
    const w = parseModel(JSON.parse(readFileSync(fjson, 'utf8')));
    t.is(w.W_out.length, FIXED_STREAM_DEFAULTS.rflo.hidden * base.outputs);
    const fbin = join(dir, 'fixed.snap');
    const sx = await runLive({ ...base, engine: 'fixed', snapshot: fbin, snapshotEvery: 1 }, { ...io(), signal: stopWhenWritten(fbin) });
    t.true(sx.snapshots >= 2, `periodic and final snapshots: ${sx.snapshots}`);
    const d = inspectSnapshot(new Uint8Array(readFileSync(fbin)));
    t.true(d.bytes > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

ptyTest(`a board that goes away mid-run and never comes back: the summary says so and the run fails${why}`, async (t) => {
  const { startVirtualBoard } = await import('../sim/board/index.ts');
  const board = await startVirtualBoard({ channels: 3, outputs: 1, rateHz: 2000, seed: 1, driftEvery: 0 });
  const o = io();
  let pulled = false;
  try {
    const err = await t.throwsAsync(
      runLive(
        { ...base, virtual: false, port: board.path, duration: 12, json: true },
        {
          ...o,
          // unplug the board as soon as it streams
          onSessionEvent: (e) => {
            if (e.type === 'streaming' && !pulled) {
              pulled = true;
              setTimeout(() => void board.stop(), 300);
            }
          },
        },
      ),
    );
    t.regex(err!.message, /the board at .* went away after \d+ samples and did not come back \([\d.]+ s offline at the end\)/);
    t.is(o.out.length, 1, 'the summary is printed before the failure');
    const s = JSON.parse(o.out[0]);
    t.log(`summary: ${o.out[0].trim()}`);
    t.is(s.disconnects, 1);
    t.true(s.board_gone_at_end);
    t.true(s.offline_s >= 5 && s.offline_s < 12, `offline ${s.offline_s} s`);
  } finally {
    await board.stop();
  }
});
