import test from 'ava';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Framer } from '../firmware-bridge/framer.ts';
import { MAX_WIRE, MsgType, createMessage, encodeFrame } from '../firmware-bridge/protocol.ts';

/**
 * Encodes and decodes `frames` SAMPLE frames through one preallocated wire buffer and one Framer; returns the
 * garbage collections that started during the run and the heap growth per frame.
 */
async function measure(framer: Framer, frames: number): Promise<{ gcs: number; bytesPerFrame: number }> {
  const m = createMessage();
  const wire = new Uint8Array(MAX_WIRE * 16);
  m.type = MsgType.SAMPLE;
  m.count = 8;
  let gcs = 0;
  let t0 = 0;
  let t1 = Infinity;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.startTime >= t0 && e.startTime <= t1) gcs++;
  });
  obs.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  t0 = performance.now();
  for (let f = 0; f < frames; f += 16) {
    let n = 0;
    for (let k = 0; k < 16; k++) {
      m.fseq = (f + k) & 0xffff;
      m.seq = f + k;
      m.timestampUs = (f + k) * 1000;
      for (let c = 0; c < 8; c++) m.values[c] = ((f + k) * (c + 1)) & 0x7fff;
      n += encodeFrame(m, wire, n);
    }
    framer.push(wire, 0, n);
  }
  t1 = performance.now();
  const growth = process.memoryUsage().heapUsed - before;
  await new Promise((r) => setTimeout(r, 100));
  obs.disconnect();
  return { gcs, bytesPerFrame: growth / frames };
}

test('encoding and framing 10^5 frames allocates nothing: no garbage collection runs and the heap does not grow', async (t) => {
  let seen = 0;
  let checksum = 0;
  const framer = new Framer((msg) => {
    seen++;
    checksum = (checksum + msg.values[7]) | 0;
  });
  const rounds: { gcs: number; bytesPerFrame: number }[] = [];
  for (let r = 0; r < 5; r++) rounds.push(await measure(framer, 100_000));
  t.log(`rounds: ${JSON.stringify(rounds)} (checksum ${checksum})`);
  t.is(seen, 500_000);
  t.is(framer.counters.badCrc + framer.counters.badLength + framer.counters.outOfSequence, 0);
  // the first rounds include JIT compilation; the last two must be clean
  const last = rounds.slice(-2);
  for (const r of last) {
    t.is(r.gcs, 0, 'no garbage collection during the run');
    t.true(r.bytesPerFrame < 0.5, `heap growth ${r.bytesPerFrame} bytes per frame`);
  }
});
