/**
 * The C kernel (firmware-bridge/firmware/) against the TypeScript runtime: golden vectors regenerated from the
 * runtime must equal the checked-in ones, and the host C build must reproduce every prediction and the final
 * snapshot of every case bit for bit; tanh/phi' over every Q12 input.
 * Needs gcc and make: skipped with a message naming the tool when CI is unset, a failure when CI=true.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN_CASES, generateCase, goldenPath } from './golden/generate.ts';
import { dtanhQ15, tanhQ15 } from '../runtime/activation.ts';
import { FIRMWARE_DIR, buildHost, missingTool } from '../firmware-bridge/qemu.ts';

const missing = missingTool(['gcc', 'make']);
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

needTools('the host C build reproduces every prediction and final snapshot of every golden case bit for bit', (t) => {
  const files = GOLDEN_CASES.map(goldenPath);
  const r = spawnSync(golden(), files, { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  t.is(lines.length, GOLDEN_CASES.length, r.stdout + r.stderr);
  for (const [i, c] of GOLDEN_CASES.entries()) t.true(lines[i].startsWith(`PASS ${c.name}:`), lines[i]);
  t.is(r.status, 0, r.stdout);
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
