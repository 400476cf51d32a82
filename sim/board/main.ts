/**
 * The virtual board as its own process: `node --import tsx sim/board/main.ts --path /tmp/x/dev [--channels 3]
 * [--outputs 1] [--rate 1000] [--seed 1] [--noise 0.02] [--drift-every 4000]`. Opens the device end of a
 * pseudo-terminal pair (retrying until it exists), prints "ready <path>" once started, streams until SIGTERM
 * or SIGINT, and reopens the path whenever the link goes away (socat restarted = cable replugged).
 * NEUROSTREAM_BOARD_DEBUG=1 logs link events (open, close, HELLO) on stderr.
 */
import { SerialTransport } from '../../firmware-bridge/transports/serial.ts';
import { VirtualBoard } from './device.ts';

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
function num(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) {
    process.stderr.write(`virtual board: --${name} must be a number (got "${v}")\n`);
    process.exit(2);
  }
  return n;
}

const path = arg('path');
if (!path) {
  process.stderr.write('virtual board: --path PATH (the device end of a pty pair) is required\n');
  process.exit(2);
}
const board = new VirtualBoard({
  transport: new SerialTransport({ path }),
  channels: num('channels', 3),
  outputs: num('outputs', 1),
  rateHz: num('rate', 1000),
  seed: num('seed', 1),
  noise: num('noise', 0.02),
  driftEvery: num('drift-every', 4000),
  onLog: process.env.NEUROSTREAM_BOARD_DEBUG ? (m) => process.stderr.write(`[board ${Date.now() % 100000}] ${m}\n`) : undefined,
});
let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await board.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
process.on('uncaughtException', (e) => {
  process.stderr.write(`virtual board: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
await board.start();
process.stdout.write(`ready ${path}\n`);
