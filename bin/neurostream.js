#!/usr/bin/env node
// The `neurostream` command. In an installed package it runs the compiled JavaScript in dist/; in a checkout
// (the TypeScript sources beside this file) it registers tsx and runs the sources as they are, so a change is
// live without a build.
import { existsSync } from 'node:fs';

// A reader that stops early (`neurostream sim --help | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const source = new URL('../sim/cli.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import('../dist/sim/cli.js');
}
process.exitCode = await cli.main(process.argv);
// Every command closes what it opened before main returns (sim/lifetime.ts). Should anything still hold the process,
// say what and exit instead of hanging; the tests treat this message as a failure.
setTimeout(() => {
  const held = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
  process.stderr.write(`neurostream: internal error: still holding ${held.join(', ') || 'timers'} after the command ended; exiting
`);
  process.exit(process.exitCode || 1);
}, 3000).unref();
