/**
 * On-device learning: the C firmware (firmware-bridge/firmware) runs the fixed-point RFLO learner on an emulated
 * Cortex-M3 board (QEMU lm3s6965evb); the host sends it the initial learner as a runtime snapshot, then streams
 * sensor samples with targets and gets the device's predictions back. The host runs the same TypeScript learner on
 * the same integers beside it and compares: the two must agree bit for bit at every step and in the final state.
 *
 *   npx tsx examples/on-device.ts [steps]          # needs make, arm-none-eabi-gcc, qemu-system-arm
 *
 * On a real board flashed with the same firmware, pass its port to runOnDevice({ path: '/dev/ttyACM0' }).
 */
import { pathToFileURL } from 'node:url';
import { createFixedLearner, initWeights, saveSnapshot } from '../runtime/index.ts';
import { DeviceLearnerClient } from '../firmware-bridge/device/client.ts';
import { buildFirmware, startQemu, type QemuBoard } from '../firmware-bridge/qemu.ts';
import { SyntheticSignal } from '../sim/board/signals.ts';

export interface OnDeviceOptions {
  /** A board already running the firmware; default: build it and start QEMU. */
  path?: string;
  steps?: number;
  /** Samples between drift events of the streamed signal (default 4000). */
  driftEvery?: number;
}

export interface OnDeviceResult {
  steps: number;
  stepsPerSecond: number;
  /** Steps whose device prediction differs from the host's (0 means bit-exact). */
  mismatches: number;
  /** The device's final snapshot equals the host learner's, byte for byte. */
  sameFinalState: boolean;
  /** NMSE of the device's predictions over the first and last quarter of the stream. */
  nmseFirst: number;
  nmseLast: number;
}

const q12 = (v: number): number => Math.max(-32768, Math.min(32767, Math.floor(v * 4096 + 0.5)));

export async function runOnDevice(o: OnDeviceOptions = {}): Promise<OnDeviceResult> {
  const T = o.steps ?? 8000;
  const options = { learner: 'rflo', inputs: 3, hidden: 16, outputs: 1, tau: 2, lrRec: 0.03, lrOut: 0.01, update: 'step', trialLength: 1 } as const;
  const host = createFixedLearner(options, initWeights({ ...options, seed: 1, gain: 1.2 }));
  let qemu: QemuBoard | null = null;
  if (!o.path) qemu = await startQemu(buildFirmware({ hidden: 16, inputs: 4, outputs: 4 }));
  const client = await DeviceLearnerClient.open(o.path ?? qemu!.path);
  try {
    await client.hello();
    await client.loadSnapshot(saveSnapshot(host)); // the device starts from exactly the host's integers
    await client.configure({ learner: 'rflo', inputs: 3, outputs: 1, hidden: 16 });
    // The stream: the virtual board's signal (3 channels, a target mixed from them, drift events), in Q3.12.
    const signal = new SyntheticSignal({ channels: 3, outputs: 1, seed: 1, driftEvery: o.driftEvery ?? 4000 });
    const xf = new Float64Array(3);
    const tf = new Float64Array(1);
    const x = new Int16Array(T * 3);
    const target = new Int16Array(T);
    const hostY = new Int16Array(T);
    for (let n = 0; n < T; n++) {
      signal.sample(n, xf, tf);
      for (let j = 0; j < 3; j++) x[n * 3 + j] = q12(xf[j]);
      target[n] = q12(tf[0]);
      host.stepQ(x.subarray(n * 3, n * 3 + 3), target.subarray(n, n + 1), hostY.subarray(n, n + 1));
    }
    const deviceY = new Int16Array(T);
    const t0 = performance.now();
    await client.stream(x, target, deviceY, 3, 1, 64);
    const ms = performance.now() - t0;
    let mismatches = 0;
    for (let n = 0; n < T; n++) if (deviceY[n] !== hostY[n]) mismatches++;
    const a = await client.readSnapshot();
    const b = saveSnapshot(host);
    const nmse = (from: number, to: number): number => {
      let m = 0;
      for (let n = from; n < to; n++) m += target[n];
      m /= to - from;
      let se = 0;
      let v = 0;
      for (let n = from; n < to; n++) {
        se += (target[n] - deviceY[n]) ** 2;
        v += (target[n] - m) ** 2;
      }
      return se / v;
    };
    const q = Math.floor(T / 4);
    return {
      steps: T,
      stepsPerSecond: (T / ms) * 1000,
      mismatches,
      sameFinalState: a.length === b.length && a.every((v, i) => v === b[i]),
      nmseFirst: nmse(0, q),
      nmseLast: nmse(T - q, T),
    };
  } finally {
    await client.close();
    if (qemu) await qemu.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runOnDevice({ steps: process.argv[2] ? Number(process.argv[2]) : undefined });
  console.log(`${r.steps} steps on the emulated board at ${r.stepsPerSecond.toFixed(0)} steps/s`);
  console.log(`device vs host: ${r.mismatches} differing predictions, final state ${r.sameFinalState ? 'identical' : 'DIFFERENT'}`);
  console.log(`NMSE of the device's predictions: first quarter ${r.nmseFirst.toFixed(4)}, last quarter ${r.nmseLast.toFixed(4)}`);
}
