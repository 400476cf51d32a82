/*
 * neurostream C kernel: the fixed-point leaky RNN and its online learners (RTRL, RFLO, SnAp-1, output-only),
 * bit-exact with the TypeScript runtime in runtime/ (runtime/ARITHMETIC.md is the spec; the TypeScript code is
 * the reference). Portable C99, no malloc: the learner lives in one static arena of NS_ARENA_BYTES bytes laid out
 * exactly like runtime/plan.ts lays out its arena, so a runtime snapshot (runtime/snapshot.ts) loads into it and a
 * snapshot written from it is byte-identical to the TypeScript one.
 *
 * The only difference in memory: buffers the runtime keeps as float64 holding exact integers (the Q30
 * accumulators, RTRL's partial sums, the step counter) are int64_t here; snapshots convert on the way in and out.
 */
#ifndef NS_H
#define NS_H
#include <stdint.h>
#include <stddef.h>

/* Compile-time capacity. The arena default fits SnAp-1 with direct (the superset) at NS_MAX_HIDDEN/INPUTS/OUTPUTS. */
#ifndef NS_MAX_HIDDEN
#define NS_MAX_HIDDEN 32
#endif
#ifndef NS_MAX_INPUTS
#define NS_MAX_INPUTS 8
#endif
#ifndef NS_MAX_OUTPUTS
#define NS_MAX_OUTPUTS 8
#endif
#ifndef NS_ARENA_BYTES
#define NS_ARENA_BYTES NS_ARENA_FOR(NS_MAX_HIDDEN, NS_MAX_INPUTS, NS_MAX_OUTPUTS)
#endif

/* Learner kind codes (enum ns_kind), saturation counters (enum ns_sat), arena buffers (enum ns_buf), their names,
 * types and lengths, and NS_ARENA_FOR: generated from the layout manifest runtime/layout.ts. */
#include "ns_layout.h"

/* The learner configuration (runtime/types.ts LearnerOptions + runtime/plan.ts FixedOptions). */
typedef struct {
  int kind;          /* enum ns_kind */
  int inputs, hidden, outputs;
  double tau, lrRec, lrOut;
  int stepMode;      /* update 'step' (1) or 'trial' (0) */
  int trialLength;
  int transposeFeedback; /* feedback 'transpose' */
  int direct;        /* the readout reads the input too: y = W_out h + D x (options.direct) */
  int normalized;    /* normalised (NLMS) readout steps (options.normalizedReadout) */
  double readoutEps; /* eps of the normalised step (options.readoutEps; 0 without normalized) */
  int accumulate;    /* the gradient accumulators acc_* exist and are written: always in 'trial' mode; in 'step' mode unless
                        the config says "accumulateGradient": false (runtime/snapshot.ts: a config without the key accumulates) */
  int weightFracBits, updateFracBits;
  double memoryBudget;
} ns_config;

/* Everything runtime/plan.ts derives from a config: constants, shifts and the arena layout. */
typedef struct {
  ns_config cfg;
  int32_t alpha, oneMinusAlpha;
  int32_t etaRecM, etaRecK, etaOutM, etaOutK;
  int32_t readoutEpsQ30; /* round(readoutEps 2^30) with normalized, else 0 (runtime/plan.ts readoutEpsQ30) */
  int shiftTraceRec, shiftTraceIn, shiftOut, shiftOutDirect, shiftRtrl, shiftApply, shiftTrialRec, shiftTrialOut;
  int traceFracRec, traceFracIn;
  int32_t applyMul;
  int transpose;
  int theta;
  uint32_t offset[NB_COUNT], length[NB_COUNT];
  uint32_t totalBytes;
} ns_plan;

/* The learner: a plan and typed pointers into the arena. */
typedef struct {
  ns_plan p;
  uint8_t *arena;
  int32_t *W_in, *W_rec, *b, *W_out, *D;
  int16_t *W_rec_q12, *W_out_q12, *B, *h0, *h, *h_prev, *x, *target, *y, *e;
  int32_t *u, *dphi, *aphi, *fb;
  int16_t *P_in, *P_rec, *P_b;
  int32_t *decay, *S, *S_next;
  int64_t *sum_hi, *sum_lo, *acc_W_in, *acc_W_rec, *acc_b, *acc_W_out, *acc_D;
  uint32_t *sat;
  int64_t *steps;
} ns_learner;

extern const int16_t ns_tanh_table[1025];
/* tanh of a Q19.12 pre-activation (any wide value) as Q1.15; phi' = 1 - t^2 in [0, 32768]. */
int32_t ns_tanh_q15(int64_t u);
int32_t ns_dtanh_q15(int32_t t);

