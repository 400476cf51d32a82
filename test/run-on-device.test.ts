/**
 * `neurostream run --on-device`: our firmware learns on the (emulated) board while the host streams and compares.
 * Needs arm-none-eabi-gcc and qemu-system-arm: skipped naming the tool when CI is unset, failing with CI=true.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingTool } from '../firmware-bridge/qemu.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'neurostream.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'run', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

const missing = missingTool(['arm-none-eabi-gcc', 'qemu-system-arm']);
const skip = missing !== null && process.env.CI !== 'true';
const qemuTest = skip ? test.skip : test;

qemuTest(`run --virtual --on-device streams the drift task to the firmware on QEMU and reports it bit-exact with the host runtime${skip ? ` (skipped: ${missing} not found)` : ''}`, (t) => {
  if (missing !== null) return void t.fail(`CI is set but ${missing} is missing: install gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm`);
  const r = run('--virtual', '--on-device', '--steps', '2000', '--hidden', '12', '--inputs', '3', '--outputs', '1', '--learner', 'rflo', '--json');
  t.is(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  t.is(s.steps, 2000);
  t.true(s.bit_exact, `${s.first_prediction_mismatch} ${s.first_snapshot_mismatch}`);
  t.is(s.first_prediction_mismatch, null);
  t.is(s.first_snapshot_mismatch, null);
  t.is(s.device_stats[7], 2000, 'the device counted 2000 steps');
  t.true(s.steps_per_s > 0);
});

test('run --on-device refuses the float engine, a Firmata board and a missing port with exit code 2', (t) => {
  const a = run('--virtual', '--on-device', '--engine', 'float');
  t.is(a.status, 2);
  t.regex(a.stderr, /compares with the fixed-point runtime: use --engine fixed/);
  const b = run('--port', '/dev/null', '--on-device', '--firmata');
  t.is(b.status, 2);
  t.regex(b.stderr, /--on-device and --firmata exclude each other/);
  const c = run('--on-device');
  t.is(c.status, 2);
  t.regex(c.stderr, /give the board with --port PATH, or --virtual/);
});
