// A Firmata board is checked against what it reports: a pin it does not have is named with the valid ones, exit 2,
// and the command exits (it used to print "Cannot set properties of undefined (setting 'mode')" and hang).
import test from 'ava';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAnalogPins } from '../firmware-bridge/johnny-five.ts';
import { missingSimavrTool, startSimavr } from '../firmware-bridge/simavr.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('checkAnalogPins names the pin and the analog pins the board reported', (t) => {
  const uno = { analogPins: [14, 15, 16, 17, 18, 19] }; // firmata-io on an Uno: A0..A5 are digital 14..19
  t.notThrows(() => checkAnalogPins(uno, ['A0', 'a5', 14, 19]));
  t.throws(() => checkAnalogPins(uno, ['A0', 'A7']), { instanceOf: RangeError, message: 'pin A7 is not an analog input of this board; it reports A0..A5 (6 analog pins)' });
  t.throws(() => checkAnalogPins(uno, [3]), { message: /pin 3 is not an analog input/ });
  t.throws(() => checkAnalogPins(uno, ['D2']), { message: /pin D2 is not an analog input/ });
  const nano = { analogPins: [14, 15, 16, 17, 18, 19, 20, 21] };
  t.notThrows(() => checkAnalogPins(nano, ['A7']));
  t.notThrows(() => checkAnalogPins({}, ['A9']), 'an io plugin without a pin list is not checked');
});

const missing = missingSimavrTool();
const emulated = missing !== null && !process.env.CI ? test.skip : test.serial;
const note = missing !== null && !process.env.CI ? ` (skipped: ${missing} not found)` : '';

emulated(`run --firmata --pins A0,A7 on the emulated Uno exits 2 naming A0..A5, and stops what it opened${note}`, async (t) => {
  if (missing !== null) {
    t.fail(`CI is set but ${missing} is missing: install simavr, libsimavr-dev, libelf-dev, gcc and make`);
    return;
  }
  const uno = await startSimavr({ speed: 0.5 });
  try {
    const r = await new Promise<{ code: number | null; stderr: string; hung: boolean }>((resolve) => {
      const p = spawn(process.execPath, [join(root, 'bin', 'neurostream.js'), 'run', '--port', uno.path, '--firmata', '--pins', 'A0,A7', '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let hung = false;
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => ((hung = true), p.kill('SIGKILL')), 120_000); // a hang detector, not a bound
      p.on('close', (code) => (clearTimeout(timer), resolve({ code, stderr, hung })));
    });
    t.false(r.hung, 'did not exit');
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, /run --pins: pin A7 is not an analog input of this board; it reports A0\.\.A5 \(6 analog pins\)/);
    t.notRegex(r.stderr, /Cannot set properties|still holding/);
  } finally {
    t.log(await uno.stop());
  }
});
