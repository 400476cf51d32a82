/**
 * Hardware in the loop against the real StandardFirmata (the Arduino Uno build shipped in avrgirl-arduino 5.0.1,
 * firmware-bridge/avr/README.md) on an emulated ATmega328P (simavr, firmware-bridge/avr/harness.c): the harness
 * drives ADC0 with a known sine of simulated time; the real johnny-five with firmata-io's Firmata reads A0 over the
 * emulated UART's pty; FirmataSource streams it through an in-process board to a Session and a fixed-point RFLO
 * learner that predicts the reading 200 ms ahead.
 *
 * The harness runs at half real time (SPEED): simavr needs ~16 M emulated instructions per wall second for real time
 * and does not get them on a loaded 2-core machine, and an uneven pace would warp the signal the host sees. In
 * simulated time the sine is 1 Hz and Firmata reports A0 every 10 ms (this StandardFirmata's minimum sampling
 * interval: asked for 5 ms, it measurably reports every 10), so on the host it is 0.5 Hz, reported every 20 ms.
 * The host samples it every 40 ms (each sample the median of about two reports): sampling at the report period
 * itself made every few ms of host timer jitter a repeated or skipped reading, and host stalls under load (measured
 * up to 180 ms on the shared machine) bursts of repeats that threw the learner off.
 */
import test from 'ava';
import { FirmataSource, PredictAheadSource, openFirmata, type FirmataConnection } from '../firmware-bridge/johnny-five.ts';
import { Session } from '../firmware-bridge/session.ts';
import { missingSimavrTool, startSimavr } from '../firmware-bridge/simavr.ts';
import { createFixedLearner, initWeights } from '../runtime/index.ts';
import { createInProcessBoard } from '../sim/board/index.ts';
import { runLive } from '../sim/commands/run.ts';

const SPEED = 0.5; // simulated seconds per wall second
const WAVE = { freqHz: 1, ampMv: 2000, offsetMv: 2500 }; // ADC0, in simulated time
const WAVE1 = { freqHz: 0.5, ampMv: 1000, offsetMv: 2500 }; // ADC1: read raw from Firmata only, to show the channels apart
const SAMPLING_MS = 10; // Firmata's analog sampling interval (simulated ms; the firmware's minimum)
const FREQ_MS = (2 * SAMPLING_MS) / SPEED; // johnny-five Sensor period and the learner's sample period (wall ms): 40
const AHEAD = 5; // samples predicted ahead (200 ms)
const RUN_S = 40; // wall seconds of learning (the whole test takes ~45 s)

const missing = missingSimavrTool();
// Without the tools, skip on a developer machine; under CI a missing tool fails (the test runs and says what is missing).
// serial: each test runs its own emulated Uno, which needs most of a core to keep its pace.
const hil = missing !== null && !process.env.CI ? test.skip : test.serial;
const skipNote = missing !== null && !process.env.CI ? ` (skipped: ${missing} not found)` : '';

/** Upward crossings of `mid` (with hysteresis) in `v`: their indices. */
function upCrossings(v: ArrayLike<number>, mid: number, hyst: number): number[] {
  const at: number[] = [];
  let low = v[0] < mid;
  for (let i = 1; i < v.length; i++) {
    if (low && v[i] > mid + hyst) {
      at.push(i);
      low = false;
    } else if (!low && v[i] < mid - hyst) low = true;
  }
  return at;
}

/** Cycles per unit of `time` from upward crossings: (crossings - 1) / (time of last - time of first). */
function frequency(v: ArrayLike<number>, time: ArrayLike<number>, mid: number, hyst: number): number {
  const c = upCrossings(v, mid, hyst);
  if (c.length < 3) return NaN;
  return (c.length - 1) / (time[c[c.length - 1]] - time[c[0]]);
}

function nmse(rows: number[][], from: number, to: number, col: number): number {
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
}

