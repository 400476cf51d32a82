import test from 'ava';
import { createScaler } from '../runtime/scaler.ts';

test('range mode maps [min, max] counts onto [-1, 1] in Q3.12', (t) => {
  const s = createScaler({ channels: 2, mode: 'range', min: [0, 100], max: [1023, 300] });
  const q = new Int16Array(2);
  t.true(s.scaleQ([0, 300], q));
  t.deepEqual([...q], [-4096, 4096]);
  t.true(s.scaleQ([1023, 200], q));
  t.deepEqual([...q], [4096, 0]);
  const f = new Float64Array(2);
  t.true(s.scale([511.5, 150], f));
  t.deepEqual([...f], [0, -0.5]);
});

test('NaN and out-of-range readings are rejected, counted per channel, and the output is left untouched', (t) => {
  const s = createScaler({ channels: 2, mode: 'range', min: 0, max: 1023 });
  const q = new Int16Array([7, 7]);
  t.false(s.scaleQ([NaN, 10], q));
  t.false(s.scaleQ([5, 1024], q));
  t.false(s.scaleQ([-1, Infinity], q));
  t.deepEqual([...q], [7, 7]);
  t.is(s.rejected, 3);
  t.deepEqual([...s.rejectedPerChannel], [2, 2]);
  t.true(s.scaleQ([5, 5], q));
  t.is(s.accepted, 1);
});

test('running mode centres and scales a drifting stream to about unit variance after warm-up', (t) => {
  const s = createScaler({ channels: 1, mode: 'running', rate: 1 / 256, warmup: 512, rawMin: 0, rawMax: 4095 });
  const f = new Float64Array(1);
  let sum = 0;
  let sq = 0;
  let n = 0;
  let state = 12345;
  for (let i = 0; i < 20000; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const noise = ((state >>> 8) / 2 ** 24 - 0.5) * 400; // uniform, sd 115
    const raw = Math.round(2000 + i * 0.02 + noise);
    const ok = s.scale([raw], f);
    if (i < 512) t.false(ok);
    else if (i > 2000) {
      sum += f[0];
      sq += f[0] * f[0];
      n++;
    }
  }
  const mean = sum / n;
  const sd = Math.sqrt(sq / n - mean * mean);
  t.log(`mean ${mean.toFixed(3)}, sd ${sd.toFixed(3)}`);
  t.true(Math.abs(mean) < 0.1);
  t.true(sd > 0.8 && sd < 1.2);
});

test('a scaler with max <= min is refused naming the channel', (t) => {
  t.throws(() => createScaler({ channels: 2, mode: 'range', min: [0, 5], max: [10, 5] }), {
    message: 'max must be > min in channel 1 (got min 5, max 5)',
  });
});
