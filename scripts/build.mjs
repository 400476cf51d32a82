#!/usr/bin/env node
// Builds the package's JavaScript: dist/ (ESM, .d.ts, source maps that name the TypeScript file and line; the sources themselves are not inlined, which kept the tarball at 400 kB instead of 628 kB once the live baselines and the divergence guard landed) from runtime/, sim/
// and firmware-bridge/ with tsc -p tsconfig.build.json. dist/ is removed first, so a moved or deleted source file
// leaves nothing stale behind. Run by `prepare` (npm install in a checkout, npm pack, npm publish).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