hil(`the real StandardFirmata on an emulated Uno streams the injected A0 sine through johnny-five to a learner that learns to predict it${skipNote}`, async (t) => {
  t.timeout(90_000);
  if (missing !== null) {
    t.fail(`CI is set but ${missing} is missing: install simavr, libsimavr-dev, libelf-dev, gcc and make`);
    return;
  }
  const uno = await startSimavr({ speed: SPEED, adc0: WAVE, adc1: WAVE1 });
  let conn: FirmataConnection | null = null;
  let source: FirmataSource | null = null;
  try {
    // openFirmata: the port is opened first, firmata-io's handshake runs on it, and johnny-five gets a ready io.
    conn = await openFirmata(uno.path, { samplingIntervalMs: SAMPLING_MS });
    const { five, io } = conn;
    const raw: number[] = []; // every A0 report, as Firmata sent it
    io.on('analog-read-0', (v: number) => raw.push(v));
    const raw1: number[] = [];
    io.analogRead(1, (v: number) => raw1.push(v));
    source = await FirmataSource.open({ five, io, inputs: ['A0'], freqMs: FREQ_MS, readyTimeoutMs: 15000 });
    t.regex(String(io.firmware?.name), /StandardFirmata/, 'the board is the real StandardFirmata');
    t.log(`firmware ${io.firmware.name} ${io.firmware.version?.major}.${io.firmware.version?.minor}, protocol ${io.version.major}.${io.version.minor}`);

    const board = await createInProcessBoard({ source: new PredictAheadSource(source, AHEAD), rateHz: source.rateHz });
    const options = { learner: 'rflo', inputs: 1, hidden: 16, outputs: 1, tau: 2, lrRec: 0.01, lrOut: 0.01, update: 'step', trialLength: 1 } as const;
    const learner = createFixedLearner(options, initWeights({ ...options, seed: 1, gain: 1.2 }));
    const rows: number[][] = []; // [input, target, prediction]
    const rowWall: number[] = [];
    const session = new Session({
      transport: board.transport,
      learner,
      config: { inputs: 1, outputs: 1, rateHz: source.rateHz, hidden: 16 },
      nmseWindow: 125, // 5 s
      onStep: (_seq, x, target, y) => {
        if (!target) return;
        rows.push([x[0], target[0], y[0]]);
        rowWall.push(performance.now() / 1000);
      },
    });
    const raw0 = raw.length;
    const wall0 = performance.now() / 1000;
    await session.start();
    const running: number[] = []; // the session's running NMSE every 5 s
    for (let s = 0; s < RUN_S; s += 5) {
      await new Promise((r) => setTimeout(r, 5000));
      running.push(session.stats.nmse);
    }
    await session.stop();
    await board.stop();
    const wall1 = performance.now() / 1000;
    const rawRun = raw.length - raw0;

    // (a) The injected signal arrives. Firmata's reports are evenly spaced in simulated time, so their frequency
    // in cycles per report is exact: 1 Hz x 10 ms = 0.01.
    const expectedMax = (1023 * (WAVE.offsetMv + WAVE.ampMv)) / 5000;
    const expectedMin = (1023 * (WAVE.offsetMv - WAVE.ampMv)) / 5000;
    const index = raw.map((_, i) => i);
    const perReport = frequency(raw, index, 511.5, 50);
    const rawMax = Math.max(...raw);
    const rawMin = Math.min(...raw);
    const perReport1 = frequency(raw1, raw1.map((_, i) => i), 511.5, 50);
    const expectedMax1 = (1023 * (WAVE1.offsetMv + WAVE1.ampMv)) / 5000;
    const expectedMin1 = (1023 * (WAVE1.offsetMv - WAVE1.ampMv)) / 5000;
    const raw1Max = Math.max(...raw1);
    const raw1Min = Math.min(...raw1);
    // The pace the harness kept over the run (simulated s per wall s), from the reports that arrived.
    const speed = (rawRun * SAMPLING_MS) / 1000 / (wall1 - wall0);
    // What the learner received, back in ADC counts, with the wall time each sample reached the host.
    const counts = rows.map((r) => ((r[1] + 1) * 1023) / 2);
    const learnerHz = frequency(counts, rowWall, 511.5, 50);
    const learnerMax = Math.max(...counts);
    const learnerMin = Math.min(...counts);

    // (b) It learns to predict it.
    const q = Math.floor(rows.length / 4);
    const nmseFirst = nmse(rows, 0, q, 2);
    const nmseLast = nmse(rows, rows.length - q, rows.length, 2);
    const persistenceLast = nmse(rows, rows.length - q, rows.length, 0);
    t.log(`${raw.length} A0 reports (${rawRun} during the run), ${(perReport * 1000).toFixed(3)} cycles per 1000 reports (expected ${WAVE.freqHz * SAMPLING_MS}), counts ${rawMin}..${rawMax} (expected ${expectedMin.toFixed(1)}..${expectedMax.toFixed(1)})`);
    t.log(`${raw1.length} A1 reports, ${(perReport1 * 1000).toFixed(3)} cycles per 1000 reports (expected ${WAVE1.freqHz * SAMPLING_MS}), counts ${raw1Min}..${raw1Max} (expected ${expectedMin1.toFixed(1)}..${expectedMax1.toFixed(1)})`);
    t.log(`harness pace over the run ${speed.toFixed(3)}x real time (asked ${SPEED}); learner got ${rows.length} samples, ${learnerHz.toFixed(4)} Hz (expected ${(WAVE.freqHz * speed).toFixed(4)}), counts ${learnerMin.toFixed(1)}..${learnerMax.toFixed(1)}`);
    t.log(`NMSE first quarter ${nmseFirst.toFixed(4)}, last quarter ${nmseLast.toFixed(4)}, persistence last quarter ${persistenceLast.toFixed(4)}, session running NMSE every 5 s ${running.map((v) => v.toFixed(3)).join(' ')}`);

    t.true(Math.abs(perReport / (WAVE.freqHz * SAMPLING_MS * 1e-3) - 1) < 0.01, `A0 reports: ${perReport} cycles per report`);
    t.true(Math.abs(rawMax - expectedMax) <= 2 && Math.abs(rawMin - expectedMin) <= 2, `A0 reports span ${rawMin}..${rawMax}`);
    t.true(Math.abs(perReport1 / (WAVE1.freqHz * SAMPLING_MS * 1e-3) - 1) < 0.02, `A1 reports: ${perReport1} cycles per report`);
    t.true(Math.abs(raw1Max - expectedMax1) <= 2 && Math.abs(raw1Min - expectedMin1) <= 2, `A1 reports span ${raw1Min}..${raw1Max}`);
    t.true(Math.abs(learnerHz / (WAVE.freqHz * speed) - 1) < 0.05, `learner's signal at ${learnerHz} Hz`);
    t.true(Math.abs(learnerMax - expectedMax) <= 3 && Math.abs(learnerMin - expectedMin) <= 3, `learner's signal spans ${learnerMin}..${learnerMax}`);
    t.true(rows.length >= 0.5 * RUN_S * (1000 / FREQ_MS), `only ${rows.length} samples reached the learner`);
    t.true(nmseLast < 0.5 * nmseFirst, `NMSE did not halve: ${nmseFirst} -> ${nmseLast}`);
    t.true(running[running.length - 1] < 0.25 * running[0], `running NMSE ${running[0]} after 5 s, ${running[running.length - 1]} at the end`);
    t.true(nmseLast < persistenceLast, `NMSE ${nmseLast} is not below persistence ${persistenceLast}`);
  } finally {
    source?.close();
    if (conn) await conn.close();
    t.log(await uno.stop());
  }
});