/* Element type and name of a buffer. */
int ns_buf_type(int buf);
const char *ns_buf_name(int buf);

/*
 * Parses the runtime's config JSON (the object snapshot.ts stores: learner, inputs, hidden, outputs, tau, lrRec,
 * lrOut, update, trialLength, feedback, weightFracBits, updateFracBits, memoryBudget, direct when true, the normalised
 * readout's keys, and "accumulateGradient": false for a learner without accumulators). Returns 0, or -1 with a
 * message in err (size errLen).
 */
int ns_parse_config(const char *json, size_t len, ns_config *cfg, char *err, size_t errLen);

/* runtime/plan.ts plan(): validates cfg and computes the constants and layout. Returns 0 or -1 with a message. */
int ns_make_plan(const ns_config *cfg, ns_plan *p, char *err, size_t errLen);

/* Binds the learner to arena (8-byte aligned, >= p->totalBytes bytes). Does not clear it. */
void ns_bind(ns_learner *l, const ns_plan *p, uint8_t *arena);

/*
 * One step (runtime/learner.ts stepQ): x (Q3.12, M values) and target (Q3.12, O values) or NULL for inference.
 * Writes y (Q3.12, O values) into out. Allocates nothing.
 */
void ns_step(ns_learner *l, const int16_t *x, const int16_t *target, int16_t *out);
/*
 * ns_step with missing readings (runtime/learner.ts stepQ's xMissing and targetMissing): xMissing (M flags) or NULL;
 * a non-zero flag ignores x[j] and holds input j's last value, counted in NS_SAT_X_INVALID; targetMissing non-zero
 * ignores target and runs inference only, counted in NS_SAT_TARGET_INVALID (runtime/ARITHMETIC.md, "Missing readings").
 */
void ns_step_missing(ns_learner *l, const int16_t *x, const uint8_t *xMissing, const int16_t *target,
                     int targetMissing, int16_t *out);
void ns_reset_state(ns_learner *l);
void ns_end_trial(ns_learner *l);

/* Converts the float64 buffers of an arena just loaded from a runtime snapshot to int64_t, in place. */
void ns_arena_from_runtime(ns_learner *l);
/* Byte `i` of the arena as the runtime stores it (int64_t buffers as float64). */
uint8_t ns_arena_runtime_byte(const ns_learner *l, uint32_t i);

/* CRC-32 (IEEE, reflected, 0xEDB88320) as runtime/snapshot.ts: start with crc = 0, feed bytes, read the result. */
uint32_t ns_crc32_update(uint32_t crc, const uint8_t *bytes, size_t n);

/*
 * Snapshot (runtime/snapshot.ts, version 1, 2 for a learner with direct, 3 with the normalised readout, 4 without gradient
 * accumulators) support without a buffer for the whole
 * snapshot: the loader takes chunks in order; the writer yields byte i on demand.
 */
typedef struct {
  ns_learner *l;
  uint8_t *arena;
  uint32_t arenaCapacity;
  char *configText;          /* where the config JSON is kept (also written back into snapshots) */
  uint32_t configCapacity;
  uint32_t configLength;
  uint32_t received;         /* bytes received so far */
  uint32_t total;            /* expected total (0 until the header is in) */
  uint32_t arenaAt, arenaLength;
  uint32_t version;          /* the snapshot's format version (1; 2 with direct; 3 normalised; 4 no accumulators) */
  uint32_t crc;              /* running CRC-32 state (pre-inversion) */
  uint8_t header[16];
  uint8_t crcBytes[4];
} ns_snapshot_loader;

void ns_snapshot_load_begin(ns_snapshot_loader *s);
/* Feeds bytes [offset, offset+n). Returns 0 while fine, 1 when the snapshot is complete and loaded, -1 with err. */
int ns_snapshot_load_chunk(ns_snapshot_loader *s, uint32_t offset, const uint8_t *bytes, uint32_t n, char *err,
                           size_t errLen);

/* Total length of the snapshot of l with config text cfg (length cfgLen). */
uint32_t ns_snapshot_length(const ns_learner *l, uint32_t cfgLen);
/* Byte i of that snapshot; crc is the CRC-32 of every byte before the last four (ns_snapshot_crc). */
uint8_t ns_snapshot_byte(const ns_learner *l, const char *cfg, uint32_t cfgLen, uint32_t crc, uint32_t i);
uint32_t ns_snapshot_crc(const ns_learner *l, const char *cfg, uint32_t cfgLen);

#endif
