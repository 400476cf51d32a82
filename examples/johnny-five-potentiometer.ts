/**
 * A potentiometer on a real Arduino running StandardFirmata, through johnny-five: the host learns online to predict
 * where the knob will be `aheadMs` from now, from the readings so far, with the fixed-point RFLO learner. Turn the
 * knob back and forth in a rhythm and watch the running NMSE fall.
 *
 * Wiring: potentiometer ends to 5V and GND, wiper to A0. Flash File > Examples > Firmata > StandardFirmata.
 * Run (johnny-five is not a dependency of neurostream; install it next to it, with serialport pinned, see
 * DESIGN.md: "overrides": {"serialport": "$serialport"}):
 *
 *   npm install johnny-five firmata-io
 *   npx tsx examples/johnny-five-potentiometer.ts /dev/ttyACM0 [seconds]
 *
 * The path: johnny-five Sensor on A0 -> FirmataSource (firmware-bridge/johnny-five.ts) -> an in-process board that
 * speaks the bridge protocol -> Session -> learner.step. `runPotentiometer` takes the johnny-five module and the io
 * object as arguments, so a test can hand it stand-ins (test/examples.test.ts).
 */
import { pathToFileURL } from 'node:url';
import { createFixedLearner, initWeights, type LearnerKind } from '../runtime/index.ts';
import { FirmataSource, PredictAheadSource, openFirmata, type FiveModule } from '../firmware-bridge/johnny-five.ts';
import { Session } from '../firmware-bridge/session.ts';
import { createInProcessBoard } from '../sim/board/index.ts';

export interface PotentiometerOptions {
  /** The johnny-five module (`await import('johnny-five')`) and an io object (firmata-io's Firmata on a port). */
  five: FiveModule;
  io: unknown;
  /** Analog pin of the wiper (default 'A0'). */
  pin?: string;
  /** Milliseconds between reads (default 10, i.e. 100 Hz). */
  freqMs?: number;
  /** How far ahead to predict (default 100 ms). */
  aheadMs?: number;
  /** Stop after this long (default: run until signal aborts). */
  seconds?: number;
  learner?: LearnerKind;
  signal?: AbortSignal;
  /** A progress line about once a second. */
  onProgress?: (line: string) => void;
}

export interface PotentiometerResult {
  samples: number;
  /** NMSE of the prediction over the first and the last quarter of the samples. */
  nmseFirst: number;
  nmseLast: number;
  /** The same for "the knob stays where it is" (predict the latest reading). */
  persistenceLast: number;
}

export async function runPotentiometer(o: PotentiometerOptions): Promise<PotentiometerResult> {
  const freqMs = o.freqMs ?? 10;
  const ahead = Math.max(1, Math.round((o.aheadMs ?? 100) / freqMs));
  const source = await FirmataSource.open({ five: o.five, io: o.io, inputs: [o.pin ?? 'A0'], freqMs });
  const board = await createInProcessBoard({ source: new PredictAheadSource(source, ahead), rateHz: source.rateHz });
  const options = { learner: o.learner ?? 'rflo', inputs: 1, hidden: 16, outputs: 1, tau: 2, lrRec: 0.03, lrOut: 0.03, update: 'step', trialLength: 1 } as const;
  const learner = createFixedLearner(options, initWeights({ ...options, seed: 1, gain: 1.2 }));
  const rows: number[][] = []; // [input, target, prediction]
  const session = new Session({
    transport: board.transport,
    learner,
    config: { inputs: 1, outputs: 1, rateHz: source.rateHz, hidden: 16 },
    onStep: (_seq, x, target, y) => {
      if (target) rows.push([x[0], target[0], y[0]]);
    },
  });
  const progress = setInterval(() => o.onProgress?.(`${rows.length} samples, running NMSE ${session.stats.nmse.toFixed(4)}`), 1000);
  try {
    await session.start();
    await new Promise<void>((resolve) => {
      const timer = o.seconds !== undefined ? setTimeout(resolve, o.seconds * 1000) : null;
      o.signal?.addEventListener('abort', () => (timer && clearTimeout(timer), resolve()), { once: true });
      if (o.signal?.aborted) resolve();
    });
  } finally {
    clearInterval(progress);
    await session.stop();
    await board.stop();
    source.close();
  }
  const q = Math.floor(rows.length / 4);
  const nmse = (from: number, to: number, col: number): number => {
    let m = 0;
    for (let i = from; i < to; i++) m += rows[i][1];
    m /= to - from;
    let se = 0;
    let v = 0;
    for (let i = from; i < to; i++) {
      se += (rows[i][1] - rows[i][col]) ** 2;
      v += (rows[i][1] - m) ** 2;
    }
    return se / v;
  };
  return {
    samples: rows.length,
    nmseFirst: q > 1 ? nmse(0, q, 2) : NaN,
    nmseLast: q > 1 ? nmse(rows.length - q, rows.length, 2) : NaN,
    persistenceLast: q > 1 ? nmse(rows.length - q, rows.length, 0) : NaN,
  };
}

// As a script: a real Arduino on the given port.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: npx tsx examples/johnny-five-potentiometer.ts /dev/ttyACM0 [seconds]\n');
    process.exit(2);
  }
  const conn = await openFirmata(path).catch((e: Error) => {
    process.stderr.write(e.message + '\n');
    process.exit(2);
  });
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  const seconds = process.argv[3] ? Number(process.argv[3]) : undefined;
  const r = await runPotentiometer({ five: conn.five, io: conn.io, seconds, signal: ac.signal, onProgress: (l) => process.stderr.write(l + '\n') });
  console.log(`${r.samples} samples; NMSE first quarter ${r.nmseFirst.toFixed(4)}, last quarter ${r.nmseLast.toFixed(4)} (knob-stays-put ${r.persistenceLast.toFixed(4)})`);
  await conn.close();
  process.exit(0);
}
