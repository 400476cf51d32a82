#!/usr/bin/env node
// Runs the ava suites named on the command line with the TAP reporter, passes the report through,
// and ends with the plain summary line CI reads: "N passed, N failed[, N skipped]".
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ava = join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const args = process.argv.slice(2);
const child = spawn(process.execPath, [ava, '--tap', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });

let passed = 0;
let failed = 0;
let skipped = 0;
const rl = createInterface({ input: child.stdout });
rl.on('line', (line) => {
  process.stdout.write(line + '\n');
  if (/^not ok \d+/.test(line)) {
    if (/# TODO/.test(line)) skipped++;
    else failed++;
  } else if (/^ok \d+/.test(line)) {
    if (/# SKIP|# TODO/.test(line)) skipped++;
    else passed++;
  }
});
child.on('close', (code) => {
  rl.close();
  // ava exits non-zero on uncaught errors or timeouts even when no test line says "not ok".
  if (code !== 0 && failed === 0) failed = 1;
  const tail = skipped > 0 ? `, ${skipped} skipped` : '';
  process.stdout.write(`${passed} passed, ${failed} failed${tail}\n`);
  process.exit(code === null ? 1 : code);
});
