/**
 * Golden vectors for the C kernel (firmware-bridge/firmware/), written by the TypeScript fixed-point runtime.
 * Run `npx tsx test/golden/generate.ts` to rewrite test/golden/*.txt; test/firmware.test.ts regenerates them in
 * memory and fails when the checked-in files differ (the runtime changed), then checks the C build reproduces them.
 *
 * File format (text, one record per line, integers in decimal, bytes in hex):
 *   case NAME
 *   plan alpha etaRecM etaRecK etaOutM etaOutK shiftTraceRec shiftTraceIn shiftOut shiftRtrl shiftApply
 *        shiftTrialRec shiftTrialOut totalBytes          (runtime/plan.ts constants the C plan must reproduce)
 *   snapshot HEX                                         (runtime/snapshot.ts bytes of the initial learner)
 *   s x_1..x_M | t_1..t_O | y_1..y_O                     (one step: Q3.12 inputs, targets or '-', prediction;
 *                                                         '?' for a missing input, '?' for a missing target)
 *   e                                                    (endTrial() then resetState())
 *   final HEX                                            (snapshot after the last step)
 *   end
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFixedLearner } from '../../runtime/learner.ts';
import { initWeights } from '../../runtime/init.ts';
import { saveSnapshot } from '../../runtime/snapshot.ts';
import { createRng, rngNormal } from '../../runtime/rng.ts';
import type { FixedOptions } from '../../runtime/plan.ts';
import type { Backend } from '../../runtime/wasm/backend.ts';
import type { LearnerOptions } from '../../runtime/types.ts';
import { createDriftTask } from '../../sim/tasks/drift.ts';

export interface GoldenCase {
  name: string;
  options: LearnerOptions;
  fixed?: FixedOptions;
  steps: number;
  seed: number;
  /** Initial weights: W_rec gain and input scale (larger values drive saturation). */
  gain?: number;
  inScale?: number;
  /** Multiplies the drift signal before quantization (values beyond +-8 saturate x and targets). */
  signalScale?: number;
  /** options.direct: the initial D (O x M) is drawn N(0, directScale^2) from its own stream (seed + 1000). */
  directScale?: number;
  /** Every k-th step runs inference only (target null). */
  inferEvery?: number;
  /** 'trial' mode: endTrial() and resetState() after every trialLength steps. */
  /** Every k-th step input j (rotating) is missing (held, counted); every k-th step the target is missing. */
  missingInputEvery?: number;
  missingTargetEvery?: number;
}

// The cases written before gradient accumulation became optional keep their accumulators (their arenas, acc_* included,
// are byte for byte what they were); the '-noacc' cases are 'step' learners without them (snapshot version 4).
const base = { tau: 10, update: 'step', trialLength: 1, feedback: 'random', accumulateGradient: true } as const;
const noAcc = { accumulateGradient: false } as const;

