/**
 * One contract for every Transport (firmware-bridge/transport.ts), byte level: the in-memory mock (whole and
 * fragmented reads), serialport's SerialPortMock, a local socket (the built-in virtual board's link, Node
 * alone) and a socat pseudo-terminal pair. The session-level
 * contract, which also runs against a real board (TEST_PORT), is test/board-contract.test.ts.
 */
import test from 'ava';
import { SerialPortMock } from 'serialport';
import type { Transport } from '../firmware-bridge/transport.ts';
import { createMockPair } from '../firmware-bridge/transports/mock.ts';
import { SerialTransport } from '../firmware-bridge/transports/serial.ts';
import { SocketListenerTransport, SocketTransport } from '../firmware-bridge/transports/socket.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPtyPair, hasSocat } from '../sim/board/index.ts';
import { createRng, rngNextU32 } from '../runtime/rng.ts';

interface Link {
  /** Writer and reader (the same object for an echo port). */
  a: Transport;
  b: Transport;
  unplug?: () => Promise<void>;
  replug?: () => Promise<void>;
  dispose(): Promise<void>;
}

interface Backend {
  name: string;
  /** The link can be cut and restored (a mock cable, a pty pair). */
  canUnplug: boolean;
  make(): Promise<Link>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

let mockPorts = 0;
const backends: Backend[] = [
  {
    name: 'mock pair',
    canUnplug: true,
    async make() {
      const p = createMockPair();
      return { a: p.host, b: p.device, unplug: async () => p.unplug(), replug: async () => p.replug(), dispose: async () => {} };
    },
  },
  {
    name: 'mock pair with reads of at most 3 bytes',
    canUnplug: true,
    async make() {
      const p = createMockPair({ maxReadSize: 3 });
      return { a: p.host, b: p.device, unplug: async () => p.unplug(), replug: async () => p.replug(), dispose: async () => {} };
    },
  },
  {
    name: 'serialport SerialPortMock (echo)',
    canUnplug: false,
    async make() {
      const path = `/dev/neurostream-mock-${mockPorts++}`;
      SerialPortMock.binding.createPort(path, { echo: true, record: false });
      const t = new SerialTransport({ path, mock: true });
      return { a: t, b: t, dispose: async () => {} };
    },
  },
  {
    name: 'local socket (host connects, device listens)',
    canUnplug: true,
    async make() {
      const dir = mkdtempSync(join(tmpdir(), 'neurostream-sock-'));
      const path = join(dir, 'board.sock');
      const device = new SocketListenerTransport({ path });
      await device.listen();
      return {
        a: new SocketTransport({ path }),
        b: device,
        unplug: () => device.unplug(),
        replug: () => device.replug(),
        dispose: async () => {
          await device.dispose();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

const socat = hasSocat();
const ptyBackend: Backend = {
  name: 'socat pseudo-terminal pair',
  canUnplug: true,
  async make() {
    const pty = await createPtyPair();
    return {
      a: new SerialTransport({ path: pty.host }),
      b: new SerialTransport({ path: pty.device }),
      unplug: () => pty.unplug(),
      replug: () => pty.replug(),
      dispose: () => pty.close(),
    };
  },
};
if (socat) backends.push(ptyBackend);
else if (process.env.CI) {
  test('socat is installed (CI=true requires the pseudo-terminal suites)', (t) => {
    t.fail('socat is missing but CI is set: install it with apt-get install -y --no-install-recommends socat (.ci/run does)');
  });
} else {
  test.skip('transport contract over a socat pseudo-terminal pair (skipped: socat is not installed; apt-get install socat)', () => {});
}

function recorder(t: Transport): { bytes: number[]; closes: (Error | null)[]; drains: number } {
  const r = { bytes: [] as number[], closes: [] as (Error | null)[], drains: 0 };
  t.setHandlers({
    data: (c, n) => {
      for (let i = 0; i < n; i++) r.bytes.push(c[i]);
    },
    drain: () => {
      r.drains++;
    },
    close: (e) => r.closes.push(e),
  });
  return r;
}

async function openBoth(l: Link): Promise<void> {
  await l.a.open();
  if (l.b !== l.a) await l.b.open();
}
async function closeBoth(l: Link): Promise<void> {
  await l.a.close();
  if (l.b !== l.a) await l.b.close();
}

for (const be of backends) {
  test(`${be.name}: bytes written in pieces of random size arrive in order and intact`, async (t) => {
    const l = await be.make();
    const rx = recorder(l.b);
    if (l.b !== l.a) recorder(l.a);
    await openBoth(l);
    const rng = createRng(5);
    const sent: number[] = [];
    const buf = new Uint8Array(300);
    while (sent.length < 8000) {
      const n = 1 + (rngNextU32(rng) % 300);
      for (let i = 0; i < n; i++) {
        buf[i] = rngNextU32(rng) & 0xff;
        sent.push(buf[i]);
      }
      // the session's form, (buffer, length), half of the time
      if (!(n % 2 === 0 ? l.a.write(buf, n) : l.a.write(buf.subarray(0, n)))) await sleep(1);
    }
    await until(() => rx.bytes.length >= sent.length, 5000, `${sent.length} bytes`);
    t.is(rx.bytes.length, sent.length);
    t.true(rx.bytes.every((b, i) => b === sent[i]), 'bytes differ');
    await closeBoth(l);
    await l.dispose();
  });

  test(`${be.name}: write() copies the caller's bytes, so the buffer can be reused at once; write(buf, n) sends the first n`, async (t) => {
    const l = await be.make();
    const rx = recorder(l.b);
    if (l.b !== l.a) recorder(l.a);
    await openBoth(l);
    const buf = Uint8Array.of(1, 2, 3, 4);
    l.a.write(buf);
    buf.fill(9);
    l.a.write(buf);
    l.a.write(buf, 2);
    buf.fill(5);
    await until(() => rx.bytes.length >= 10, 3000, '10 bytes');
    t.deepEqual(rx.bytes, [1, 2, 3, 4, 9, 9, 9, 9, 9, 9]);
    await closeBoth(l);
    await l.dispose();
  });

  test(`${be.name}: close() reports once with null, writes then return false, and the transport opens again`, async (t) => {
    const l = await be.make();
    const ra = recorder(l.a);
    const rb = l.b !== l.a ? recorder(l.b) : ra;
    await openBoth(l);
    await l.a.close();
    await until(() => ra.closes.length >= 1, 2000, 'close report');
    t.deepEqual(ra.closes, [null]);
    t.false(l.a.isOpen);
    t.false(l.a.write(Uint8Array.of(1)));
    await l.a.open();
    t.true(l.a.isOpen);
    l.a.write(Uint8Array.of(7, 7));
    await until(() => rb.bytes.length >= 2, 3000, 'bytes after reopening');
    t.deepEqual(rb.bytes.slice(-2), [7, 7]);
    await closeBoth(l);
    await l.dispose();
  });

  if (be.canUnplug) {
    test(`${be.name}: an unplug ends the open link with an error (at the latest on the next write) and it reopens after replug`, async (t) => {
      const l = await be.make();
      const ra = recorder(l.a);
      const rb = recorder(l.b);
      await openBoth(l);
      await l.unplug!();
      for (let i = 0; i < 100 && ra.closes.length === 0; i++) {
        l.a.write(Uint8Array.of(1));
        await sleep(10);
      }
      t.is(ra.closes.length, 1);
      t.true(ra.closes[0] instanceof Error, 'the close carries an error');
      t.false(l.a.isOpen);
      await l.replug!();
      if (l.b.isOpen) await l.b.close();
      await openBoth(l);
      l.a.write(Uint8Array.of(5, 6));
      await until(() => rb.bytes.length >= 2 && rb.bytes[rb.bytes.length - 1] === 6, 3000, 'bytes after replug');
      t.pass();
      await closeBoth(l);
      await l.dispose();
    });
  }
}

test('local socket, device end: a device blocked on a host that left (full buffer, no drain to come) is released, and the next host hears it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-drain-'));
  const path = join(dir, 'board.sock');
  const device = new SocketListenerTransport({ path, highWaterMark: 1024 });
  let drains = 0;
  device.setHandlers({ data: () => {}, drain: () => drains++, close: () => {} });
  await device.open();
  const first = new SocketTransport({ path });
  first.setHandlers({ data: () => {}, drain: () => {}, close: () => {} });
  await first.open();
  try {
    // the host reads nothing: write until the device end reports a full buffer
    const chunk = new Uint8Array(4096);
    while (!device.hasPeer) await new Promise((r) => setTimeout(r, 5));
    let full = false;
    for (let i = 0; i < 100000 && !full; i++) full = !device.write(chunk);
    t.true(full, 'the device end reported a full buffer');
    const before = drains;
    await first.close(); // the host leaves with bytes unread: its socket will never drain
    while (device.hasPeer) await new Promise((r) => setTimeout(r, 5));
    t.true(drains > before, 'the writer was told it may write again when the host left');
    // a second host connects and hears what the device writes next
    const got: number[] = [];
    const second = new SocketTransport({ path });
    second.setHandlers({ data: (c, n) => got.push(...c.subarray(0, n)), drain: () => {}, close: () => {} });
    await second.open();
    while (!device.hasPeer) await new Promise((r) => setTimeout(r, 5));
    t.true(device.write(Uint8Array.of(7, 8, 9)));
    while (got.length < 3) await new Promise((r) => setTimeout(r, 5));
    t.deepEqual(got, [7, 8, 9]);
    await second.close();
  } finally {
    await device.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
