import test from 'ava';
import { EventEmitter } from 'node:events';
import { FirmataSource, type FiveModule } from '../firmware-bridge/johnny-five.ts';
import { Session } from '../firmware-bridge/session.ts';
import { createInProcessBoard } from '../sim/board/index.ts';

/** A stand-in for johnny-five's Board and Sensor (the real package is not installed in this project yet). */
function fakeFive(readings: Record<string, number>, ready = true) {
  const boards: Record<string, unknown>[] = [];
  const sensors: { pin: string | number; disabled: boolean }[] = [];
  class Board extends EventEmitter {
    constructor(options: Record<string, unknown>) {
      super();
      boards.push(options);
      if (ready) setImmediate(() => this.emit('ready'));
    }
  }
  class Sensor extends EventEmitter {
    value: number | null = null;
    private timer: NodeJS.Timeout;
    constructor(o: { pin: string | number; freq: number }) {
      super();
      const rec = { pin: o.pin, disabled: false };
      sensors.push(rec);
      this.timer = setInterval(() => {
        this.value = readings[String(o.pin)];
        this.emit('data');
      }, o.freq);
      this.disable = () => {
        rec.disabled = true;
        clearInterval(this.timer);
      };
    }
    disable(): void {}
  }
  return { five: { Board, Sensor } as unknown as FiveModule, boards, sensors };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

test('pin readings of a Firmata board reach the session as inputs and targets scaled to [-1, 1]', async (t) => {
  const readings: Record<string, number> = { A0: 100, A1: 900, A2: 512 };
  const f = fakeFive(readings);
  const io = { name: 'firmata-io stand-in' };
  const source = await FirmataSource.open({ five: f.five, io, inputs: ['A0', 'A1'], targets: ['A2'], freqMs: 5 });
  t.deepEqual(f.boards[0], { io, repl: false, debug: false, sigint: false }, 'board gets the io object, with repl, debug and sigint off');
  await until(() => source.reads.every((n) => n > 0), 2000, 'a read of every pin');
  const dev = await createInProcessBoard({ source, rateHz: source.rateHz });
  const got: number[][] = [];
  const session = new Session({
    transport: dev.transport,
    learner: null,
    config: { inputs: 2, outputs: 1, rateHz: source.rateHz },
    onStep: (_s, x, tg) => got.push([x[0], x[1], tg ? tg[0] : NaN]),
  });
  await session.start();
  await until(() => got.length >= 10, 5000, '10 samples');
  readings.A0 = 1000;
  const n = got.length;
  await until(() => got.length >= n + 20, 5000, '20 more samples');
  await session.stop();
  await dev.stop();
  source.close();
  const q = 1 / 4096; // Q12 on the wire
  const near = (a: number, b: number): boolean => Math.abs(a - b) <= q;
  t.true(near(got[0][0], (2 * 100) / 1023 - 1), `A0 ${got[0][0]}`);
  t.true(near(got[0][1], (2 * 900) / 1023 - 1), `A1 ${got[0][1]}`);
  t.true(near(got[0][2], (2 * 512) / 1023 - 1), `A2 target ${got[0][2]}`);
  t.true(near(got[got.length - 1][0], (2 * 1000) / 1023 - 1), 'a changed reading shows up in later samples');
});

test('close() disables every sensor it started', async (t) => {
  const f = fakeFive({ A0: 1, A1: 2 });
  const source = await FirmataSource.open({ five: f.five, io: {}, inputs: ['A0'], targets: ['A1'] });
  t.is(f.sensors.length, 2);
  source.close();
  t.true(f.sensors.every((s) => s.disabled));
});

test('a Firmata board that never reports ready fails with a message naming StandardFirmata', async (t) => {
  const f = fakeFive({}, false);
  await t.throwsAsync(FirmataSource.open({ five: f.five, io: {}, inputs: ['A0'], readyTimeoutMs: 100 }), { message: /StandardFirmata/ });
});

test('absurd readings are rejected by the one scaling policy and counted; a pin stuck at 1023 is named', async (t) => {
  const readings: Record<string, number> = { A0: 1023, A1: 300 };
  const f = fakeFive(readings);
  const source = await FirmataSource.open({ five: f.five, io: {}, inputs: ['A0', 'A1'], freqMs: 2 });
  await until(() => source.reads[1] >= 5, 2000, 'reads of A1');
  readings.A1 = 65535; // a glitch far outside the 10-bit ADC
  await until(() => source.rejected[1] >= 3, 2000, 'rejections of A1');
  const x = new Float64Array(2);
  source.sample(0, x, new Float64Array(0));
  t.true(Math.abs(x[1] - ((2 * 300) / 1023 - 1)) <= 1 / 4096, `A1 holds its last valid reading (${x[1]})`);
  readings.A1 = 400;
  await until(() => source.reads[0] >= 20 && source.reads[1] >= 20, 4000, '20 reads of each pin');
  source.close();
  t.is(source.rejected[0], 0);
  t.deepEqual(source.constantPins(), [{ pin: 'A0', value: 1023 }]);
});