export const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: 'rflo-n16', options: { ...base, learner: 'rflo', inputs: 3, hidden: 16, outputs: 3, lrRec: 0.003, lrOut: 0.01 }, steps: 1500, seed: 1, inferEvery: 7 },
  { name: 'rflo-transpose-trial', options: { ...base, learner: 'rflo', inputs: 3, hidden: 10, outputs: 3, lrRec: 0.05, lrOut: 0.05, update: 'trial', trialLength: 50, feedback: 'transpose', tau: 5 }, steps: 600, seed: 2 },
  { name: 'snap1-n12', options: { ...base, learner: 'snap1', inputs: 3, hidden: 12, outputs: 3, lrRec: 0.002, lrOut: 0.01 }, steps: 1000, seed: 3 },
  { name: 'output-n16', options: { ...base, learner: 'output', inputs: 3, hidden: 16, outputs: 3, lrRec: 0, lrOut: 0.02 }, steps: 1000, seed: 4 },
  { name: 'rtrl-n6', options: { ...base, learner: 'rtrl', inputs: 3, hidden: 6, outputs: 3, lrRec: 0.002, lrOut: 0.01 }, steps: 400, seed: 5 },
  { name: 'rtrl-trial', options: { ...base, learner: 'rtrl', inputs: 2, hidden: 5, outputs: 2, lrRec: 0.05, lrOut: 0.05, update: 'trial', trialLength: 40, tau: 3 }, steps: 400, seed: 6 },
  // Saturation on purpose: large weights and inputs, int16-resolution weights, fast learning, tau = 1.
  { name: 'saturate', options: { ...base, learner: 'rflo', inputs: 3, hidden: 8, outputs: 3, lrRec: 0.4, lrOut: 0.4, tau: 1 }, fixed: { weightFracBits: 12, updateFracBits: 16 }, steps: 800, seed: 7, gain: 6, inScale: 5, signalScale: 30 },
  { name: 'rtrl-saturate', options: { ...base, learner: 'rtrl', inputs: 3, hidden: 5, outputs: 3, lrRec: 0.3, lrOut: 0.3, tau: 1 }, steps: 400, seed: 9, gain: 8, inScale: 6, signalScale: 20 },
  // Missing readings: inputs held, targets skipped (runtime/ARITHMETIC.md, "Missing readings"), with inference steps.
  { name: 'rflo-missing', options: { ...base, learner: 'rflo', inputs: 3, hidden: 12, outputs: 3, lrRec: 0.003, lrOut: 0.01 }, steps: 700, seed: 10, inferEvery: 11, missingInputEvery: 3, missingTargetEvery: 7 },
  { name: 'rtrl-missing', options: { ...base, learner: 'rtrl', inputs: 2, hidden: 5, outputs: 2, lrRec: 0.002, lrOut: 0.01 }, steps: 300, seed: 11, missingInputEvery: 4, missingTargetEvery: 5 },
  { name: 'snap1-saturate', options: { ...base, learner: 'snap1', inputs: 3, hidden: 8, outputs: 3, lrRec: 0.3, lrOut: 0.3, tau: 2 }, steps: 800, seed: 8, gain: 8, inScale: 4, signalScale: 20 },
  // The readout that reads the input (direct: y = W_out h + D x), in each update mode, with saturation on purpose.
  { name: 'output-direct', options: { ...base, learner: 'output', inputs: 3, hidden: 16, outputs: 3, lrRec: 0, lrOut: 0.02, direct: true, tau: 2 }, steps: 800, seed: 10, inferEvery: 5, directScale: 0.3 },
  { name: 'rflo-direct-trial', options: { ...base, learner: 'rflo', inputs: 3, hidden: 10, outputs: 2, lrRec: 0.05, lrOut: 0.05, update: 'trial', trialLength: 50, feedback: 'transpose', tau: 5, direct: true }, steps: 500, seed: 11, directScale: 0.3 },
  { name: 'rtrl-direct', options: { ...base, learner: 'rtrl', inputs: 2, hidden: 5, outputs: 2, lrRec: 0.01, lrOut: 0.02, direct: true }, steps: 300, seed: 13, directScale: 0.3 },
  { name: 'snap1-direct-saturate', options: { ...base, learner: 'snap1', inputs: 3, hidden: 8, outputs: 3, lrRec: 0.3, lrOut: 0.3, tau: 2, direct: true }, fixed: { weightFracBits: 16, updateFracBits: 20 }, steps: 600, seed: 12, gain: 8, inScale: 4, signalScale: 20, directScale: 100 },
  // The normalised readout (NLMS steps: an integer reciprocal of eps + |[h; x]|^2 per step), with and without D; the
  // second at lrOut 1.9 (k 14), eps 2^-20 and a small signal, so the update shift goes negative (left shifts).
  { name: 'rflo-normalized-direct', options: { ...base, learner: 'rflo', inputs: 3, hidden: 12, outputs: 3, lrRec: 0.01, lrOut: 0.5, tau: 2, direct: true, normalizedReadout: true, readoutEps: 1e-3 }, steps: 600, seed: 14, inferEvery: 6, directScale: 0.3 },
  { name: 'output-normalized-small', options: { ...base, learner: 'output', inputs: 2, hidden: 8, outputs: 2, lrRec: 0, lrOut: 1.9, tau: 1, normalizedReadout: true, readoutEps: 2 ** -20 }, steps: 400, seed: 15, gain: 0.3, inScale: 0.01, signalScale: 0.01 },
  // 'step' learners without gradient accumulators: the same predictions and weights as with them, an arena without acc_*.
  { name: 'rflo-noacc', options: { ...base, ...noAcc, learner: 'rflo', inputs: 3, hidden: 12, outputs: 3, lrRec: 0.003, lrOut: 0.01 }, steps: 600, seed: 16, inferEvery: 7, missingInputEvery: 5, missingTargetEvery: 9 },
  { name: 'rtrl-direct-noacc', options: { ...base, ...noAcc, learner: 'rtrl', inputs: 2, hidden: 5, outputs: 2, lrRec: 0.01, lrOut: 0.02, direct: true }, steps: 300, seed: 17, directScale: 0.3 },
  { name: 'snap1-normalized-noacc', options: { ...base, ...noAcc, learner: 'snap1', inputs: 3, hidden: 8, outputs: 3, lrRec: 0.01, lrOut: 0.5, tau: 2, direct: true, normalizedReadout: true }, steps: 400, seed: 18, inferEvery: 5, directScale: 0.3 },
];

