/**
 * Long hardware-in-the-loop runs on the emulated Cortex-M3 (QEMU lm3s6965evb): 5 x 10^4 drift steps of RFLO at
 * N = 32 (the size the README's footprint table leads with), and SnAp-1 / RTRL for longer than the fast suite;
 * every prediction and the final snapshot bit-identical to the TypeScript learner. About 2-3 minutes.
 * Needs arm-none-eabi-gcc and qemu-system-arm: skipped naming the tool when CI is unset, failing with CI=true.
 */
import test from 'ava';
import { buildFirmware, missingTool, startQemu } from '../../firmware-bridge/qemu.ts';
import type { QemuBoard } from '../../firmware-bridge/qemu.ts';
import { DeviceLearnerClient } from '../../firmware-bridge/device/client.ts';
import { runHil } from '../../firmware-bridge/device/hil.ts';
import { createDriftTask } from '../../sim/tasks/drift.ts';
import type { LearnerOptions } from '../../runtime/types.ts';

const missing = missingTool(['arm-none-eabi-gcc', 'qemu-system-arm']);
const skip = missing !== null && process.env.CI !== 'true';
const hil = skip ? test.serial.skip : test.serial;
if (skip) console.log(`long hardware-in-the-loop tests skipped: ${missing} is not installed (set CI=true to make this a failure)`);

const base = { tau: 10, update: 'step', trialLength: 1, feedback: 'random' } as const;
let board: QemuBoard | null = null;
let client: DeviceLearnerClient | null = null;

test.before(async () => {
  if (skip) return;
  // A different build from test/hil.test.ts's, so the two suites can build and run side by side (npm run hil).
  board = await startQemu(buildFirmware({ hidden: 40, inputs: 4, outputs: 4 }));
  client = await DeviceLearnerClient.open(board.path);
});

test.after.always(async () => {
  if (client) await client.close();
  if (board) await board.stop();
});

const runs: [LearnerOptions['learner'], number, number, LearnerOptions['feedback']][] = [
  ['rflo', 32, 50000, 'random'],
  ['snap1', 32, 10000, 'random'],
  ['rflo', 24, 10000, 'transpose'],
  ['rtrl', 8, 2000, 'random'],
];

for (const [learner, hidden, steps, feedback] of runs) {
  hil(`${steps} drift steps of ${learner} (N = ${hidden}, ${feedback} feedback) on the emulated Cortex-M3 match the host at every step and in the final snapshot`, async (t) => {
    const options: LearnerOptions = { ...base, learner, feedback, inputs: 4, hidden, outputs: 4, lrRec: 0.002, lrOut: 0.01 };
    const r = await runHil(client!, { options, steps, seed: 21, stream: createDriftTask({ seed: 21, channels: Math.max(options.inputs, options.outputs), steps: steps }) });
    t.log(`${steps} steps in ${(r.ms / 1000).toFixed(1)} s (${r.stepsPerSecond.toFixed(0)} steps/s); host saturation ${JSON.stringify(r.saturation)}`);
    t.is(r.firstPredictionMismatch, null);
    t.is(r.firstSnapshotMismatch, null);
    t.notDeepEqual(r.deviceSnapshot, r.initialSnapshot);
    t.is(r.stats[7] - r.statsBefore[7], steps, 'samplesGenerated counts every step');
  });
}
