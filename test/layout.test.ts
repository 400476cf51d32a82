import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUFFERS, LEARNER_KIND_CODES, LEARNER_KIND_ORDER, SATURATION_NAMES, bufferLength } from '../runtime/layout.ts';
import { plan } from '../runtime/plan.ts';
import { LEARNER_CODES, learnerMaskBit } from '../firmware-bridge/protocol.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the generated C header and AssemblyScript layout are what scripts/gen-layout.ts makes from runtime/layout.ts', (t) => {
  const r = spawnSync(process.execPath, ['--import=tsx', 'scripts/gen-layout.ts', '--check'], { cwd: root, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr + r.stdout);
});

test('plan() lays out exactly the manifest buffers each learner kind has, in manifest order', (t) => {
  const base = { inputs: 3, hidden: 5, outputs: 2, tau: 4, lrRec: 0.01, lrOut: 0.01, update: 'step', trialLength: 1 } as const;
  for (const kind of LEARNER_KIND_ORDER) {
    for (const acc of [false, true]) {
      const p = plan({ ...base, learner: kind, accumulateGradient: acc });
      const len = (b: (typeof BUFFERS)[number]) => bufferLength(b, kind, 5, 3, 2, false, acc);
      const want = BUFFERS.filter((b) => len(b) > 0 || b.length.length === 0).map((b) => [b.name, b.type, len(b)]);
      t.deepEqual(p.buffers.map((b) => [b.name, b.type, b.length]), want, `${kind}, accumulateGradient ${acc}`);
      t.is(p.buffers.some((b) => b.name.startsWith('acc_')), acc, `${kind}: acc_* present iff accumulating`);
    }
  }
});

test('the protocol numbers learners from the manifest codes (wire code = kind code + 1, mask bit = kind code)', (t) => {
  for (const k of LEARNER_KIND_ORDER) {
    t.is(LEARNER_CODES[k], LEARNER_KIND_CODES[k] + 1);
    t.is(learnerMaskBit(k), 1 << LEARNER_KIND_CODES[k]);
  }
  t.is(LEARNER_CODES.none, 0);
});

test('each buffer, counter and kind code is defined once: no hand-kept lists in the kernels, the loader or the C plan', (t) => {
  const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');
  // The C plan and the wasm loader take their names and order from the generated files, not their own literals.
  t.false(/"W_rec_q12"/.test(read('firmware-bridge/firmware/ns_plan.c')));
  t.false(/ptr\('W_in'\)/.test(read('runtime/wasm/backend.ts')));
  t.false(/\benum ns_(kind|sat|buf)\s*\{/.test(read('firmware-bridge/firmware/ns.h')));
  const as = read('runtime/wasm/assembly/kernels.as');
  const outside = as.replace(/\/\/ ---- GENERATED LAYOUT[\s\S]*?\/\/ ---- END GENERATED LAYOUT ----/, '');
  t.false(/\bconst KIND_\w+ = \d/.test(outside), 'kind codes only in the generated region');
  t.false(/\bcfgp?\(\d+\)/.test(outside), 'config slots only in the generated region');
  t.false(/\bp(W_in_q|B_q)\b/.test(as), 'dead slots are gone');
  t.is(new Set<string>(SATURATION_NAMES).size, SATURATION_NAMES.length as number);
});
