/**
 * Sensor source for stock Firmata boards through johnny-five: reads analog pins (sample-and-hold of the latest
 * reading) and offers them as a SampleSource, so the in-process board (sim/board createInProcessBoard) can
 * stream them to a Session over the bridge protocol like any other device.
 *
 * johnny-five is not a dependency of this module: pass the module in (`five: await import('johnny-five')`).
 * Facts (DESIGN.md): johnny-five 2.1 pulls serialport 8, so the package needs
 * `"overrides": {"serialport": "$serialport"}` and must always be handed an io object (e.g. firmata-io's
 * Firmata over a serialport 13 port) rather than a path. Boards are created with repl, debug and sigint off,
 * and close() disables the sensors.
 */
import type { SampleSource } from './source.ts';
import { StreamScaler } from '../runtime/scaler.ts';

/** The slice of johnny-five this module uses. */
export interface FiveSensor {
  readonly value: number | null;
  on(event: 'data', listener: () => void): unknown;
  disable(): unknown;
}
export interface FiveBoard {
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
}
export interface FiveModule {
  Board: new (options: Record<string, unknown>) => FiveBoard;
  Sensor: new (options: { pin: string | number; freq: number; board: FiveBoard }) => FiveSensor;
}

export interface FirmataSourceOptions {
  five: FiveModule;
  /** A johnny-five io object (firmata-io Firmata, or any io plugin). */
  io: unknown;
  /** Analog pins read as input channels, e.g. ['A0', 'A1']. */
  inputs: (string | number)[];
  /** Analog pins read as targets (may be empty: inference only). */
  targets?: (string | number)[];
  /** Milliseconds between sensor reads (johnny-five `freq`, default 10). */
  freqMs?: number;
  /** Full-scale reading (default 1023, 10-bit ADC). Readings map to [-1, 1]. */
  fullScale?: number;
  /** How long to wait for the board's 'ready' (default 10000 ms). */
  readyTimeoutMs?: number;
}

export class FirmataSource implements SampleSource {
  readonly channels: number;
  readonly outputs: number;
  /** Sample rate matching the sensor read period. */
  readonly rateHz: number;
  /** Reads received per pin (inputs, then targets). */
  readonly reads: Uint32Array;
  /** Pin names in channel order (inputs, then targets). */
  readonly pins: string[];
  private readonly latest: Float64Array;
  private readonly sensors: FiveSensor[];
  /** One policy for raw readings (runtime/scaler.ts): [0, fullScale] onto [-1, 1]; anything else rejected, counted. */
  private readonly scalers: StreamScaler[];
  private readonly raw = new Float64Array(1);
  private readonly scaled = new Float64Array(1);
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;

  private constructor(sensors: FiveSensor[], pins: string[], inputs: number, outputs: number, freqMs: number, fullScale: number) {
    this.sensors = sensors;
    this.pins = pins;
    this.channels = inputs;
    this.outputs = outputs;
    this.rateHz = 1000 / freqMs;
    this.latest = new Float64Array(inputs + outputs);
    this.reads = new Uint32Array(inputs + outputs);
    this.lo = new Float64Array(inputs + outputs).fill(Infinity);
    this.hi = new Float64Array(inputs + outputs).fill(-Infinity);
    this.scalers = sensors.map(() => new StreamScaler({ channels: 1, mode: 'range', min: 0, max: fullScale }));
    sensors.forEach((s, i) => {
      s.on('data', () => {
        const v = s.value;
        this.raw[0] = v === null ? NaN : v;
        if (!this.scalers[i].scale(this.raw, this.scaled)) return; // NaN or outside [0, fullScale]: counted there
        this.latest[i] = this.scaled[0];
        this.reads[i]++;
        if (v! < this.lo[i]) this.lo[i] = v!;
        if (v! > this.hi[i]) this.hi[i] = v!;
      });
    });
  }

  /** Readings rejected (not a number, or outside [0, fullScale]) per pin, in channel order. */
  get rejected(): number[] {
    return this.scalers.map((s) => s.rejected);
  }