hil(`neurostream run --firmata learns from the emulated Uno's A0 through johnny-five and reports a falling NMSE${skipNote}`, async (t) => {
  t.timeout(90_000);
  if (missing !== null) {
    t.fail(`CI is set but ${missing} is missing: install simavr, libsimavr-dev, libelf-dev, gcc and make`);
    return;
  }
  const uno = await startSimavr({ speed: SPEED, adc0: WAVE, adc1: WAVE1 });
  const err: string[] = [];
  try {
    const summary = await runLive(
      {
        port: uno.path,
        firmata: true,
        pins: ['A0'],
        sampleMs: FREQ_MS,
        aheadMs: AHEAD * FREQ_MS,
        learner: 'rflo',
        engine: 'fixed',
        inputs: 3,
        outputs: 1,
        rate: 1000,
        hidden: 16,
        tau: 2,
        lrOut: 0.01,
        lrRec: 0.01,
        seed: 1,
        duration: 30,
        json: true,
        snapshotEvery: 60,
        driftEvery: 0,
        progress: false,
      },
      { stdout: () => {}, stderr: (s) => err.push(s) },
    );
    t.log(err.join('').trim());
    t.log(`samples ${summary.samples}, NMSE first tenth ${summary.nmse_first}, last tenth ${summary.nmse_last}, dropped ${summary.frames_dropped}`);
    t.regex(err.join(''), /StandardFirmata at .* pins A0 every 40 ms/);
    t.true(summary.samples >= 400, `samples: ${summary.samples} (30 s at 25 Hz is 750)`);
    t.is(summary.frames_dropped, 0);
    t.true(summary.nmse_first !== null && summary.nmse_last !== null);
    t.true(summary.nmse_last! < 0.5 * summary.nmse_first!, `NMSE ${summary.nmse_first} -> ${summary.nmse_last}`);
  } finally {
    t.log(await uno.stop());
  }
});
