/** The library in ten lines: a fixed-point RFLO learner predicts a noisy two-tone signal one step ahead, online. */
import { createFixedLearner, initWeights } from '../runtime/index.ts';

const options = { learner: 'rflo', inputs: 1, hidden: 16, outputs: 1, tau: 2, lrRec: 0.03, lrOut: 0.01, update: 'step', trialLength: 1 } as const;
const learner = createFixedLearner(options, initWeights({ ...options, seed: 1, gain: 1.2 }));
const signal = (t: number): number => 0.5 * Math.sin(t / 8) + 0.3 * Math.sin(t / 3) + 0.02 * Math.sin(t * 12.9898);
const x = new Float64Array(1), target = new Float64Array(1), y = new Float64Array(1);
let se = 0, sum = 0, sq = 0;
for (let t = 0; t < 20000; t++) {
  x[0] = signal(t);
  target[0] = signal(t + 1);
  learner.step(x, target, y); // y is predicted before learning from this sample
  if (t >= 15000) (se += (target[0] - y[0]) ** 2), (sum += target[0]), (sq += target[0] ** 2);
}
console.log(`NMSE over the last 5000 steps: ${(se / (sq - (sum * sum) / 5000)).toFixed(4)}`); // squared error / variance of the target
