/** neurostream runtime: the fixed-point, allocation-free core. Pure TypeScript, no Node APIs. */
export * from './types.ts';
export { plan, formatMemoryTable, FRAC, SATURATION_NAMES, DEFAULT_MEMORY_BUDGET } from './plan.ts';
export type { FixedPlan, FixedConfig, FixedOptions, BufferSpec, BufferType, SaturationName } from './plan.ts';
export { create, createFixedLearner, FixedLearner } from './learner.ts';
export { tanhQ15, dtanhQ15 } from './activation.ts';
export { initWeights, cloneWeights } from './init.ts';
export type { InitOptions } from './init.ts';
export { saveSnapshot, loadSnapshot, inspectSnapshot, crc32, SNAPSHOT_VERSION } from './snapshot.ts';
export type { SnapshotDescription } from './snapshot.ts';
export { createScaler, StreamScaler } from './scaler.ts';
export type { ScalerConfig, ScalerMode } from './scaler.ts';
export { wasmSimdSupported } from './wasm/backend.ts';
export type { Backend } from './wasm/backend.ts';
export { LEARNER_KIND_CODES, BUFFERS, CONFIG_FIELDS } from './layout.ts';
export type { BufferLayout, BufferName, LearnerKindName } from './layout.ts';
export { RunningNmse, blockNmse, measureRecovery } from './metrics.ts';
export type { Recovery } from './metrics.ts';
export type { LearnerState } from './state.ts';
