/**
 * The package from a user's project: `npm pack` (which builds dist/), install the tarball into a fresh temporary
 * project, then use it the normal ways (scripts/consumer-smoke.mjs does the work and reports JSON). Budgets keep
 * the package small: what ships is dist/, the C firmware and the specs, not tests or golden vectors.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');

/** Budgets. Measured at the first release: 463 kB, 245 files, 27.4 MB in 98 packages installed on linux-x64, Node 20;
 * with the stream tasks, baselines, tune and the direct readout: 597 kB, 295 files, 29.5 MB in 99 packages (Node 24);
 * with the live baselines and the divergence guard, 628 kB with the TypeScript inlined in the source maps, 400 kB
 * (298 files) without it. */
const TARBALL_BYTES = 600_000;
const TARBALL_FILES = 300;
const INSTALL_BYTES = 40_000_000;
const INSTALL_PACKAGES = 110;

interface Smoke {
  node: string;
  tarball: { bytes: number; files: number; unpackedBytes: number; paths: string[] };
  install: { bytes: number; files: number; packages: number; seconds: number };
  checks: {
    library: { nmse: number };
    readme: { absError: number };
    types: { exitCode: number; errors: number; output: string };
    version: string;
    sim: { median_nmse: number; curve: { nmse: number }[] };
    firmata: { exitCode: number; stderr: string };
  };
}

let smoke: Promise<Smoke> | null = null;
function run(): Promise<Smoke> {
  smoke ??= new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'scripts', 'consumer-smoke.mjs')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    // A hang detector, not a time bound (packing, installing and running take about a minute on a loaded machine).
    const timer = setTimeout(() => {
      err += '\n[test] scripts/consumer-smoke.mjs did not finish within 8 minutes; killed';
      child.kill('SIGKILL');
    }, 8 * 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`scripts/consumer-smoke.mjs exited ${code}:\n${err.slice(-4000)}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as Smoke);
    });
  });
  return smoke;
}

test('the packed tarball stays within its size and file budgets and ships no tests', async (t) => {
  const s = await run();
  t.log(`tarball ${s.tarball.bytes} bytes (${s.tarball.unpackedBytes} unpacked), ${s.tarball.files} files; install ${s.install.bytes} bytes, ${s.install.files} files, ${s.install.packages} packages in ${s.install.seconds} s`);
  t.true(s.tarball.bytes <= TARBALL_BYTES, `tarball ${s.tarball.bytes} bytes > ${TARBALL_BYTES}`);
  t.true(s.tarball.files <= TARBALL_FILES, `tarball ${s.tarball.files} files > ${TARBALL_FILES}`);
  t.true(s.install.bytes <= INSTALL_BYTES, `install ${s.install.bytes} bytes > ${INSTALL_BYTES}`);
  t.true(s.install.packages <= INSTALL_PACKAGES, `install ${s.install.packages} packages > ${INSTALL_PACKAGES}`);
  const shipped = s.tarball.paths;
  t.deepEqual(shipped.filter((p) => /^(test|bench|examples|docs|scripts|\.ci)\/|\.test\.|\.txt$|\.png$|(^|\/)[^/]+\.ts$/.test(p) && !p.endsWith('.d.ts')), [], 'no tests, golden vectors, CI, docs images or TypeScript sources');
  for (const f of ['dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/sim/index.js', 'dist/firmware-bridge/index.js', 'dist/sim/cli.js', 'bin/neurostream.js', 'firmware-bridge/firmware/Makefile', 'firmware-bridge/firmware/ns_kernel.c', 'README.md']) {
    t.true(shipped.includes(f), `ships ${f}`);
  }
});

test('a plain .mjs importing neurostream learns a sine one step ahead, and the README example runs as written', async (t) => {
  const s = await run();
  t.log(`sine NMSE over the last 5000 steps ${s.checks.library.nmse.toExponential(2)}; README example |y - target| at the end ${s.checks.readme.absError.toExponential(2)}`);
  t.true(s.checks.library.nmse < 1e-3, `NMSE ${s.checks.library.nmse}`);
  t.true(s.checks.readme.absError < 0.01, `README example error ${s.checks.readme.absError}`);
});

test('a strict NodeNext TypeScript consumer of neurostream, neurostream/sim and neurostream/bridge type-checks', async (t) => {
  const s = await run();
  t.is(s.checks.types.exitCode, 0, s.checks.types.output);
  t.is(s.checks.types.errors, 0);
});

test('npx neurostream --version and sim run from the consumer project; --firmata without johnny-five says how to install it', async (t) => {
  const s = await run();
  const pkg = (await import('../package.json', { with: { type: 'json' } })).default as { version: string };
  t.is(s.checks.version, pkg.version);
  const curve = s.checks.sim.curve;
  t.true(curve[curve.length - 1].nmse < 0.5 * curve[0].nmse, `sim NMSE ${curve[0].nmse} -> ${curve[curve.length - 1].nmse}`);
  t.not(s.checks.firmata.exitCode, 0);
  t.regex(s.checks.firmata.stderr, /npm pkg set overrides\.serialport=\^13\.0\.0 && npm install johnny-five@\^2\.1\.0 firmata-io@\^2\.3\.0/);
});
