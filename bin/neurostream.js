#!/usr/bin/env node
// The `neurostream` command: registers tsx so the TypeScript sources run as they are, then hands over to sim/cli.ts.
import { register } from 'tsx/esm/api';

// A reader that stops early (`neurostream sim --help | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

register();
const { main } = await import('../sim/cli.ts');
process.exitCode = await main(process.argv);
// Every command closes what it opened before main returns (sim/lifetime.ts). Should anything still hold the process,
// say what and exit instead of hanging; the tests treat this message as a failure.
setTimeout(() => {
  const held = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
  process.stderr.write(`neurostream: internal error: still holding ${held.join(', ') || 'timers'} after the command ended; exiting\n`);
  process.exit(process.exitCode || 1);
}, 3000).unref();
