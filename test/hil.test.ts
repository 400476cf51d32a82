/**
 * Hardware in the loop on an emulated Cortex-M3 (QEMU lm3s6965evb running firmware-bridge/firmware/): the C learner
 * on the device and the TypeScript fixed-point learner on the host get the same drift stream; every prediction and
 * the final state (the runtime's snapshot bytes) must be identical. Measured: ~600 steps/s over the emulated UART.
 * Needs make, arm-none-eabi-gcc and qemu-system-arm: skipped naming the tool when CI is unset, failing with CI=true.
 * With TEST_PORT=/dev/ttyX the same tests run against a board on that port flashed with
 * `make -C firmware-bridge/firmware fw NS_MAX_HIDDEN=32 NS_MAX_INPUTS=4 NS_MAX_OUTPUTS=4` (QEMU is not started).
 */
import test from 'ava';
import { buildFirmware, missingTool, startQemu } from '../firmware-bridge/qemu.ts';
import type { QemuBoard } from '../firmware-bridge/qemu.ts';
import { DeviceLearnerClient } from '../firmware-bridge/firmware/client.ts';
import { runHil } from '../firmware-bridge/firmware/hil.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { loadSnapshot, saveSnapshot } from '../runtime/snapshot.ts';
import type { LearnerOptions } from '../runtime/types.ts';

const testPort = process.env.TEST_PORT;
const missing = testPort ? null : missingTool(['make', 'arm-none-eabi-gcc', 'qemu-system-arm']);
const skip = missing !== null && process.env.CI !== 'true';
const hil = skip ? test.serial.skip : test.serial;
if (skip) console.log(`hardware-in-the-loop tests skipped: ${missing} is not installed (set CI=true to make this a failure)`);
// A board on TEST_PORT may still hold a learner from an earlier run, so the fresh-device check is QEMU only.
const fresh = testPort ? test.serial.skip : hil;

const STATS = { framesRx: 0, badCrc: 2, badLength: 3, unknownType: 4, overflow: 5, outOfSequence: 6, samplesGenerated: 7 };
const base = { tau: 10, update: 'step', trialLength: 1, feedback: 'random' } as const;

let board: QemuBoard | null = null;
let client: DeviceLearnerClient | null = null;

test.before(async () => {
  if (skip) return;
  if (testPort) {
    client = await DeviceLearnerClient.open(testPort);
    return;
  }
  const elf = buildFirmware({ hidden: 32, inputs: 4, outputs: 4 });
  board = await startQemu(elf);
  client = await DeviceLearnerClient.open(board.path);
});

test.after.always(async () => {
  if (client) await client.close();
  if (board) await board.stop();
});

fresh('a freshly started device refuses CONFIGURE before a learner snapshot was loaded, naming what to send', async (t) => {
  await client!.hello();
  const e = await t.throwsAsync(client!.configure({ learner: 'rflo', inputs: 3, outputs: 3, hidden: 16 }));
  t.regex(e!.message, /ERROR 7: no learner loaded: send its snapshot/);
});

hil('10^4 drift steps of RFLO (N = 16) on the emulated Cortex-M3 match the host bit for bit at every step and in the final weights', async (t) => {
  const options: LearnerOptions = { ...base, learner: 'rflo', inputs: 3, hidden: 16, outputs: 3, lrRec: 0.003, lrOut: 0.01 };
  const r = await runHil(client!, { options, steps: 10000, seed: 11 });
  t.log(`${r.steps} steps in ${(r.ms / 1000).toFixed(1)} s: ${r.stepsPerSecond.toFixed(0)} steps/s over the emulated UART`);
  t.is(r.firstPredictionMismatch, null);
  t.is(r.firstSnapshotMismatch, null);
  t.notDeepEqual(r.deviceSnapshot, r.initialSnapshot, 'the device learned (its state changed)');
  t.is(r.stats[STATS.samplesGenerated] - r.statsBefore[STATS.samplesGenerated], 10000);
  for (const k of ['badCrc', 'badLength', 'unknownType', 'overflow', 'outOfSequence'] as const) t.is(r.stats[STATS[k]], 0, k);
});

for (const [learner, hidden, steps] of [['snap1', 12, 1000], ['output', 16, 1000], ['rtrl', 5, 300]] as const) {
  hil(`${learner} (N = ${hidden}) on the emulated Cortex-M3 matches the host for ${steps} drift steps and in its final snapshot`, async (t) => {
    const options: LearnerOptions = { ...base, learner, inputs: 3, hidden, outputs: 3, lrRec: learner === 'output' ? 0 : 0.003, lrOut: 0.01 };
    const r = await runHil(client!, { options, steps, seed: 12 });
    t.is(r.firstPredictionMismatch, null);
    t.is(r.firstSnapshotMismatch, null);
    t.notDeepEqual(r.deviceSnapshot, r.initialSnapshot);
  });
}

hil('negative control: a device started with one recurrent weight 1 LSB (2^-24) off is caught by the comparison', async (t) => {
  const options: LearnerOptions = { ...base, learner: 'rflo', inputs: 3, hidden: 16, outputs: 3, lrRec: 0.003, lrOut: 0.01 };
  const perturbDevice = (snap: Uint8Array) => {
    const l = loadSnapshot(snap);
    l.W_rec[5] += 1;
    return saveSnapshot(l);
  };
  const r = await runHil(client!, { options, steps: 2000, seed: 11, perturbDevice });
  t.log(`first prediction mismatch: ${r.firstPredictionMismatch}; snapshot: ${r.firstSnapshotMismatch}`);
  t.regex(r.firstSnapshotMismatch ?? '', /W_rec\[5\]/);
});

hil('the device refuses a snapshot with a wrong checksum and one larger than its arena', async (t) => {
  const o: LearnerOptions = { ...base, learner: 'rflo', inputs: 3, hidden: 8, outputs: 3, lrRec: 0.003, lrOut: 0.01 };
  const snap = saveSnapshot(createFixedLearner(o, initWeights({ inputs: 3, hidden: 8, outputs: 3, tau: 10, seed: 1 })));
  snap[snap.length - 20] ^= 0x40;
  await client!.hello();
  const e1 = await t.throwsAsync(client!.loadSnapshot(snap));
  t.regex(e1!.message, /checksum mismatch/);
  const big: LearnerOptions = { ...o, hidden: 64 };
  const bigSnap = saveSnapshot(createFixedLearner(big, initWeights({ inputs: 3, hidden: 64, outputs: 3, tau: 10, seed: 1 })));
  const e2 = await t.throwsAsync(client!.loadSnapshot(bigSnap));
  t.regex(e2!.message, /larger than this device's arena/);
});
