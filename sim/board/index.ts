/**
 * Starts a virtual board behind a pseudo-terminal pair: socat creates two linked ptys (symlinked as
 * <dir>/host and <dir>/device), and the board process (sim/board/main.ts under tsx) speaks the bridge
 * protocol on the device end. The host opens `path` like any serial port.
 *
 * unplug() kills socat (both ends see the link go away, like a pulled cable); replug() starts a new socat on
 * the same link names, and the board process reopens its end by itself.
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

export { VirtualBoard, type VirtualBoardOptions, type VirtualBoardStats, type SampleSource } from './device.ts';
export { SyntheticSignal, type SignalOptions } from './signals.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

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
}

export interface VirtualBoardHandle {
  /** Host-side device path: open it with SerialTransport / serialport. */
  path: string;
  pty: PtyPair;
  pid: number;
  unplug(): Promise<void>;
  replug(): Promise<void>;
  stop(): Promise<void>;
}

/** Spawns socat and the board process; resolves when the board is ready on the device end. */
export async function startVirtualBoard(options: StartVirtualBoardOptions = {}): Promise<VirtualBoardHandle> {
  const pty = await createPtyPair();
  const args = ['--import', 'tsx', join(root, 'sim', 'board', 'main.ts'), '--path', pty.device];
  const add = (flag: string, v: number | undefined): void => {
    if (v !== undefined) args.push(`--${flag}`, String(v));
  };
  add('channels', options.channels);
  add('outputs', options.outputs);
  add('rate', options.rateHz);
  add('seed', options.seed);
  add('noise', options.noise);
  add('drift-every', options.driftEvery);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', options.stderr ?? 'inherit'] });
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
    await pty.close();
    throw e;
  }
  return {
    path: pty.host,
    pty,
    pid: child.pid!,
    unplug: () => pty.unplug(),
    replug: () => pty.replug(),
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
      await pty.close();
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
