#!/usr/bin/env node
// Runs the project's ava suites with the TAP reporter, passes the report through, and ends with the plain summary
// line CI reads: "N passed, N failed[, N skipped]".
//
//   node scripts/test.mjs            npm test: every test/*.test.ts
//   node scripts/test.mjs long       npm run test:long: test/long/*.test.ts
//   node scripts/test.mjs hil        npm run hil: the emulated hardware-in-the-loop suites, short and long
//   node scripts/test.mjs FILE...    just those files
//
// The emulated boards (QEMU, simavr) keep real-time paces and sample-and-hold sensors: with the rest of the suite
// competing for the 2 cores their host side stalls, readings repeat or skip, and a learning check measures the
// machine's load instead of the learner. So they run in a later phase, one file at a time, after everything else.
// The allocation checks likewise: they measure the code V8's optimizing compiler installs, and with another test file
// competing for the 2 cores its background compile thread can stay queued through every measured window, so the
// interpreter's boxed numbers show up as heap growth (seen in CI: 12 bytes a sample in all three windows of
// session-alloc, under 0.1 alone). They run in their own phase, one file at a time, before the emulated boards.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ava = join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');

const SOLO = ['test/hil.test.ts', 'test/firmata-hil.test.ts', 'test/run-on-device.test.ts'];
const ALLOC = ['test/framer-alloc.test.ts', 'test/live-guard.test.ts', 'test/reference-gc.test.ts', 'test/runtime-alloc.test.ts', 'test/session-alloc.test.ts'];
const files = (dir) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => `${dir}/${f}`);

const arg = process.argv[2];
let phases;
if (arg === undefined || arg === 'all') {
  phases = [
    { name: 'suites', files: files('test').filter((f) => !SOLO.includes(f) && !ALLOC.includes(f)), args: [] },
    { name: 'allocation checks, one file at a time', files: ALLOC, args: ['--concurrency=1', '--serial'] },
    { name: 'emulated boards, one file at a time', files: SOLO, args: ['--concurrency=1', '--serial'] },
  ];
} else if (arg === 'long') {
  phases = [{ name: 'long suites', files: files('test/long'), args: [] }];
} else if (arg === 'hil') {
  phases = [{ name: 'emulated boards, one file at a time', files: [...SOLO, 'test/long/hil.test.ts'], args: ['--concurrency=1', '--serial'] }];
} else {
  phases = [{ name: 'selected files', files: process.argv.slice(2), args: [] }];
}

// A test file that produces no result for this long is taken as hung (the slowest file, runtime-alloc, reports a
// test every 5 to 50 s on an idle 2-core machine).
const WATCHDOG_MS = Number(process.env.NEUROSTREAM_TEST_WATCHDOG_MIN ?? 8) * 60_000;

/** The ava worker processes (its direct children), read from /proc; empty where there is no /proc. */
function childrenOf(pid) {
  const out = [];
  let entries = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

let passed = 0;
let failed = 0;
let skipped = 0;

function runPhase(p) {
  return new Promise((resolve) => {
    process.stdout.write(`# phase: ${p.name} (${p.files.length} files)\n`);
    // ava's own inactivity timeout is set above the watchdog's (its TAP reporter crashes on a timeout and loses the
    // names of the pending tests), so a hang is ended here instead, naming the file that hung.
    const child = spawn(process.execPath, [ava, '--tap', `--timeout=${WATCHDOG_MS + 5 * 60_000}ms`, ...p.args, ...p.files], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let phaseFailed = 0;
    let lastLine = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastLine < WATCHDOG_MS) return;
      lastLine = Date.now();
      const workers = childrenOf(child.pid);
      process.stdout.write(`# watchdog: no test finished for ${WATCHDOG_MS / 60_000} minutes; ending ${workers.length} test worker(s), whose files ava names below\n`);
      // ava reports each ended worker as a failed test named by its file; with no worker found, ava itself is ended
      // and its non-zero exit is counted below.
      if (workers.length === 0) child.kill('SIGTERM');
      for (const pid of workers) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }, 5000);
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      lastLine = Date.now();
      process.stdout.write(line + '\n');
      if (/^not ok \d+/.test(line)) {
        if (/# TODO/.test(line)) skipped++;
        else (failed++, phaseFailed++);
      } else if (/^ok \d+/.test(line)) {
        if (/# SKIP|# TODO/.test(line)) skipped++;
        else passed++;
      }
    });
    child.on('close', (code) => {
      clearInterval(watchdog);
      rl.close();
      // ava exits non-zero on uncaught errors or timeouts even when no test line says "not ok".
      if (code !== 0 && phaseFailed === 0) failed++;
      resolve(code === null ? 1 : code);
    });
  });
}

let exit = 0;
for (const p of phases) {
  const code = await runPhase(p);
  if (code !== 0) exit = code;
}
const tail = skipped > 0 ? `, ${skipped} skipped` : '';
process.stdout.write(`${passed} passed, ${failed} failed${tail}\n`);
process.exit(exit);
