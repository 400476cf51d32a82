/**
 * The C kernel (firmware-bridge/firmware/) against the TypeScript runtime: golden vectors regenerated from the
 * runtime must equal the checked-in ones, and the host C build must reproduce every prediction and the final
 * snapshot of every case bit for bit; tanh/phi' over every Q12 input.
 * Needs gcc: skipped with a message naming the tool when CI is unset, a failure when CI=true.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN_CASES, generateCase, goldenPath } from './golden/generate.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { saveSnapshot } from '../runtime/snapshot.ts';
import { dtanhQ15, tanhQ15 } from '../runtime/activation.ts';
import { plan } from '../runtime/plan.ts';
import type { FixedConfig } from '../runtime/plan.ts';
import { createRng, rngNextU32 } from '../runtime/rng.ts';
import { buildHost, missingTool } from '../firmware-bridge/qemu.ts';

const missing = missingTool(['gcc']);
const needTools = missing !== null && process.env.CI !== 'true' ? test.skip : test;
if (missing !== null && process.env.CI !== 'true') console.log(`firmware tests skipped: ${missing} is not installed (set CI=true to make this a failure)`);

let driver = '';
function golden(): string {
  if (driver === '') driver = buildHost('golden');
  return driver;
}

test('the checked-in golden vectors equal what the TypeScript runtime generates now', (t) => {
  for (const c of GOLDEN_CASES) {
    const fresh = generateCase(c);
    const stored = readFileSync(goldenPath(c), 'utf8');
    if (fresh !== stored) {
      const a = fresh.split('\n');
      const b = stored.split('\n');
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      t.fail(`${c.name}: the runtime now differs from test/golden/${c.name}.txt at line ${i + 1}; ` +
        'if the change is intended, run `npx tsx test/golden/generate.ts` and check the C build still passes');
    } else t.pass();
  }
});

test("the runtime's default kernel backend (wasm where available) writes the same golden vectors as the TypeScript kernels", (t) => {
  for (const c of GOLDEN_CASES) {
    const js = generateCase(c, 'js');
    const auto = generateCase(c, 'auto');
    if (js !== auto) {
      const a = js.split('\n');
      const b = auto.split('\n');
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      t.fail(`${c.name}: backend 'auto' differs from 'js' at golden line ${i + 1}`);
    } else t.pass();
  }
});

needTools('the host C build reproduces every prediction and final snapshot of every golden case bit for bit', (t) => {
  const files = GOLDEN_CASES.map(goldenPath);
  const r = spawnSync(golden(), files, { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  t.is(lines.length, GOLDEN_CASES.length, r.stdout + r.stderr);
  for (const [i, c] of GOLDEN_CASES.entries()) t.true(lines[i].startsWith(`PASS ${c.name}:`), lines[i]);
  t.is(r.status, 0, r.stdout);
});

needTools('the C kernel runs every golden case, the tanh sweep and 3000 plans without undefined behaviour or memory errors (ASan + UBSan)', (t) => {
  const san = buildHost('golden-sanitized');
  const r = spawnSync(san, GOLDEN_CASES.map(goldenPath), { encoding: 'utf8' });
  t.is(r.status, 0, r.stdout + r.stderr);
  t.is(r.stdout.trim().split('\n').filter((l) => l.startsWith('PASS ')).length, GOLDEN_CASES.length);
  const tanh = spawnSync(san, ['--tanh'], { maxBuffer: 1 << 24 });
  t.is(tanh.status, 0, String(tanh.stderr));
  const plans = spawnSync(san, ['--plan'], { input: sampleConfigs().map((c) => tsPlanLine(c).json).join('\n') + '\n', encoding: 'utf8' });
  t.is(plans.status, 0, plans.stderr);
  t.is(plans.stdout.trim().split('\n').length, 3000);
});

needTools('the device protocol engine survives 60 000 random frames and byte runs under ASan + UBSan and still loads and returns a snapshot byte for byte', (t) => {
  const fuzz = buildHost('fuzz-device');
  const o = { learner: 'rflo', inputs: 3, hidden: 8, outputs: 3, tau: 10, lrRec: 0.003, lrOut: 0.01, update: 'step', trialLength: 1 } as const;
  const dir = mkdtempSync(join(tmpdir(), 'ns-fuzz-'));
  const f = join(dir, 'rflo8.nsnp');
  writeFileSync(f, saveSnapshot(createFixedLearner(o, initWeights({ inputs: 3, hidden: 8, outputs: 3, tau: 10, seed: 3 }))));
  for (const seed of [1, 2, 3]) {
    const r = spawnSync(fuzz, [f, '20000', String(seed)], { encoding: 'utf8' });
    t.is(r.status, 0, r.stdout + r.stderr);
    t.regex(r.stdout, /^ok \d+ frames out/);
  }
});

needTools('the C driver reports the first mismatching step when a prediction differs', (t) => {
  const c = GOLDEN_CASES[0];
  const lines = readFileSync(goldenPath(c), 'utf8').split('\n');
  let seen = 0;
  const at = lines.findIndex((l) => l.startsWith('s ') && ++seen === 101);
  const parts = lines[at].split('|');
  const ys = parts[2].trim().split(' ').map(Number);
  ys[1] += 1;
  parts[2] = ' ' + ys.join(' ');
  lines[at] = parts.join('|');
  const dir = mkdtempSync(join(tmpdir(), 'ns-golden-'));
  const f = join(dir, 'bad.txt');
  writeFileSync(f, lines.join('\n'));
  const r = spawnSync(golden(), [f], { encoding: 'utf8' });
  t.is(r.status, 1);
  t.regex(r.stdout, /^FAIL rflo-n16: step 100, output 1: expected -?\d+, got -?\d+/);
});

needTools('the C driver names the buffer of the first differing byte of a final snapshot', (t) => {
  const c = GOLDEN_CASES[0];
  const text = readFileSync(goldenPath(c), 'utf8');
  const m = /^final ([0-9a-f]+)$/m.exec(text)!;
  // Flip a byte near the end of the arena, before the CRC: in the step counter or the saturation counters.
  const bytes = Buffer.from(m[1], 'hex');
  bytes[bytes.length - 12] ^= 1;
  const dir = mkdtempSync(join(tmpdir(), 'ns-golden-'));
  const f = join(dir, 'bad.txt');
  writeFileSync(f, text.replace(m[1], bytes.toString('hex')));
  const r = spawnSync(golden(), [f], { encoding: 'utf8' });
  t.is(r.status, 1);
  t.regex(r.stdout, /FAIL rflo-n16: final snapshot byte \d+ \(steps\[0\]\)/);
});

needTools("the C tanh and phi' equal the runtime's for every Q12 input in [-8.5, 8.5]", (t) => {
  const out = execFileSync(golden(), ['--tanh'], { maxBuffer: 1 << 24 });
  const n = 2 * 34816 + 1;
  t.is(out.length, n * 6);
  let bad = -1;
  for (let i = 0; i < n && bad < 0; i++) {
    const u = i - 34816;
    const tt = tanhQ15(u);
    if (out.readInt16LE(i * 6) !== tt || out.readInt32LE(i * 6 + 2) !== dtanhQ15(tt)) bad = u;
  }
  t.is(bad, -1, `first mismatch at u = ${bad}`);
});

/** The 13 plan constants of a golden file's plan line, then shifts.outDirect and readoutEpsQ30, from the TypeScript plan, or null when plan() refuses. */
function tsPlanLine(c: FixedConfig): { line: string | null; json: string } {
  try {
    const p = plan(c);
    const s = p.shifts;
    // As runtime/snapshot.ts saves it: a 'step' learner without accumulators says so (a config without the key accumulates).
    const { accumulateGradient, ...o } = p.options;
    const saved: FixedConfig = { ...o, weightFracBits: p.weightFracBits, updateFracBits: p.updateFracBits, memoryBudget: p.memoryBudget };
    if (o.update === 'step' && accumulateGradient !== true) saved.accumulateGradient = false;
    const line = [p.alphaQ15, p.etaRec.m, p.etaRec.k, p.etaOut.m, p.etaOut.k, s.traceRec, s.traceIn, s.out, s.rtrl, s.apply, s.trialRec, s.trialOut, p.totalBytes, s.outDirect, p.readoutEpsQ30].join(' ');
    return { line, json: JSON.stringify(saved) };
  } catch {
    return { line: null, json: JSON.stringify(c) };
  }
}

