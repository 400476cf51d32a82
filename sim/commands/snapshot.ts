/** `neurostream snapshot inspect FILE`: what a fixed-point learner snapshot holds, after checking it. */
import { Command } from 'commander';
import { inspectSnapshot } from '../../runtime/snapshot.ts';
import type { SnapshotDescription } from '../../runtime/snapshot.ts';
import { InputError } from '../modelio.ts';
import { loadSnapshotFile } from '../snapshot-file.ts';

export function runInspect(file: string): SnapshotDescription {
  let bytes: Uint8Array;
  try {
    bytes = loadSnapshotFile(file);
  } catch (err) {
    throw new InputError(`cannot read snapshot ${file}: ${(err as Error).message}`);
  }
  try {
    return inspectSnapshot(bytes);
  } catch (err) {
    throw new InputError(`${file}: ${(err as Error).message}`);
  }
}

export function formatDescription(d: SnapshotDescription): string {
  const c = d.config;
  const lines = [
    `snapshot version ${d.version}, ${d.bytes} bytes, CRC-32 ${d.crc32} (ok)`,
    `learner ${c.learner}: inputs ${c.inputs}, hidden ${c.hidden}, outputs ${c.outputs}, tau ${c.tau}, update ${c.update}, ` +
      `trialLength ${c.trialLength}, lrRec ${c.lrRec}, lrOut ${c.lrOut}${c.learner === 'rflo' ? `, feedback ${c.feedback}` : ''}`,
    `weights Q7.24 at ${c.weightFracBits} fractional bits, step updates at ${c.updateFracBits}`,
    `steps ${d.steps}`,
    `saturation ${Object.keys(d.saturation).length === 0 ? 'none' : Object.entries(d.saturation).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `arena ${d.arenaBytes} bytes:`,
    ...d.buffers.map((b) => `  ${b.name.padEnd(10)} ${b.type} x ${String(b.length).padStart(8)}  ${b.format.padEnd(12)} ${String(b.bytes).padStart(10)} bytes`),
  ];
  return lines.join('\n');
}

export function register(program: Command): void {
  const snap = program.command('snapshot').summary('inspect fixed-point learner snapshots');
  snap
    .command('inspect <file>')
    .description('Checks a snapshot (magic, version, size, CRC-32) and prints its configuration, step count, saturation counts and buffers.')
    .option('--json', 'print the description as JSON')
    .action((file: string, o: { json?: boolean }) => {
      const d = runInspect(file);
      process.stdout.write(o.json ? JSON.stringify(d, null, 2) + '\n' : formatDescription(d) + '\n');
    });
}
