import test from 'ava';
import { Command } from 'commander';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register as registerPlan } from '../sim/commands/plan.ts';
import { register as registerSnapshot } from '../sim/commands/snapshot.ts';
import { loadSnapshotFile, saveSnapshotFile } from '../sim/snapshot-file.ts';
import { createLearner } from '../sim/engine.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { plan } from '../runtime/plan.ts';
import { loadSnapshot, saveSnapshot } from '../runtime/snapshot.ts';
import type { LearnerOptions } from '../runtime/types.ts';

/** Runs the registered commands with argv, capturing stdout. */
async function run(argv: string[]): Promise<{ out: string; err?: Error }> {
  const program = new Command('neurostream').exitOverride();
  registerPlan(program);
  registerSnapshot(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => {
    out += s;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'neurostream', ...argv]);
    return { out };
  } catch (err) {
    return { out, err: err as Error };
  } finally {
    process.stdout.write = write;
  }
}

const opts: LearnerOptions = { learner: 'rflo', inputs: 2, hidden: 4, outputs: 1, tau: 10, lrRec: 0.03, lrOut: 0.03, update: 'trial', trialLength: 100 };

test.serial('neurostream plan prints the memory table with the exact total', async (t) => {
  const { out, err } = await run(['plan', '--learner', 'rtrl', '--hidden', '32', '--inputs', '4', '--outputs', '2']);
  t.is(err, undefined);
  const p = plan({ learner: 'rtrl', hidden: 32, inputs: 4, outputs: 2, tau: 10, lrRec: 0.03, lrOut: 0.03, update: 'trial', trialLength: 200 });
  t.regex(out, new RegExp(`total ${p.totalBytes} bytes`));
  t.regex(out, /^S\s+i32\s+37888\s+Q11\.20\s+151552/m);
});

test.serial('neurostream plan --direct reports the bytes of D and its accumulator', async (t) => {
  const args = ['plan', '--learner', 'rflo', '--hidden', '16', '--inputs', '3', '--outputs', '2', '--json'];
  const without = JSON.parse((await run(args)).out) as { totalBytes: number; buffers: { name: string; bytes: number }[] };
  const withD = JSON.parse((await run([...args, '--direct'])).out) as { totalBytes: number; buffers: { name: string; bytes: number }[] };
  t.is(withD.buffers.find((b) => b.name === 'D')!.bytes, 2 * 3 * 4);
  t.is(withD.buffers.find((b) => b.name === 'acc_D')!.bytes, 2 * 3 * 8);
  t.is(withD.totalBytes, without.totalBytes + 24 + 48);
  t.false(without.buffers.some((b) => b.name === 'D'));
});

test.serial('neurostream plan --update step has no gradient accumulators unless --accumulate-gradient asks for them', async (t) => {
  const args = ['plan', '--learner', 'rflo', '--hidden', '32', '--inputs', '4', '--outputs', '4', '--update', 'step', '--json'];
  type Plan = { totalBytes: number; buffers: { name: string; bytes: number }[] };
  const stepOnly = JSON.parse((await run(args)).out) as Plan;
  const withAcc = JSON.parse((await run([...args, '--accumulate-gradient'])).out) as Plan;
  t.false(stepOnly.buffers.some((b) => b.name.startsWith('acc_')));
  t.is(withAcc.buffers.find((b) => b.name === 'acc_W_rec')!.bytes, 32 * 32 * 8);
  // RFLO, N = 32, 4 in, 4 out: 21488 bytes with the accumulators, 10992 without.
  t.is(withAcc.totalBytes, 21488);
  t.is(stepOnly.totalBytes, 10992);
  const text = (await run(args.slice(0, -1))).out;
  t.regex(text, /update step, no gradient accumulators/);
});

test.serial('neurostream plan --normalized accepts --lr-out up to just below 2 and refuses 2, naming --lr-out and the NLMS stable range', async (t) => {
  const args = ['plan', '--learner', 'rflo', '--hidden', '16', '--inputs', '3', '--update', 'step', '--trial-length', '1', '--normalized', '--direct'];
  const ok = await run([...args, '--lr-out', '1.5', '--json']);
  t.is(ok.err, undefined);
  t.is((JSON.parse(ok.out) as { options: { readoutEps: number } }).options.readoutEps, 1e-3);
  const bad = await run([...args, '--lr-out', '2']);
  t.truthy(bad.err);
  t.regex(bad.err!.message, /--lr-out must be below 2 with --normalized: the normalised \(NLMS\) readout step is mean-square stable only for 0 < --lr-out < 2/);
});

test.serial('neurostream plan --json gives the buffers, and a budget too small is refused with the bytes needed', async (t) => {
  const { out } = await run(['plan', '--learner', 'rflo', '--hidden', '16', '--json']);
  const j = JSON.parse(out) as { totalBytes: number; buffers: { name: string; bytes: number }[] };
  t.is(j.buffers.find((b) => b.name === 'P_rec')!.bytes, 16 * 16 * 2);
  const r = await run(['plan', '--learner', 'rtrl', '--hidden', '32', '--inputs', '4', '--outputs', '2', '--memory-budget', '100000']);
  t.regex(r.err!.message, /needs \d+ bytes .* over --memory-budget = 100000 bytes; raise --memory-budget or reduce --hidden/);
  t.is(r.err!.name, 'InputError');
});

test.serial('snapshot files are written atomically and inspect describes them; a corrupt one is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-snap-'));
  const l = createFixedLearner(opts, initWeights({ inputs: 2, hidden: 4, outputs: 1, tau: 10, seed: 1 }));
  for (let s = 0; s < 7; s++) l.step([0.1, 0.2], [0.3], new Float64Array(1));
  const file = join(dir, 'a.snap');
  saveSnapshotFile(file, saveSnapshot(l));
  t.deepEqual(readdirSync(dir), ['a.snap']);
  const back = loadSnapshot(loadSnapshotFile(file));
  t.deepEqual(new Uint8Array(back.arena, back.arenaOffset, back.plan.totalBytes), new Uint8Array(l.arena, l.arenaOffset, l.plan.totalBytes));
  const { out } = await run(['snapshot', 'inspect', file]);
  t.regex(out, /^snapshot version 1, \d+ bytes, CRC-32 0x[0-9a-f]{8} \(ok\)/);
  t.regex(out, /steps 7/);
  const bytes = readFileSync(file);
  bytes[40] ^= 0xff;
  writeFileSync(file, bytes);
  const r = await run(['snapshot', 'inspect', file]);
  t.regex(r.err!.message, /snapshot checksum mismatch/);
});

test('createLearner picks the fixed runtime or the float twin by engine name', (t) => {
  const w = initWeights({ inputs: 2, hidden: 4, outputs: 1, tau: 10, seed: 1 });
  t.is(createLearner('fixed', opts, w).engine, 'fixed');
  t.is(createLearner('float', opts, w).engine, 'float');
  t.throws(() => createLearner('double' as never, opts, w), { message: "engine must be 'fixed' or 'float' (got double)" });
});
