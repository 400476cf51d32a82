/**
 * Shared by test/quickjs.test.ts (10^3 steps, in npm test) and test/long/quickjs.test.ts (10^4 steps).
 * The runtime on a microcontroller-class JavaScript engine: the compiled runtime (tsc's ESM output of runtime/, the
 * JavaScript kernels; QuickJS has no WebAssembly) runs inside QuickJS (the engine of ESP32-class boards, embedded in
 * Node by quickjs-emscripten). Every learner, created there from its seed (initWeights runs in QuickJS too), steps
 * a stream made of integer arithmetic (so no libm differences enter through the input); the arena
 * bytes after the run must equal those of the same program under Node, bit for bit.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getQuickJS } from 'quickjs-emscripten';

const root = join(fileURLToPath(import.meta.url), '..', '..');

// Runs in both engines: ES2022 without any host API. Returns, per learner, the arena as hex and a checksum.
const DRIVER = `
import { createFixedLearner, initWeights } from './runtime/index.js';
import { createRng as rng, rngNextU32 as next } from './runtime/rng.js';

const LEARNERS = [
  { learner: 'rtrl', hidden: 8 },
  { learner: 'snap1', hidden: 16 },
  { learner: 'rflo', hidden: 16 },
  { learner: 'output', hidden: 16 },
  { learner: 'rflo', hidden: 12, update: 'trial', trialLength: 50 },
];

function hex(bytes) {
  const d = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += d[bytes[i] >> 4] + d[bytes[i] & 15];
  return s;
}

export function runAll(steps) {
  const out = [];
  for (const spec of LEARNERS) {
    const options = { learner: spec.learner, inputs: 2, hidden: spec.hidden, outputs: 1, tau: 3, lrRec: 0.02, lrOut: 0.02, update: spec.update ?? 'step', trialLength: spec.trialLength ?? 1 };
    const learner = createFixedLearner(options, initWeights({ ...options, seed: 7, gain: 1.2 }), { backend: 'js' });
    const s = rng(11);
    const x = new Float64Array(2), target = new Float64Array(1), y = new Float64Array(1);
    let a = 0, b = 0;
    for (let t = 0; t < steps; t++) {
      // inputs in [-1, 1) from 32-bit integers (exact in float64), target a linear filter of them
      a = next(s) / 4294967296 * 2 - 1;
      x[0] = a;
      x[1] = 0.5 * x[1] + 0.25 * a;
      b = 0.75 * b + 0.25 * a;
      target[0] = b;
      learner.step(x, target, y);
      if (options.update === 'trial' && (t + 1) % options.trialLength === 0) learner.endTrial();
    }
    const bytes = new Uint8Array(learner.arena, learner.arenaOffset, learner.plan.totalBytes);
    let sum = 0;
    for (let i = 0; i < bytes.length; i++) sum = (sum * 31 + bytes[i]) >>> 0;
    out.push({ name: spec.learner + (spec.update ? '-' + spec.update : '') + '-n' + spec.hidden, bytes: bytes.length, sum, arena: hex(bytes), y: y[0] });
  }
  return out;
}
`;

interface Run {
  name: string;
  bytes: number;
  sum: number;
  arena: string;
  y: number;
}

let dir = '';
/** Compiles the runtime into a temporary folder before the file's tests, and removes it after. */
export function setupQuickJsArena(): void {
  test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'neurostream-quickjs-'));
  // the compiled runtime, as the package ships it (dist/runtime/), built here from the sources
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [
    tsc, join(root, 'runtime', 'index.ts'), join(root, 'runtime', 'rng.ts'),
    '--outDir', dir, '--rootDir', root, '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
    '--rewriteRelativeImportExtensions', '--strict', '--skipLibCheck', '--lib', 'ES2022',
  ], { cwd: root, stdio: 'inherit' });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n'); // as in the package: .js is ESM
  writeFileSync(join(dir, 'driver.mjs'), DRIVER);
});
test.after.always(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
}

async function runInNode(steps: number): Promise<Run[]> {
  const m = (await import(pathToFileURL(join(dir, 'driver.mjs')).href)) as { runAll(steps: number): Run[] };
  return m.runAll(steps);
}

async function runInQuickJS(steps: number): Promise<{ runs: Run[]; version: string }> {
  const QuickJS = await getQuickJS();
  const rt = QuickJS.newRuntime();
  rt.setMemoryLimit(64 * 1024 * 1024);
  rt.setModuleLoader(
    (name) => readFileSync(name, 'utf8'),
    (base, requested) => resolve(dirname(base), requested),
  );
  const vm = rt.newContext();
  try {
    const main = join(dir, 'main.mjs');
    writeFileSync(main, `import { runAll } from './driver.mjs';\nglobalThis.result = JSON.stringify(runAll(${steps}));\n`);
    const r = vm.evalCode(readFileSync(main, 'utf8'), main, { type: 'module' });
    if (r.error) {
      const e = vm.dump(r.error);
      r.error.dispose();
      throw new Error(`QuickJS: ${JSON.stringify(e)}`);
    }
    r.value.dispose();
    rt.executePendingJobs();
    const h = vm.getProp(vm.global, 'result');
    const json = vm.getString(h);
    h.dispose();
    return { runs: JSON.parse(json) as Run[], version: 'quickjs-emscripten' };
  } finally {
    vm.dispose();
    rt.dispose();
  }
}

export async function compareArenas(t: ExecutionContext, STEPS: number): Promise<void> {
  const node = await runInNode(STEPS);
  // the comparison sees one step: the arena one sample earlier differs for every learner
  const before = await runInNode(STEPS - 1);
  for (let i = 0; i < node.length; i++) t.not(before[i].arena, node[i].arena, `${node[i].name}: the last step changed the arena`);
  const t0 = Date.now();
  const qjs = await runInQuickJS(STEPS);
  t.log(`QuickJS ran ${node.length} learners x ${STEPS} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  t.is(qjs.runs.length, node.length);
  for (let i = 0; i < node.length; i++) {
    const a = node[i];
    const b = qjs.runs[i];
    t.is(b.name, a.name);
    t.log(`${a.name}: ${a.bytes} arena bytes, checksum node ${a.sum.toString(16)} quickjs ${b.sum.toString(16)}`);
    t.is(b.bytes, a.bytes, `${a.name}: arena size`);
    if (b.arena !== a.arena) {
      let k = 0;
      while (k < a.arena.length && a.arena[k] === b.arena[k]) k++;
      t.fail(`${a.name}: arenas differ from byte ${k >> 1} on`);
    } else t.pass();
    t.is(b.y, a.y, `${a.name}: last prediction`);
  }
}
