// The live path over a real socket, measured in the host: the virtual board's process streams to SocketTransport,
// the session and RFLO N = 64. In test:long, not npm test: what Node itself allocates per socket read, write and
// timer (about 40 KB/s at 2000 samples/s, no object per sample) sits near this test's bound of 16 bytes a sample,
// and how many samples share a read depends on the machine's timing (measured 12.9 to 16.1 bytes a sample, the
// latter in a CI run). The project's own per-sample allocation is gated in npm test by test/session-alloc.test.ts
// (mock link, 10^5 samples, 0 GC events, a flat heap); bench/live.ts counts the live path's GC events.
import test from 'ava';
import { allocationSites, fullGc, gcEventsWhile } from '../helpers/gc.ts';
import { SocketTransport } from '../../firmware-bridge/transports/socket.ts';
import { startVirtualBoard } from '../../sim/board/index.ts';
import { Session } from '../../firmware-bridge/session.ts';
import { createFixedLearner } from '../../runtime/learner.ts';
import { initWeights } from '../../runtime/init.ts';

test.serial('10^4 live samples from the virtual board process over a local socket (N = 64 RFLO, 4 in, 4 out): no garbage collection in the host, under one object per sample', async (t) => {
  // The board is a separate process (it stands in for the microcontroller): what is measured here is the host alone,
  // from the socket's reads through the session and the learner to the PREDICTION and ACK writes.
  const M = 4;
  const O = 4;
  const N = 64;
  const rateHz = 4000;
  const board = await startVirtualBoard({ rateHz, channels: M, outputs: O, seed: 1, stderr: 'ignore' });
  const learner = createFixedLearner(
    { learner: 'rflo', inputs: M, hidden: N, outputs: O, tau: 10, lrRec: 0.01, lrOut: 0.01, update: 'step', trialLength: 100 },
    initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 1 }),
  );
  let stepped = 0;
  let until = Infinity;
  let reached: () => void = () => {};
  const wake = (): void => reached();
  const session = new Session({
    transport: new SocketTransport({ path: board.path }),
    learner,
    config: { inputs: M, outputs: O, rateHz },
    // onStep is inlined into the learning loop's optimized step: calling a new resolve function from it would
    // deoptimize the step at each window's end (a different call target), and the next window would run
    // unoptimized code. process.nextTick with the same function is one call target.
    onStep: () => {
      if (++stepped === until) process.nextTick(wake);
    },
  });
  const steppedTo = (n: number): Promise<void> =>
    new Promise<void>((resolve) => {
      until = n;
      reached = resolve;
    });
  try {
    // warm-up: the optimizing compiler settles on the live path (20000 samples)
    const warm = steppedTo(20000);
    await session.start();
    await warm;
    const window = 10000;
    const events: number[] = [];
    const perSample: number[] = [];
    for (let w = 0; w < 3; w++) {
      fullGc();
      await new Promise((r) => setImmediate(r));
      const from = stepped;
      const next = steppedTo(from + window);
      let grew = 0;
      const h0 = process.memoryUsage().heapUsed;
      events.push(
        await gcEventsWhile(async () => {
          await next;
          grew = process.memoryUsage().heapUsed - h0;
        }),
      );
      perSample.push(grew / window);
      if (events[w] === 0 && grew < 16 * window) break;
    }
    // Who allocated (V8's sampling heap profiler): Node's socket reads, writes and timers are not the project's; the
    // framer, session, learning loop, scaler and learner must allocate nothing a sample (the session's timer tick,
    // every 10-50 ms, makes about half a byte a sample here).
    const sites = await allocationSites((n) => steppedTo(stepped + n), window);
    const st = session.stats;
    t.log(`sampled: ${sites.project.toFixed(3)} bytes a sample allocated by the project's code; largest sites ${sites.top}`);
    t.true(sites.project < 1, `the project's code allocates ${sites.project.toFixed(2)} bytes a sample: ${sites.top}`);
    t.log(`GC events ${events.join(', ')}; heap change ${perSample.map((b) => b.toFixed(1)).join(', ')} bytes per sample; ${st.samplesStepped} samples stepped, ${st.predictionsSent} predictions, ${st.samplesLost} lost; board at ${rateHz} samples/s`);
    // A GC-free window that grew by less than 16 bytes a sample (the smallest object V8 makes is a 12-byte heap
    // number; what remains is per event-loop turn and per timer, not per sample). The first window after the warm-up
    // may catch a late compile.
    t.true(events.some((e, w) => e === 0 && perSample[w] < 16), `GC events ${events.join(', ')}; heap grew ${perSample.join(', ')} bytes per sample`);
    t.is(st.samplesLost, 0);
    t.true(st.predictionsSent >= stepped - 64, 'every sample stepped was predicted over the socket');
  } finally {
    await session.stop();
    await board.stop();
  }
});
