/**
 * Generates examples/sensor-log.csv, the small recorded-looking sensor log `neurostream sim --task csv` replays:
 * a compressed day/night cycle of 240 rows, where light leads temperature by 20 rows and humidity follows
 * temperature inversely, with sensor noise and a few broken cells (empty, "NaN", "err", "inf") as real logs have.
 * Deterministic (seeded xorshift), so the file in the repository is exactly what this script writes:
 *   npx tsx examples/make-sensor-log.ts > examples/sensor-log.csv
 */
import { createRng, rngNormal, rngUniform } from '../runtime/rng.ts';

const rows = 2000;
const day = 240;
const rng = createRng(2024);
const lines = ['time_s,temperature,humidity,light'];
let drift = 0;
for (let r = 0; r < rows; r++) {
  drift += 0.002 * rngNormal(rng); // slow sensor drift
  const sun = Math.sin((2 * Math.PI * r) / day);
  const light = Math.max(0, sun) * 800 + 5 * rngNormal(rng);
  const temperature = 20 + drift + 3 * Math.sin((2 * Math.PI * (r - 20)) / day) + 0.1 * rngNormal(rng);
  const humidity = 60 - 2 * (temperature - 20) + 0.5 * rngNormal(rng);
  const cells = [String(r * 60), temperature.toFixed(2), humidity.toFixed(1), light.toFixed(0)];
  // About 1 % of rows lose one cell the way loggers do.
  if (rngUniform(rng) < 0.01) {
    const bad = ['', 'NaN', 'err', 'inf'][Math.floor(rngUniform(rng) * 4)];
    cells[1 + Math.floor(rngUniform(rng) * 3)] = bad;
  }
  lines.push(cells.join(','));
}
process.stdout.write(lines.join('\n') + '\n');
