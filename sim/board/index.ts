/**
 * Starts a virtual board: a separate process (sim/board/main.ts) speaking the bridge protocol over a byte stream.
 * - link 'socket' (the default, Node alone): the board listens on a local socket <dir>/board.sock
 *   (firmware-bridge/transports/socket.ts) and the host connects to `path` with SocketTransport.
 * - link 'pty' (for testing the serial path itself; needs socat): socat creates two linked pseudo-terminals
 *   (symlinked as <dir>/host and <dir>/device), the board opens the device end and the host opens `path` like
 *   any serial port.
 * hostTransport(path) picks the right host transport for either path (or a real serial device).
 *
 * unplug() cuts the link (socket: the board drops the host and stops listening, told over the process's IPC
 * channel; pty: socat is killed); replug() restores it, and the board reopens its end by itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { SignalOptions } from './signals.ts';
import { VirtualBoard, type VirtualBoardOptions } from './device.ts';
import { createMockPair } from '../../firmware-bridge/transports/mock.ts';
import type { Transport } from '../../firmware-bridge/transport.ts';
import { SerialTransport } from '../../firmware-bridge/transports/serial.ts';
import { SocketTransport, isSocketPath } from '../../firmware-bridge/transports/socket.ts';

export { VirtualBoard, VIRTUAL_BOARD_MAX_RATE_HZ, type VirtualBoardOptions, type VirtualBoardStats, type SampleSource } from './device.ts';
export { SyntheticSignal, type SignalOptions } from './signals.ts';

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), '..', '..');
/** The board process's entry: main.ts beside this file under tsx in a checkout, compiled main.js in the package. */
const boardMain = (): string[] =>
  here.endsWith('.ts') ? ['--import', 'tsx', join(dirname(here), 'main.ts')] : [join(dirname(here), 'main.js')];

/**
 * The host's transport for a board path: a local socket (what `neurostream board --virtual` prints) gets a
 * SocketTransport, anything else (/dev/ttyACM0, COM3, a pty) a SerialTransport at baudRate.
 */
export function hostTransport(path: string, baudRate = 115200): Transport {
  return isSocketPath(path) ? new SocketTransport({ path }) : new SerialTransport({ path, baudRate });
}

/** True when the socat binary runs. */
export function hasSocat(): boolean {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return r.status === 0;
}

