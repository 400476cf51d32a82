/**
 * The seam between a board's protocol engine and where its samples come from. A board (the simulated device in
 * sim/board, or any device-side engine) reads sample n from a SampleSource; firmware-bridge/johnny-five.ts offers
 * the pins of a stock Firmata board as one, sim/board/signals.ts offers synthetic signals.
 */

/** Channels and targets of sample n, in real units (the board quantizes them). */
export interface SampleSource {
  readonly channels: number;
  readonly outputs: number;
  sample(n: number, x: Float64Array, target: Float64Array): void;
}
