#!/usr/bin/env node
// Fetches an official Node.js build from the npm registry (the node-linux-<arch> packages hold bin/node) and prints
// the path of its node binary. Cached under <tmpdir>/neurostream-node/<arch>-<version>/.
//
//   node scripts/fetch-node.mjs 24            this machine's architecture, the newest 24.x
//   node scripts/fetch-node.mjs 22 arm64      linux-arm64 (Raspberry Pi OS 64-bit), e.g. to run under qemu-user
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [line, archArg] = process.argv.slice(2);
if (!line || !/^\d+(\.\d+){0,2}$/.test(line)) {
  console.error('usage: node scripts/fetch-node.mjs MAJOR[.MINOR.PATCH] [x64|arm64]');
  process.exit(2);
}
const arch = archArg ?? process.arch;
if (!['x64', 'arm64'].includes(arch)) {
  console.error(`fetch-node: arch must be x64 or arm64 (got "${arch}")`);
  process.exit(2);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const spec = `node-linux-${arch}@${line}`;
const version = JSON.parse(execFileSync(npm, ['view', spec, 'version', '--json'], { encoding: 'utf8' }));
const v = Array.isArray(version) ? version[version.length - 1] : version;
const dir = join(tmpdir(), 'neurostream-node', `${arch}-${v}`);
const bin = join(dir, 'package', 'bin', 'node');
if (!existsSync(bin)) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync(npm, ['pack', `node-linux-${arch}@${v}`, '--silent', '--pack-destination', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  execFileSync('tar', ['xzf', join(dir, tgz), '-C', dir, 'package/bin/node']);
  rmSync(join(dir, tgz));
}
process.stdout.write(bin + '\n');
