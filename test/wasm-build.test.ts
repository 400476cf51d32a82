import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KERNELS_WASM_BASE64 } from '../runtime/wasm/kernels-wasm.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

// The project's lib has no WebAssembly typings: the reflection calls used here.
interface Desc {
  module?: string;
  name: string;
  kind: string;
}
const WA = (globalThis as unknown as {
  WebAssembly: { Module: { new (b: Uint8Array): object; imports(m: object): Desc[]; exports(m: object): Desc[] } };
}).WebAssembly;

test('the committed kernels.wasm and its base64 module are what scripts/build-wasm.mjs builds from kernels.as', (t) => {
  const r = spawnSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { cwd: root, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr + r.stdout);
});

test('the embedded base64 module is byte-identical to runtime/wasm/kernels.wasm and needs only env.memory', (t) => {
  const file = readFileSync(new URL('../runtime/wasm/kernels.wasm', import.meta.url));
  const embedded = Buffer.from(KERNELS_WASM_BASE64, 'base64');
  t.true(Buffer.compare(file, embedded) === 0);
  const m = new WA.Module(embedded);
  t.deepEqual(WA.Module.imports(m), [{ module: 'env', name: 'memory', kind: 'memory' }]);
  t.deepEqual(WA.Module.exports(m).map((e) => e.name).sort(), ['configure', 'step']);
});