/** 3000 configurations sampled over every option, many of them outside what plan() accepts. */
function sampleConfigs(): FixedConfig[] {
  const rng = createRng(99);
  const pick = <T>(a: readonly T[]): T => a[rngNextU32(rng) % a.length];
  const taus = [1, 1.5, 2, 3, 7, 10, 12.5, 33.3, 100, 1000, 32768, 0.5, 40000];
  const lrs = [0, 1e-9, 1e-7, 2.5e-6, 0.0001, 0.001, 0.003, 0.0123, 0.03, 0.1, 0.5, 1, 3, 100];
  const configs: FixedConfig[] = [];
  for (let i = 0; i < 3000; i++) {
    const F = pick([24, 24, 16, 12, 8]);
    configs.push({
      learner: pick(['rtrl', 'rflo', 'snap1', 'output'] as const),
      inputs: pick([0, 1, 3, 4]),
      hidden: pick([1, 5, 16, 32]),
      outputs: pick([1, 3, 4]),
      tau: pick(taus),
      lrRec: pick(lrs),
      lrOut: pick(lrs),
      update: pick(['step', 'trial'] as const),
      trialLength: pick([1, 7, 100, 200, 4096]),
      feedback: pick(['random', 'transpose'] as const),
      weightFracBits: F,
      updateFracBits: pick([30, F]),
      direct: pick([false, true]),
      // Gradient accumulators asked for, refused (in 'trial' mode, refused by both plans) or left to the default.
      ...(rngNextU32(rng) % 3 === 0 ? { accumulateGradient: pick([true, false]) } : {}),
      // The normalised readout with eps at the ends of its range and beyond; rarely an eps without it (refused).
      ...(rngNextU32(rng) % 5 === 0
        ? { normalizedReadout: true, readoutEps: pick([undefined, undefined, 1e-3, 1e-6, 1e-9, 9e-10, 0.5, 2]) }
        : rngNextU32(rng) % 20 === 0 ? { readoutEps: 1e-3 } : {}),
    });
  }
  return configs;
}

