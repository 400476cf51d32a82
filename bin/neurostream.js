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