/** Float to Q3.12 the way FixedLearner.step quantizes: round half up, saturate to int16. */
function q12(v: number): number {
  const q = Math.floor(v * 4096 + 0.5);
  return q > 32767 ? 32767 : q < -32768 ? -32768 : q;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/**
 * The golden text of one case. Deterministic: the same runtime gives the same text. The checked-in files come from
 * the reference kernels (backend 'reference'); test/firmware.test.ts also runs the default backend.
 */
export function generateCase(c: GoldenCase, backend: Backend = 'reference'): string {
  const o = c.options;
  const w = initWeights({ inputs: o.inputs, hidden: o.hidden, outputs: o.outputs, tau: o.tau, seed: c.seed, gain: c.gain ?? 1.2, inScale: c.inScale ?? 1 });
  if (o.direct === true) {
    const rng = createRng(c.seed + 1000);
    w.D = Float64Array.from({ length: o.outputs * o.inputs }, () => rngNormal(rng) * (c.directScale ?? 0));
  }
  const l = createFixedLearner(o, w, { ...(c.fixed ?? {}), backend });
  const p = l.plan;
  const lines: string[] = [`case ${c.name}`];
  const s = p.shifts;
  lines.push(
    `plan ${p.alphaQ15} ${p.etaRec.m} ${p.etaRec.k} ${p.etaOut.m} ${p.etaOut.k} ${s.traceRec} ${s.traceIn} ${s.out} ${s.rtrl} ` +
      `${s.apply} ${s.trialRec} ${s.trialOut} ${p.totalBytes}`,
  );
  lines.push(`snapshot ${hex(saveSnapshot(l))}`);
  const task = createDriftTask({ seed: c.seed, channels: Math.max(o.inputs, o.outputs), steps: null, changeEvery: 300 });
  const xf = new Float64Array(task.inputs);
  const tf = new Float64Array(task.outputs);
  const x = new Int16Array(o.inputs);
  const t = new Int16Array(o.outputs);
  const y = new Int16Array(o.outputs);
  const xMissing = new Uint8Array(o.inputs);
  const scale = c.signalScale ?? 1;
  for (let k = 0; k < c.steps; k++) {
    task.next(xf, tf);
    for (let j = 0; j < o.inputs; j++) x[j] = q12(xf[j] * scale);
    for (let j = 0; j < o.outputs; j++) t[j] = q12(tf[j] * scale);
    const infer = c.inferEvery !== undefined && k % c.inferEvery === c.inferEvery - 1;
    const xMiss = c.missingInputEvery !== undefined && k % c.missingInputEvery === 1;
    xMissing.fill(0);
    if (xMiss) xMissing[k % o.inputs] = 1;
    const tMiss = !infer && c.missingTargetEvery !== undefined && k % c.missingTargetEvery === 2;
    l.stepQ(x, infer ? null : t, y, xMiss ? xMissing : null, tMiss);
    const xs = Array.from(x, (v, j) => (xMissing[j] ? '?' : String(v))).join(' ');
    lines.push(`s ${xs} | ${infer ? '-' : tMiss ? '?' : t.join(' ')} | ${y.join(' ')}`);
    if (o.update === 'trial' && (k + 1) % o.trialLength === 0) {
      l.endTrial();
      l.resetState();
      lines.push('e');
    }
  }
  lines.push(`final ${hex(saveSnapshot(l))}`);
  lines.push('end');
  return lines.join('\n') + '\n';
}

export const GOLDEN_DIR = dirname(fileURLToPath(import.meta.url));

export function goldenPath(c: GoldenCase): string {
  return join(GOLDEN_DIR, `${c.name}.txt`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const c of GOLDEN_CASES) {
    const text = generateCase(c);
    writeFileSync(goldenPath(c), text);
    console.log(`${goldenPath(c)}: ${c.steps} steps, ${text.length} bytes`);
  }
}
