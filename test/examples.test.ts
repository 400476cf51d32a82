/**
 * Every program in examples/ runs here, with stand-ins for hardware: the johnny-five sketch gets a stand-in johnny-five
 * module (Board/Sensor) whose potentiometer turns in a rhythm, behind the real FirmataSource, in-process bridge board
 * and Session; the on-device example runs the C firmware on QEMU (needs make, arm-none-eabi-gcc, qemu-system-arm:
 * skipped naming the tool when CI is unset, failing with CI=true).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FiveModule } from '../firmware-bridge/johnny-five.ts';
import { missingTool } from '../firmware-bridge/qemu.ts';
import { runPotentiometer } from '../examples/johnny-five-potentiometer.ts';
import { runOnDevice } from '../examples/on-device.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function runExample(file: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'examples', file), ...args], { cwd: root, encoding: 'utf8', timeout: 60000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('examples/library.ts learns a two-tone signal online with the fixed-point learner and prints a small NMSE', (t) => {
  const r = runExample('library.ts');
  t.is(r.status, 0, r.stderr);
  const m = /NMSE over the last 5000 steps: ([\d.]+)/.exec(r.stdout);
  t.truthy(m, r.stdout);
  t.true(Number(m![1]) < 0.02, r.stdout);
});

test('examples/csv-log.ts replays the sensor log, skips the broken rows and beats the persistence baseline', (t) => {
  const r = runExample('csv-log.ts');
  t.is(r.status, 0, r.stderr);
  const rows = /(\d+) rows learned, (\d+) skipped/.exec(r.stdout);
  const nmse = /NMSE RFLO \(fixed point\) ([\d.]+), persistence ([\d.]+)/.exec(r.stdout);
  t.truthy(rows && nmse, r.stdout);
  t.true(Number(rows![1]) > 1900 && Number(rows![2]) > 0, r.stdout);
  t.true(Number(nmse![1]) < Number(nmse![2]), r.stdout);
});

/** A stand-in for johnny-five: a Board that becomes ready, and Sensors whose reading is a knob turned back and forth. */
function fakeFive(periodMs: number) {
  const boards: Record<string, unknown>[] = [];
  const sensors: { pin: string | number; disabled: boolean }[] = [];
  const t0 = Date.now();
  class Board extends EventEmitter {
    constructor(options: Record<string, unknown>) {
      super();
      boards.push(options);
      setImmediate(() => this.emit('ready'));
    }
  }
  class Sensor extends EventEmitter {
    value: number | null = null;
    disable: () => void;
    constructor(o: { pin: string | number; freq: number }) {
      super();
      const rec = { pin: o.pin, disabled: false };
      sensors.push(rec);
      const timer = setInterval(() => {
        const ph = (2 * Math.PI * (Date.now() - t0)) / periodMs;
        this.value = Math.round(512 + 300 * Math.sin(ph) + 100 * Math.sin(2 * ph + 1));
        this.emit('data');
      }, o.freq);
      this.disable = () => {
        rec.disabled = true;
        clearInterval(timer);
      };
    }
  }
  return { five: { Board, Sensor } as unknown as FiveModule, boards, sensors };
}

test('examples/johnny-five-potentiometer.ts: with a stand-in johnny-five, the knob is predicted ahead better than "it stays put", and the sensors are released', async (t) => {
  const f = fakeFive(1000);
  const io = { name: 'firmata-io stand-in' };
  const r = await runPotentiometer({ five: f.five, io, pin: 'A0', freqMs: 5, aheadMs: 50, seconds: 8 });
  t.deepEqual(f.boards[0], { io, repl: false, debug: false, sigint: false }, 'johnny-five gets the io object, with repl, debug and sigint off');
  t.deepEqual(f.sensors.map((s) => s.pin), ['A0']);
  t.true(f.sensors.every((s) => s.disabled), 'sensors disabled at the end');
  t.true(r.samples > 800, `${r.samples} samples`);
  t.true(r.nmseLast < r.nmseFirst, `NMSE first quarter ${r.nmseFirst}, last ${r.nmseLast}`);
  t.true(r.nmseLast < r.persistenceLast, `NMSE last quarter ${r.nmseLast} vs knob-stays-put ${r.persistenceLast}`);
});

test('examples/johnny-five-potentiometer.ts as a script without a port prints its usage and exits with 2', (t) => {
  const r = runExample('johnny-five-potentiometer.ts');
  t.is(r.status, 2);
  t.regex(r.stderr, /usage: .*johnny-five-potentiometer\.ts \/dev\/ttyACM0/);
});

const missing = missingTool(['make', 'arm-none-eabi-gcc', 'qemu-system-arm']);
const skipQemu = missing !== null && process.env.CI !== 'true';
if (skipQemu) console.log(`examples/on-device.ts test skipped: ${missing} is not installed (set CI=true to make this a failure)`);
(skipQemu ? test.skip : test)('examples/on-device.ts: the firmware on QEMU learns the stream bit-identically to the host learner', async (t) => {
  const r = await runOnDevice({ steps: 4000, driftEvery: 2000 });
  t.is(r.steps, 4000);
  t.is(r.mismatches, 0, 'every device prediction equals the host learner\'s');
  t.true(r.sameFinalState, 'final device snapshot equals the host learner\'s byte for byte');
  t.true(r.nmseLast < r.nmseFirst, `NMSE first quarter ${r.nmseFirst}, last ${r.nmseLast}`);
});
