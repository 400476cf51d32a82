/**
 * The virtual board as its own process: `node sim/board/main.js --listen /tmp/x/board.sock` (or, for the serial
 * path, `--path /tmp/x/device`) `[--channels 3] [--outputs 1] [--rate 1000] [--seed 1] [--noise 0.02]
 * [--drift-every 4000]`. With --listen it listens on a local socket (Node alone); with --path it opens the device
 * end of a pseudo-terminal pair (retrying until it exists). Prints "ready <path>" once started, streams until
 * SIGTERM or SIGINT, and reopens its end whenever the link goes away (socat restarted = cable replugged).
 * Started with an IPC channel (sim/board/index.ts), the messages 'unplug' and 'replug' cut and restore a socket
 * link; it answers 'unplugged' and 'replugged'.
 * NEUROSTREAM_BOARD_DEBUG=1 logs link events (open, close, HELLO) on stderr.
 */
import { SerialTransport } from '../../firmware-bridge/transports/serial.ts';
import { SocketListenerTransport } from '../../firmware-bridge/transports/socket.ts';
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

const listen = arg('listen');
const path = listen ?? arg('path');
if (!path) {
  process.stderr.write('virtual board: --listen SOCKET (a local socket to listen on) or --path PATH (the device end of a pty pair) is required\n');
  process.exit(2);
}
const listener = listen ? new SocketListenerTransport({ path: listen }) : null;
if (listener) {
  await listener.listen();
  process.on('message', (m) => {
    if (m === 'unplug') void listener.unplug().then(() => process.send?.('unplugged'));
    else if (m === 'replug') void listener.replug().then(() => process.send?.('replugged'));
  });
  process.channel?.unref();
}
// the parent went away (killed, crashed): stop rather than stream to nobody
if (process.connected) process.on('disconnect', () => void shutdown());
const board = new VirtualBoard({
  transport: listener ?? new SerialTransport({ path }),
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
  // a link that will not close must not keep the board alive
  setTimeout(() => process.exit(0), 2000).unref();
  await board.stop();
  await listener?.dispose();
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