  /** Pins that read one value every time (at least 20 reads): a stuck or unconnected pin, with that value. */
  constantPins(): { pin: string; value: number }[] {
    const out: { pin: string; value: number }[] = [];
    for (let i = 0; i < this.pins.length; i++) if (this.reads[i] >= 20 && this.lo[i] === this.hi[i]) out.push({ pin: this.pins[i], value: this.lo[i] });
    return out;
  }

  /** Creates the johnny-five Board on `io`, waits for 'ready', and starts one Sensor per pin. */
  static async open(o: FirmataSourceOptions): Promise<FirmataSource> {
    const targets = o.targets ?? [];
    if (o.inputs.length < 1) throw new RangeError('FirmataSource needs at least one input pin (e.g. inputs: ["A0"])');
    const freq = o.freqMs ?? 10;
    if (!(freq >= 1)) throw new RangeError(`freqMs must be >= 1 (got ${freq})`);
    const board = new o.five.Board({ io: o.io, repl: false, debug: false, sigint: false });
    const timeout = o.readyTimeoutMs ?? 10000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the Firmata board did not report ready within ${timeout} ms; check that StandardFirmata is flashed and the port is right`)),
        timeout,
      );
      board.on('ready', () => {
        clearTimeout(timer);
        resolve();
      });
      board.on('error', (e: Error) => {
        clearTimeout(timer);
        reject(new Error(`the Firmata board failed: ${e.message}`));
      });
    });
    checkAnalogPins(o.io, [...o.inputs, ...targets]);
    const sensors = [...o.inputs, ...targets].map((pin) => new o.five.Sensor({ pin, freq, board }));
    return new FirmataSource(sensors, [...o.inputs, ...targets].map(String), o.inputs.length, targets.length, freq, o.fullScale ?? 1023);
  }

  /** The latest readings (sample-and-hold); n is ignored, a live board cannot be rewound. */
  sample(_n: number, x: Float64Array, target: Float64Array): void {
    for (let c = 0; c < this.channels; c++) x[c] = this.latest[c];
    for (let o = 0; o < this.outputs; o++) target[o] = this.latest[this.channels + o];
  }

  /** Stops the sensors' reads (johnny-five keeps polling otherwise). */
  close(): void {
    for (const s of this.sensors) s.disable();
  }
}

/**
 * Checks pins against the analog pins the board reported (firmata-io's `analogPins`: the digital numbers of the pins
 * with an ADC, A0 first). Throws a RangeError naming the pin and the valid ones, e.g. A7 on an Uno (A0..A5); an io
 * plugin that reports no list is not checked.
 */
export function checkAnalogPins(io: unknown, pins: (string | number)[]): void {
  const analog = (io as { analogPins?: unknown } | null)?.analogPins;
  if (!Array.isArray(analog) || analog.length === 0) return;
  const names = analog.map((_, i) => `A${i}`);
  const valid = `${names[0]}..${names[names.length - 1]} (${names.length} analog pins)`;
  for (const pin of pins) {
    const m = typeof pin === 'string' ? /^A(\d+)$/i.exec(pin.trim()) : null;
    const ok = m ? Number(m[1]) < analog.length : typeof pin === 'number' && analog.includes(pin);
    if (!ok) throw new RangeError(`pin ${pin} is not an analog input of this board; it reports ${valid}`);
  }
}

/**
 * Turns sample-and-hold readings into a prediction task: input x(n) = every channel's reading `ahead` samples ago,
 * target(n) = the first channel's reading now, so the learner predicts the first pin `ahead` samples forward.
 * Allocation-free per sample (one ring of ahead + 1 rows).
 */
export class PredictAheadSource implements SampleSource {
  readonly channels: number;
  readonly outputs = 1;
  private readonly ring: Float64Array;
  private readonly row: Float64Array;
  private readonly none = new Float64Array(0);
  private last = -1;
  constructor(private readonly source: SampleSource, private readonly ahead: number) {
    if (!(Number.isInteger(ahead) && ahead >= 1)) throw new RangeError(`ahead must be an integer >= 1 sample (got ${ahead})`);
    this.channels = source.channels;
    this.row = new Float64Array(source.channels);
    this.ring = new Float64Array((ahead + 1) * source.channels);
  }
  sample(n: number, x: Float64Array, target: Float64Array): void {
    const C = this.channels;
    const K = this.ahead + 1;
    if (n > this.last) {
      this.source.sample(n, this.row, this.none);
      if (this.last < 0) for (let k = 0; k < K; k++) this.ring.set(this.row, k * C);
      else this.ring.set(this.row, (n % K) * C);
      this.last = n;
    }
    const old = ((n + 1) % K) * C; // written `ahead` samples before n
    for (let c = 0; c < C; c++) x[c] = this.ring[old + c];
    target[0] = this.ring[(n % K) * C];
  }
}

/** An open stock-Firmata board: the johnny-five module, the firmata-io io object on it, and how to close both. */
export interface FirmataConnection {
  five: FiveModule;
  io: any;
  close(): Promise<void>;
}

const load = (name: string): Promise<any> => import(name);

// Optional peer dependencies of the package. The override makes johnny-five use the serialport 13 this package
// already installs, instead of downloading serialport 8 and compiling it with node-gyp.
const FIRMATA_MISSING =
  'stock Firmata boards (--firmata) need johnny-five and firmata-io, optional peer dependencies that are not installed. ' +
  'In your project run: npm pkg set overrides.serialport=^13.0.0 && npm install johnny-five@^2.1.0 firmata-io@^2.3.0';

/** null when johnny-five and firmata-io load; else what to install (checked before a command opens anything). */
export async function firmataMissing(): Promise<string | null> {
  try {
    await load('johnny-five');
    await load('firmata-io');
    return null;
  } catch {
    return FIRMATA_MISSING;
  }
}

/** The board at the port did not complete StandardFirmata's handshake within openFirmata's timeoutMs. */
export class HandshakeTimeout extends Error {
  override name = 'HandshakeTimeout';
}

/**
 * Opens the serial port at `path`, runs firmata-io's handshake on it and waits for the board to be ready, so johnny-five
 * can take the io directly. firmata-io emits "connect" only on the port's "open", long gone for a port opened
 * beforehand; johnny-five then waits forever. Waiting for the io's "ready" first makes johnny-five see io.isReady and
 * proceed (checked against the real StandardFirmata on simavr, test/firmata-hil.test.ts). johnny-five and firmata-io
 * are loaded here, with a message saying how to install them when they are missing. The wait for the handshake ends
 * after `timeoutMs` (default 15 s) or when `signal` aborts (Ctrl-C), rejecting either way with the port closed.
 */
export async function openFirmata(
  path: string,
  o: { baudRate?: number; samplingIntervalMs?: number; timeoutMs?: number; reportVersionTimeoutMs?: number; signal?: AbortSignal } = {},
): Promise<FirmataConnection> {
  const j5 = await load('johnny-five').catch(() => {
    throw new Error(FIRMATA_MISSING);
  });
  const fio = await load('firmata-io').catch(() => {
    throw new Error(FIRMATA_MISSING);
  });
  const Firmata = fio.Firmata ?? fio.default?.Firmata;
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate: o.baudRate ?? 57600, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((e) => (e ? reject(new Error(`cannot open the Firmata board at ${path}: ${e.message}`)) : resolve())),
  );
  const io = new Firmata(port, { reportVersionTimeout: o.reportVersionTimeoutMs ?? 300, samplingInterval: o.samplingIntervalMs ?? 10 });
  const timeout = o.timeoutMs ?? 15000;
  try {
    await new Promise<void>((resolve, reject) => {
      // one way out, whichever comes first: the timer and the abort listener go with it
      const finish = (e: Error | null): void => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve();
      };
      const timer = setTimeout(
        () => finish(new HandshakeTimeout(`no StandardFirmata handshake from ${path} within ${timeout / 1000} s; check that StandardFirmata is flashed and that the baud rate (${o.baudRate ?? 57600}) is the one in its Firmata.begin()`)),
        timeout,
      );
      const onAbort = (): void => finish(new Error(`stopped while waiting for the StandardFirmata handshake from ${path}`));
      if (o.signal?.aborted) onAbort();
      else o.signal?.addEventListener('abort', onAbort, { once: true });
      io.once('ready', () => finish(null));
    });
  } catch (e) {
    if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
    throw e;
  }
  return {
    five: (j5.default ?? j5) as FiveModule,
    io,
    close: () => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())),
  };
}