export interface PtyPair {
  /** Host end (open this with serialport). */
  host: string;
  /** Device end. */
  device: string;
  dir: string;
  /** Kills socat: both ends go away. */
  unplug(): Promise<void>;
  /** Starts socat again on the same link names. */
  replug(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A socat pseudo-terminal pair with stable link names in a fresh temporary directory. */
export async function createPtyPair(dir = mkdtempSync(join(tmpdir(), 'neurostream-pty-'))): Promise<PtyPair> {
  if (!hasSocat()) throw new Error('socat is not installed; install it with: apt-get install -y --no-install-recommends socat');
  const host = join(dir, 'host');
  const device = join(dir, 'device');
  let proc: ChildProcess | null = null;
  const startSocat = async (): Promise<void> => {
    const p = spawn('socat', [`pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`], { stdio: 'ignore' });
    proc = p;
    let exited = false;
    p.on('exit', () => {
      exited = true;
    });
    await waitFor(() => exited || (existsSync(host) && existsSync(device)), 5000, `socat to create ${host} and ${device}`);
    if (exited) throw new Error('socat exited before creating the pty pair');
  };
  const kill = async (): Promise<void> => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
    // A killed socat leaves its links behind, pointing at /dev/pts numbers the kernel hands out again: the next
    // socat may get the old "device" number for its host side, and a peer reopening the stale link would land on
    // the wrong end. Remove them, so only the new socat's links can be opened.
    rmSync(host, { force: true });
    rmSync(device, { force: true });
  };
  await startSocat();
  return {
    host,
    device,
    dir,
    unplug: kill,
    replug: startSocat,
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface StartVirtualBoardOptions extends SignalOptions {
  /** Print the board process's stderr here (default: inherit). */
  stderr?: 'inherit' | 'ignore';
  /** The byte stream: a local socket (default, Node alone) or a socat pseudo-terminal pair ('pty'). */
  link?: 'socket' | 'pty';
}

export interface VirtualBoardHandle {
  /** Host-side path: open it with hostTransport(path) (a socket) or SerialTransport (a pty). */
  path: string;
  link: 'socket' | 'pty';
  /** The pty pair when link is 'pty'. */
  pty: PtyPair | null;
  pid: number;
  unplug(): Promise<void>;
  replug(): Promise<void>;
  stop(): Promise<void>;
}

/** Spawns the board process (and socat for a pty link); resolves when the board is ready on its end. */
export async function startVirtualBoard(options: StartVirtualBoardOptions = {}): Promise<VirtualBoardHandle> {
  const link = options.link ?? 'socket';
  const pty = link === 'pty' ? await createPtyPair() : null;
  const dir = pty ? pty.dir : mkdtempSync(join(tmpdir(), 'neurostream-board-'));
  const sock = process.platform === 'win32' ? `\\\\.\\pipe\\neurostream-board-${process.pid}-${Date.now()}` : join(dir, 'board.sock');
  const args = [...boardMain(), ...(pty ? ['--path', pty.device] : ['--listen', sock])];
  const add = (flag: string, v: number | undefined): void => {
    if (v !== undefined) args.push(`--${flag}`, String(v));
  };
  add('channels', options.channels);
  add('outputs', options.outputs);
  add('rate', options.rateHz);
  add('seed', options.seed);
  add('noise', options.noise);
  add('drift-every', options.driftEvery);
  // Its own process group (detached): a terminal's Ctrl-C or a kill of the host's group reaches the host alone, which
  // then stops the board itself; a board that died first was reported as gone at the end of a run it never left.
  // The board stops by itself when the host goes away (its IPC channel closes).
  const child = spawn(process.execPath, args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', options.stderr ?? 'inherit', 'ipc'] });
  child.on('error', () => {}); // an IPC send to a board that just exited
  child.channel?.unref(); // the IPC channel alone does not keep this process alive
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error('the virtual board process did not report ready within 20 s')), 20000);
      rl.on('line', (line) => {
        if (line.startsWith('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the virtual board process exited with code ${code} before it was ready`));
      });
    });
  } catch (e) {
    if (!exited) child.kill('SIGKILL');
    if (pty) await pty.close();
    else rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // socket link: the board process cuts and restores its end when told, and answers when done
  const tell = (what: 'unplug' | 'replug'): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (exited || !child.connected) return reject(new Error(`the virtual board process is not running (cannot ${what})`));
      const onMessage = (m: unknown): void => {
        if (m === `${what}ged`) {
          child.off('message', onMessage);
          resolve();
        }
      };
      child.on('message', onMessage);
      child.send(what);
    });
  return {
    path: pty ? pty.host : sock,
    link,
    pty,
    pid: child.pid!,
    unplug: () => (pty ? pty.unplug() : tell('unplug')),
    replug: () => (pty ? pty.replug() : tell('replug')),
    async stop() {
      if (!exited) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => child.kill('SIGKILL'), 2000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      if (pty) await pty.close();
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface InProcessBoard {
  /** Host end: hand it to a Session. */
  transport: Transport;
  board: VirtualBoard;
  stop(): Promise<void>;
}

/**
 * A board in this process on the mock cable: the device side of the protocol around any SampleSource (a
 * SyntheticSignal by default, or a FirmataSource reading a stock Firmata board through johnny-five).
 */
export async function createInProcessBoard(options: Omit<VirtualBoardOptions, 'transport'>): Promise<InProcessBoard> {
  const pair = createMockPair({ record: false });
  const board = new VirtualBoard({ ...options, transport: pair.device });
  await board.start();
  return { transport: pair.host, board, stop: () => board.stop() };
}
