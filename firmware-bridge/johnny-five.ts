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
import type { SampleSource } from '../sim/board/device.ts';

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
  private readonly latest: Float64Array;
  private readonly sensors: FiveSensor[];
  private readonly scale: number;

  private constructor(sensors: FiveSensor[], inputs: number, outputs: number, freqMs: number, fullScale: number) {
    this.sensors = sensors;
    this.channels = inputs;
    this.outputs = outputs;
    this.rateHz = 1000 / freqMs;
    this.scale = fullScale;
    this.latest = new Float64Array(inputs + outputs);
    this.reads = new Uint32Array(inputs + outputs);
    sensors.forEach((s, i) => {
      s.on('data', () => {
        const v = s.value;
        if (v !== null && Number.isFinite(v)) {
          this.latest[i] = (2 * v) / this.scale - 1;
          this.reads[i]++;
        }
      });
    });
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
    const sensors = [...o.inputs, ...targets].map((pin) => new o.five.Sensor({ pin, freq, board }));
    return new FirmataSource(sensors, o.inputs.length, targets.length, freq, o.fullScale ?? 1023);
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
