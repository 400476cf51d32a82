/**
 * The import graph the map draws (README, "Layout"): nothing in runtime/ imports outside runtime/ (not even Node's
 * built-ins), nothing in firmware-bridge/ imports sim/, and no module imports itself through a cycle. Read from the
 * import and export-from statements of every TypeScript source file (type-only imports included: they are still
 * arrows between modules).
 */
import test from 'ava';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SOURCE_DIRS = ['runtime', 'sim', 'firmware-bridge', 'bench', 'examples', 'scripts'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of a file's static imports, `export ... from` and dynamic import('...') with a literal. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  const re = /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (let m = re.exec(code); m !== null; m = re.exec(code)) specs.push(m[1] ?? m[2]);
  return specs;
}

interface Edge {
  from: string;
  to: string;
}

function graph(): { files: string[]; edges: Edge[]; external: Edge[] } {
  const files = SOURCE_DIRS.flatMap((d) => sources(join(root, d))).map((f) => relative(root, f));
  const edges: Edge[] = [];
  const external: Edge[] = [];
  for (const f of files) {
    for (const spec of importsOf(readFileSync(join(root, f), 'utf8'))) {
      if (spec.startsWith('.')) edges.push({ from: f, to: relative(root, resolve(root, dirname(f), spec)) });
      else external.push({ from: f, to: spec });
    }
  }
  return { files, edges, external };
}

const inside = (dir: string, f: string) => f.startsWith(`${dir}/`);

test('the import reader sees every form of import the sources use', (t) => {
  const text = [
    "import a from './a.ts';",
    "import type { B } from '../b.ts';",
    "import { c,\n  d } from 'node:fs';",
    "export { e } from './e.ts';",
    "export type { F } from './f.ts';",
    "export * from './g.ts';",
    "const h = await import('./h.ts');",
    "// import x from './commented.ts';",
    "/* import y from './block.ts'; */",
    "import './side-effect.ts';",
  ].join('\n');
  t.deepEqual(importsOf(text), ['./a.ts', '../b.ts', 'node:fs', './e.ts', './f.ts', './g.ts', './h.ts', './side-effect.ts']);
});

test('no arrow from runtime/ outward: runtime imports only runtime (no packages, no Node built-ins)', (t) => {
  const { edges, external, files } = graph();
  t.true(files.filter((f) => inside('runtime', f)).length > 10);
  const bad = [
    ...edges.filter((e) => inside('runtime', e.from) && !inside('runtime', e.to)),
    ...external.filter((e) => inside('runtime', e.from)),
  ].map((e) => `${e.from} -> ${e.to}`);
  t.deepEqual(bad, []);
});

test('no arrow from firmware-bridge/ into sim/', (t) => {
  const bad = graph()
    .edges.filter((e) => inside('firmware-bridge', e.from) && inside('sim', e.to))
    .map((e) => `${e.from} -> ${e.to}`);
  t.deepEqual(bad, []);
});

test('no import cycle among the source files', (t) => {
  const { files, edges } = graph();
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    stack.push(f);
    for (const g of next.get(f) ?? []) {
      if (state.get(g) === 1) cycles.push([...stack.slice(stack.indexOf(g)), g].join(' -> '));
      else if (state.get(g) === undefined && next.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of files) if (state.get(f) === undefined) visit(f);
  t.deepEqual(cycles, []);
});