needTools('the C plan computes the same constants as runtime/plan.ts for 3000 configurations and refuses the ones it refuses', (t) => {
  const configs = sampleConfigs();
  const cases = configs.map(tsPlanLine);
  const r = spawnSync(golden(), ['--plan'], { input: cases.map((c) => c.json).join('\n') + '\n', encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  t.is(lines.length, cases.length);
  let accepted = 0;
  let firstBad = '';
  for (let i = 0; i < cases.length && firstBad === ''; i++) {
    const want = cases[i].line;
    if (want === null) {
      if (!lines[i].startsWith('error: ')) firstBad = `${cases[i].json}: runtime refuses, C planned ${lines[i]}`;
    } else {
      accepted++;
      if (lines[i] !== want) firstBad = `${cases[i].json}: runtime ${want}, C ${lines[i]}`;
    }
  }
  t.log(`${accepted} of ${cases.length} configurations accepted by the runtime, all planned identically; the rest refused by both`);
  t.is(firstBad, '');
  t.true(accepted > 1000 && accepted < cases.length, `${accepted} of ${cases.length} accepted by the runtime`);
});

needTools('the C config reader refuses a number it cannot read exactly (more than 15 significant digits), naming the key', (t) => {
  const { json } = tsPlanLine({ learner: 'rflo', inputs: 3, hidden: 8, outputs: 3, tau: 10, lrRec: 0.1 + 0.2, lrOut: 0.01, update: 'step', trialLength: 1 });
  t.true(json.includes('0.30000000000000004'));
  const r = spawnSync(golden(), ['--plan'], { input: json + '\n', encoding: 'utf8' });
  t.is(r.stdout.trim(), 'error: config: the value of lrRec is not a number with at most 15 significant digits and an exponent within +-22');
});
