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
import { buildHost, missingTool } from '../firmware-bridge/qemu.ts';
import { measureStepInstructions, parseBenchLines } from '../firmware-bridge/device/cycles.ts';

const missing = missingTool(['gcc', 'arm-none-eabi-gcc', 'qemu-system-arm']);
const needTools = missing !== null && process.env.CI !== 'true' ? test.skip : test;
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
