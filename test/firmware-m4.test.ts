/**
 * The Cortex-M4 build (mps2-an386, -mcpu=cortex-m4: the DSP extension's SMLAWB in the RFLO row) and the Cortex-M3
 * build (lm3s6965evb: MLA/SSAT and the Q flag) of the C kernel against its host build (portable C, golden-tested
 * against the TypeScript runtime in test/firmware.test.ts): bench_main.c steps every bench learner (output, RFLO
 * with and without accumulators, SnAp-1, RTRL; N = 8..48, 4 in / 4 out, a target every step; and RFLO and SnAp-1
 * from a saturating arena, where weight writes overflow and Q3.12 copies clip: the counted paths, which the Cortex-M
 * builds count through the Q flag) and prints the CRC-32 of the whole arena (weights, traces, Q3.12 copies,
 * saturation counters) after its steps; the three must agree row by row. Needs gcc, arm-none-eabi-gcc and qemu-system-arm: skipped with a message naming the tool when CI is
 * unset, a failure when CI=true.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { buildFirmware, buildHost, missingTool, startQemu } from '../firmware-bridge/qemu.ts';
import { measureStepInstructions, parseBenchLines } from '../firmware-bridge/device/cycles.ts';
import { DeviceLearnerClient } from '../firmware-bridge/device/client.ts';
import { runHil } from '../firmware-bridge/device/hil.ts';
import { createDriftTask } from '../sim/tasks/drift.ts';
import type { LearnerOptions } from '../runtime/types.ts';

const missing = missingTool(['gcc', 'arm-none-eabi-gcc', 'qemu-system-arm']);
const needTools = missing !== null && process.env.CI !== 'true' ? test.serial.skip : test.serial; // serial: two emulators at once on a loaded machine starve the UART one
if (missing !== null && process.env.CI !== 'true') console.log(`Cortex-M4 tests skipped: ${missing} is not installed (set CI=true to make this a failure)`);

needTools('the Cortex-M4 and Cortex-M3 builds leave every bench learner in the same arena as the host build, bit for bit', async (t) => {
  const host = spawnSync(buildHost('bench-crc'), [], { encoding: 'utf8' });
  t.is(host.status, 0, host.stderr);
  const expected = parseBenchLines(host.stdout, 'm3');
  t.true(expected.length >= 21, `host bench printed ${expected.length} rows:\n${host.stdout}`);
  const sat = expected.filter((r) => r.learner.endsWith('_sat'));
  t.is(sat.length, 3);
  for (const r of sat) t.true(r.saturations > 100, `${r.learner}: the saturating arena saturated only ${r.saturations} times`);
  for (const core of ['m3', 'm4'] as const) {
    const rows = await measureStepInstructions(core);
    t.deepEqual(
      rows.map((r) => `${r.learner} ${r.N} ${r.arenaCrc} ${r.saturations}`),
      expected.map((r) => `${r.learner} ${r.N} ${r.arenaCrc} ${r.saturations}`),
      `${core}: arena CRCs differ from the host build`,
    );
    for (const r of rows) t.true(r.instructionsPerStep > 0, `${core} ${r.learner} ${r.N}: no step timing`);
    t.log(`${core}: RFLO N = 32 ${rows.find((r) => r.learner === 'rflo' && r.N === 32)?.instructionsPerStep} instructions/step`);
  }
});

needTools('the protocol firmware on the emulated Cortex-M4 learns RFLO and SnAp-1 bit-identically to the host learner', async (t) => {
  const board = await startQemu(buildFirmware({ hidden: 32, inputs: 4, outputs: 4, core: 'm4' }), { core: 'm4' });
  const client = await DeviceLearnerClient.open(board.path);
  try {
    const base = { tau: 10, update: 'step', trialLength: 1, feedback: 'random', inputs: 3, outputs: 3, lrRec: 0.003, lrOut: 0.01 } as const;
    for (const [learner, hidden, steps] of [['rflo', 32, 2000], ['snap1', 16, 1000]] as const) {
      const options: LearnerOptions = { ...base, learner, hidden };
      const r = await runHil(client, { options, steps, seed: 5, stream: createDriftTask({ seed: 5, channels: 3, steps }) });
      t.is(r.firstPredictionMismatch, null, `${learner}: first differing prediction`);
      t.is(r.firstSnapshotMismatch, null, `${learner}: first differing snapshot byte`);
      t.notDeepEqual(r.deviceSnapshot, r.initialSnapshot, `${learner}: the device learned`);
      t.log(`${learner} N = ${hidden}: ${steps} steps on the Cortex-M4 identical to the host`);
    }
  } finally {
    await client.close();
    await board.stop();
  }
});
