/**
 * The stream configuration file `neurostream tune` writes and `sim --config FILE` reads: one learner's N, tau, rates
 * and readout options, plus how they were chosen. JSON, version 1:
 *
 *   {"format": "neurostream-stream-config", "version": 1, "learner": "rflo", "hidden": 32, "tau": 2,
 *    "lr_rec": 0.03, "lr_out": 0.3, "direct": true, "normalized": true, "max_rec_step": 0.05 | null,
 *    "rls_readout": 0.99 | null, "gain": 0.9,          (both optional: absent = the delta-rule readout, gain 1.5)
 *    "input_scale": 0.4,                                (optional: absent = 1, W_in ~ U(-1, 1))
 *    "tuned": {...how: the stream, prefix, scores...}}
 *
 * Reading checks every field and names the first bad one (an InputError: the CLI exits 2).
 */
import { readFileSync } from 'node:fs';
import { LEARNER_KINDS, type LearnerKind } from '../runtime/types.ts';
import type { StreamConfig } from './defaults.ts';
import { InputError, jsonSyntaxError } from './modelio.ts';

export const STREAM_CONFIG_FORMAT = 'neurostream-stream-config';

export interface StreamConfigFile extends StreamConfig {
  learner: LearnerKind;
}

/** The JSON object of a configuration (what `tune` writes), with optional notes on how it was chosen. */
export function streamConfigToJson(c: StreamConfigFile, tuned?: Record<string, unknown>): Record<string, unknown> {
  return {
    format: STREAM_CONFIG_FORMAT,
    version: 1,
    learner: c.learner,
    hidden: c.hidden,
    tau: c.tau,
    lr_rec: c.lrRec,
    lr_out: c.lrOut,
    direct: c.direct,
    normalized: c.normalized,
    max_rec_step: c.maxRecStep ?? null,
    rls_readout: c.rlsReadout ?? null,
    gain: c.gain ?? 1.5,
    input_scale: c.inScale ?? 1,
    ...(tuned ? { tuned } : {}),
  };
}

/** Every key of the version 1 format. */
const STREAM_CONFIG_KEYS = ['format', 'version', 'learner', 'hidden', 'tau', 'lr_rec', 'lr_out', 'direct', 'normalized', 'max_rec_step', 'rls_readout', 'gain', 'input_scale', 'tuned'];

/** Levenshtein distance (insertions, deletions, substitutions), for naming the key a typo meant. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** Parses and checks a configuration object; `where` names the file in messages. */
export function parseStreamConfig(j: unknown, where: string): StreamConfigFile {
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new InputError(`${where}: expected a JSON object written by neurostream tune`);
  const o = j as Record<string, unknown>;
  if (o.format !== STREAM_CONFIG_FORMAT) throw new InputError(`${where}: "format" must be "${STREAM_CONFIG_FORMAT}" (got ${JSON.stringify(o.format)}); write the file with neurostream tune`);
  if (o.version !== 1) throw new InputError(`${where}: "version" must be 1 (got ${JSON.stringify(o.version)})`);
  if (!LEARNER_KINDS.includes(o.learner as LearnerKind)) throw new InputError(`${where}: "learner" must be one of ${LEARNER_KINDS.join(', ')} (got ${JSON.stringify(o.learner)})`);
  // a key the file format does not have is a typo (the value meant for "hidden" would otherwise be reported missing)
  for (const k of Object.keys(o)) {
    if (STREAM_CONFIG_KEYS.includes(k)) continue;
    const near = STREAM_CONFIG_KEYS.find((key) => editDistance(k, key) <= 2);
    throw new InputError(`${where}: unknown key "${k}"${near ? ` (did you mean "${near}"?)` : ''}; the keys are ${STREAM_CONFIG_KEYS.join(', ')}`);
  }
  const num = (k: string, ok: (v: number) => boolean, want: string): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new InputError(`${where}: "${k}" must be ${want} (got ${JSON.stringify(v)})`);
    return v;
  };
  const bool = (k: string): boolean => {
    if (typeof o[k] !== 'boolean') throw new InputError(`${where}: "${k}" must be true or false (got ${JSON.stringify(o[k])})`);
    return o[k] as boolean;
  };
  const hidden = num('hidden', (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
  const tau = num('tau', (v) => v >= 1, 'a number >= 1');
  const lrRec = num('lr_rec', (v) => v >= 0, 'a number >= 0');
  const lrOut = num('lr_out', (v) => v >= 0, 'a number >= 0');
  const direct = bool('direct');
  const normalized = bool('normalized');
  const maxRecStep = o.max_rec_step === null || o.max_rec_step === undefined ? undefined : num('max_rec_step', (v) => v > 0, 'a number > 0 or null');
  const rlsReadout = o.rls_readout === null || o.rls_readout === undefined ? undefined : num('rls_readout', (v) => v > 0 && v <= 1, 'a forgetting factor in (0, 1] or null');
  const gain = o.gain === undefined ? undefined : num('gain', (v) => v >= 0, 'a number >= 0');
  const inScale = o.input_scale === undefined ? undefined : num('input_scale', (v) => v >= 0, 'a number >= 0');
  if (rlsReadout !== undefined && normalized) throw new InputError(`${where}: "rls_readout" and "normalized" are two readout rules; set one of them (normalized false, or rls_readout null)`);
  return { learner: o.learner as LearnerKind, hidden, tau, lrRec, lrOut, direct, normalized, maxRecStep, rlsReadout, gain, inScale };
}

/** Reads and checks a configuration file. */
export function readStreamConfig(path: string): StreamConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the file neurostream tune wrote`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new InputError(
      `--config ${path}: not valid JSON: ${jsonSyntaxError(text, err)}; the file should be the JSON object \`neurostream tune --out FILE\` writes: ` +
        'fix it there, or write it again with neurostream tune',
    );
  }
  return parseStreamConfig(j, path);
}
