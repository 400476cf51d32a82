// Output paths (--out, --plot, --snapshot) are checked before any work and created without a recursive mkdir that
// can loop: an unwritable path is refused naming the flag, and a write that still fails later fails at once.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, checkOutputPath, makeDir, namedWriteError } from '../sim/modelio.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const linux = process.platform === 'linux';

test('checkOutputPath refuses, naming the flag and the path, a folder that is a file, a file that is a folder or a device, and a missing parent', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-out-'));
  try {
    const file = join(dir, 'log.csv');
    writeFileSync(file, 'a\n');
    const refused = (path: string, kind: 'file' | 'dir', flag: string, why: RegExp): void => {
      const err = t.throws(() => checkOutputPath(path, kind, flag), { instanceOf: InputError });
      t.true(err!.message.startsWith(`${flag}: cannot write ${path}: `), err!.message);
      t.regex(err!.message, why);
    };
    refused(file, 'dir', 'sim --plot', /it is a file, and sim --plot names a folder/);
    refused(join(file, 'report'), 'dir', 'sim --plot', /log\.csv is a file, not a folder/);
    refused(dir, 'file', 'tune --out', /it is a folder; give a file name inside it/);
    refused(join(dir, 'no', 'such', 'tuned.json'), 'file', 'tune --out', /the folder .*no[/\\]such does not exist; create it first \(mkdir -p/);
    if (linux) refused('/dev/null', 'file', 'run --snapshot', /not a regular file/);
    // what can be written passes, and the check leaves nothing behind
    checkOutputPath(join(dir, 'new', 'deeper'), 'dir', 'sim --plot');
    checkOutputPath(join(dir, 'tuned.json'), 'file', 'tune --out');
    checkOutputPath(file, 'file', 'tune --out');
    t.deepEqual(readdirSync(dir), ['log.csv']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkOutputPath refuses a folder where files cannot be created (/proc), which a permission check alone passes for root', (t) => {
  if (!linux) {
    t.log('skipped: /proc is Linux only');
    t.pass();
    return;
  }
  t.throws(() => checkOutputPath('/proc/neurostream-report', 'dir', 'demo --out'), { instanceOf: InputError, message: /^demo --out: cannot write \/proc\/neurostream-report: in \/proc, / });
});

test('makeDir creates missing parents, and fails at once where a recursive mkdir loops (a report written late to /proc)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-out-'));
  try {
    makeDir(join(dir, 'a', 'b', 'c'));
    t.true(existsSync(join(dir, 'a', 'b', 'c')));
    makeDir(join(dir, 'a', 'b')); // exists: nothing to do
    writeFileSync(join(dir, 'f'), '');
    t.throws(() => makeDir(join(dir, 'f', 'x')), { code: 'ENOTDIR' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!linux) return;
  // In a child process with a time limit: a loop here would spin a core and ignore signals, not fail.
  const script = "import { writeReportIndex } from './sim/plot/report.ts'; try { writeReportIndex('/proc/neurostream-nope/report', { title: 't', intro: [], table: [], figures: [] }); } catch (e) { console.log('failed:', e.code); }";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  t.is(r.signal, null, `writing a report under /proc did not return (killed by ${r.signal})`);
  t.regex(r.stdout, /^failed: E[A-Z]+/, r.stderr);
});

test('a write that fails late under a report folder is named by its flag and file; other errors pass unchanged', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-out-'));
  try {
    const report = join(dir, 'report');
    let late: unknown;
    try {
      writeFileSync(join(report, 'gone', 'index.html'), 'x'); // the folder went away while the command ran
    } catch (err) {
      late = err;
    }
    const named = namedWriteError(late, 'demo --out', report) as Error;
    t.regex(named.message, /^demo --out: could not write .*gone.index\.html: its folder does not exist \(ENOENT\); the report is incomplete, give another folder$/);
    t.is(namedWriteError(late, 'demo --out', join(dir, 'elsewhere')), late, 'a path outside the folder is not blamed on --out');
    const plain = new Error('the board went away');
    t.is(namedWriteError(plain, 'demo --out', report), plain);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
