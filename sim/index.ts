/**
 * `neurostream/sim`: the float64 reference twin of every learner (and BPTT, the true gradient), the streaming
 * tasks, the engine switch between the fixed-point runtime and the twin, model files, and the virtual board.
 * Reports with plots are written by the `neurostream` command (sim/plot/, which loads vega).
 */
export * from './reference/index.ts';
export * from './tasks/index.ts';
export { createLearner, ENGINES } from './engine.ts';
export { InputError, parseModel, parseData, modelToJson, gradientToJson, type Sequence, type GradientJson } from './modelio.ts';
export { saveSnapshotFile, loadSnapshotFile } from './snapshot-file.ts';
export {
  VirtualBoard,
  SyntheticSignal,
  startVirtualBoard,
  createInProcessBoard,
  hostTransport,
  hasSocat,
  createPtyPair,
  type VirtualBoardOptions,
  type VirtualBoardStats,
  type SampleSource,
  type SignalOptions,
  type StartVirtualBoardOptions,
  type VirtualBoardHandle,
  type InProcessBoard,
  type PtyPair,
} from './board/index.ts';
