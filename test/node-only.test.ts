/**
 * The built-in virtual board needs nothing but Node: `neurostream demo` (what `npm start` runs) and `run --virtual`
 * run with a PATH that holds only the node binary, so socat (or any other system tool) cannot be found.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const bin = join(root, 'bin', 'neurostream.js');

function nodeOnlyPath(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-path-'));
  symlinkSync(process.execPath, join(dir, basename(process.execPath)));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: dir };
  return { dir, env };
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    // A hang detector, not a time bound: the command should exit in seconds; a hang fails with what it printed.
    const timer = setTimeout(() => {
      stderr += `\n[test] neurostream ${args.join(' ')} did not exit within 180 s; killed`;
      child.kill('SIGKILL');
    }, 180_000);
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

test('the PATH of these tests really lacks socat', (t) => {
  const { dir, env } = nodeOnlyPath();
  const r = spawnSync('socat', ['-V'], { env, stdio: 'ignore' });
  t.is((r.error as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
  rmSync(dir, { recursive: true, force: true });
});

test('demo --duration runs on the built-in board with socat absent from PATH and writes the report', async (t) => {
  const { dir, env } = nodeOnlyPath();
  const out = join(dir, 'report');
  try {
    const r = await run(['demo', '--duration', '4', '--out', out, '--json'], env);
    t.is(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    t.true(s.virtual);
    t.true(s.samples > 1000, `${s.samples} samples`);
    t.true(existsSync(join(out, 'index.html')) && existsSync(join(out, 'summary.json')));
    t.deepEqual(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).samples, s.samples);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run --virtual --duration --json streams from the built-in board with socat absent from PATH', async (t) => {
  const { dir, env } = nodeOnlyPath();
  try {
    const r = await run(['run', '--virtual', '--duration', '3', '--json'], env);
    t.is(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    t.true(s.samples > 500, `${s.samples} samples`);
    t.is(s.frames_dropped, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
