/**
 * Hardware-in-the-loop check shared by test/hil.test.ts and test/long/hil.test.ts: the same drift stream through
 * the TypeScript fixed-point learner on the host and the C learner on a board (QEMU or silicon), compared at every
 * step and, at the end, byte for byte through the runtime's snapshot format.
 */
import { createFixedLearner } from '../../runtime/learner.ts';
import { initWeights } from '../../runtime/init.ts';
import { saveSnapshot } from '../../runtime/snapshot.ts';
import type { FixedOptions } from '../../runtime/plan.ts';
import type { LearnerOptions } from '../../runtime/types.ts';
import { toQ16 } from '../../runtime/fixed.ts';
import type { DeviceLearnerClient } from './client.ts';

/** A stream of samples (any sim task fits, e.g. sim/tasks/drift.ts): writes sample k's inputs and targets. */
export interface HilStream {
  readonly inputs: number;
  readonly outputs: number;
  next(x: Float64Array, target: Float64Array): void;
}

export interface HilRun {
  options: LearnerOptions;
  /** The samples (at least `inputs` and `outputs` channels); the same stream goes to the host and the device. */
  stream: HilStream;
  fixed?: FixedOptions;
  steps: number;
  seed: number;
  window?: number;
  /** Negative control: changes the snapshot sent to the device (the host keeps the original). */
  perturbDevice?: (snapshot: Uint8Array) => Uint8Array;
}

export interface HilResult {
  steps: number;
  ms: number;
  stepsPerSecond: number;
  /** First step whose device prediction differs from the host's, or -1. */
  firstPredictionMismatch: string | null;
  /** First differing byte of the final snapshots (with the buffer it belongs to), or null. */
  firstSnapshotMismatch: string | null;
  hostSnapshot: Uint8Array;
  deviceSnapshot: Uint8Array;
  initialSnapshot: Uint8Array;
  /** Device STATS words (PROTOCOL.md order, counted since the device started) after the run, and before it. */
  stats: Uint32Array;
  statsBefore: Uint32Array;
  /** Saturation counters of the host learner (the device's are inside its snapshot). */
  saturation: Record<string, number>;
}

/** Float to Q3.12 as the learner's step() quantizes (round half up, saturated). */
const q12 = (v: number): number => toQ16(v, 12);

/** Where byte i of a snapshot of learner lies: 'header/config', 'crc' or 'BUFFER[index]'. */
function describeSnapshotByte(bytes: Uint8Array, i: number, buffers: readonly { name: string; type: string; offset: number; bytes: number }[]): string {
  const cfgLen = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24);
  const arenaAt = Math.ceil((16 + cfgLen) / 8) * 8;
  if (i < arenaAt) return 'header/config';
  if (i >= bytes.length - 4) return 'crc';
  const a = i - arenaAt;
  for (const b of buffers) {
    if (a >= b.offset && a < b.offset + b.bytes) {
      const size = b.type === 'i16' ? 2 : b.type === 'f64' ? 8 : 4;
      return `${b.name}[${Math.floor((a - b.offset) / size)}]`;
    }
  }
  return 'padding';
}

export async function runHil(client: DeviceLearnerClient, r: HilRun): Promise<HilResult> {
  const o = r.options;
  const { inputs: M, hidden: N, outputs: O } = o;
  const host = createFixedLearner(o, initWeights({ inputs: M, hidden: N, outputs: O, tau: o.tau, seed: r.seed, gain: 1.2 }), r.fixed ?? {});
  const initialSnapshot = saveSnapshot(host);
  await client.hello();
  await client.loadSnapshot(r.perturbDevice ? r.perturbDevice(initialSnapshot) : initialSnapshot);
  await client.configure({ learner: o.learner, inputs: M, outputs: O, hidden: N, direct: o.direct === true, normalized: o.normalizedReadout === true });

  const statsBefore = await client.stats();
  const T = r.steps;
  const task = r.stream;
  const xf = new Float64Array(task.inputs);
  const tf = new Float64Array(task.outputs);
  const x = new Int16Array(T * M);
  const tg = new Int16Array(T * O);
  const want = new Int16Array(T * O);
  const got = new Int16Array(T * O);
  // Missing readings: a non-finite input is a missing channel, a target with a non-finite entry a missing target
  // (FixedLearner.step's policy), sent with the MISSING flag; the host twin steps on the same integers and marks.
  const xMissing = new Uint8Array(T * M);
  const targetMissing = new Uint8Array(T);
  for (let k = 0; k < T; k++) {
    task.next(xf, tf);
    let gaps = false;
    for (let j = 0; j < M; j++) {
      xMissing[k * M + j] = Number.isFinite(xf[j]) ? 0 : 1;
      gaps ||= xMissing[k * M + j] === 1;
      x[k * M + j] = xMissing[k * M + j] ? 0 : q12(xf[j]);
    }
    // PROTOCOL.md "Missing readings": -32768 marks a missing channel, so a reading beside one is sent as -32767.
    if (gaps) for (let j = 0; j < M; j++) if (x[k * M + j] === -32768 && !xMissing[k * M + j]) x[k * M + j] = -32767;
    for (let j = 0; j < O; j++) {
      if (!Number.isFinite(tf[j])) targetMissing[k] = 1;
      tg[k * O + j] = q12(tf[j]);
    }
    host.stepQ(x.subarray(k * M, k * M + M), tg.subarray(k * O, k * O + O), want.subarray(k * O, k * O + O), xMissing.subarray(k * M, k * M + M), targetMissing[k] === 1);
  }
  const t0 = performance.now();
  await client.stream(x, tg, got, M, O, r.window ?? 64, 0, xMissing, targetMissing);
  const ms = performance.now() - t0;

  let firstPredictionMismatch: string | null = null;
  for (let i = 0; i < got.length && firstPredictionMismatch === null; i++) {
    if (got[i] !== want[i]) {
      firstPredictionMismatch = `step ${Math.floor(i / O)}, output ${i % O}: host ${want[i]}, device ${got[i]}`;
    }
  }
  const deviceSnapshot = await client.readSnapshot();
  const hostSnapshot = saveSnapshot(host);
  let firstSnapshotMismatch: string | null = null;
  if (deviceSnapshot.length !== hostSnapshot.length) {
    firstSnapshotMismatch = `length: host ${hostSnapshot.length}, device ${deviceSnapshot.length}`;
  } else {
    for (let i = 0; i < hostSnapshot.length && firstSnapshotMismatch === null; i++) {
      if (hostSnapshot[i] !== deviceSnapshot[i]) {
        firstSnapshotMismatch = `byte ${i} (${describeSnapshotByte(hostSnapshot, i, host.plan.buffers)}): host ${hostSnapshot[i]}, device ${deviceSnapshot[i]}`;
      }
    }
  }
  const stats = await client.stats();
  return {
    steps: T,
    ms,
    stepsPerSecond: (T / ms) * 1000,
    firstPredictionMismatch,
    firstSnapshotMismatch,
    hostSnapshot,
    deviceSnapshot,
    initialSnapshot,
    stats,
    statsBefore,
    saturation: host.saturation(),
  };
}
