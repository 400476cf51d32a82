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

/* Compile-time capacity. The arena default fits SnAp-1 (RFLO's superset) at NS_MAX_HIDDEN/INPUTS/OUTPUTS. */
#ifndef NS_MAX_HIDDEN
#define NS_MAX_HIDDEN 32
#endif
#ifndef NS_MAX_INPUTS
#define NS_MAX_INPUTS 8
#endif
#ifndef NS_MAX_OUTPUTS
#define NS_MAX_OUTPUTS 8
#endif
#define NS_A8(bytes) ((((bytes) + 7u) / 8u) * 8u)
#define NS_ARENA_FOR(N, M, O)                                                                              \
  (NS_A8(4u * (N) * (M)) + NS_A8(4u * (N) * (N)) + NS_A8(4u * (N)) + NS_A8(4u * (O) * (N)) +              \
   NS_A8(2u * (N) * (N)) + NS_A8(2u * (O) * (N)) +                                                          \
   NS_A8(2u * (N) * (O)) + 3u * NS_A8(2u * (N)) + NS_A8(2u * (M)) + 3u * NS_A8(2u * (O)) +                \
   4u * NS_A8(4u * (N)) + NS_A8(2u * (N) * (M)) + NS_A8(2u * (N) * (N)) + NS_A8(2u * (N)) + NS_A8(4u * (N)) + \
   8u * (N) * (M) + 8u * (N) * (N) + 8u * (N) + 8u * (O) * (N) + NS_A8(4u * NS_SAT_COUNT) + 8u)
#ifndef NS_ARENA_BYTES
#define NS_ARENA_BYTES NS_ARENA_FOR(NS_MAX_HIDDEN, NS_MAX_INPUTS, NS_MAX_OUTPUTS)
#endif

enum ns_kind { NS_RTRL = 0, NS_RFLO = 1, NS_SNAP1 = 2, NS_OUTPUT = 3 };

/* Saturation counters, in runtime/plan.ts's SATURATION_NAMES order. */
enum ns_sat {
  NS_SAT_X, NS_SAT_X_INVALID, NS_SAT_TARGET, NS_SAT_TARGET_INVALID, NS_SAT_Y, NS_SAT_E, NS_SAT_FEEDBACK,
  NS_SAT_GAIN, NS_SAT_W_IN, NS_SAT_W_REC, NS_SAT_B, NS_SAT_W_OUT, NS_SAT_WEIGHTS_Q12, NS_SAT_H, NS_SAT_TRACE,
  NS_SAT_DECAY, NS_SAT_SENS, NS_SAT_GRAD, NS_SAT_COUNT
};

/* Arena buffers, in runtime/plan.ts's order. Buffers a learner does not use have length 0 and are skipped. */
enum ns_buf {
  NB_W_IN, NB_W_REC, NB_B, NB_W_OUT, NB_W_REC_Q, NB_W_OUT_Q, NB_BFB, NB_H0, NB_H, NB_H_PREV,
  NB_X, NB_TARGET, NB_Y, NB_E, NB_U, NB_DPHI, NB_APHI, NB_FB, NB_P_IN, NB_P_REC, NB_P_B, NB_DECAY, NB_S,
  NB_S_NEXT, NB_SUM_HI, NB_SUM_LO, NB_ACC_W_IN, NB_ACC_W_REC, NB_ACC_B, NB_ACC_W_OUT, NB_SATURATION, NB_STEPS,
  NB_COUNT
};

/* Element type of a buffer in the runtime's arena: 'i16', 'i32', 'u32' or 'f64' (int64_t here). */
enum ns_type { NT_I16 = 2, NT_I32 = 4, NT_U32 = 5, NT_F64 = 8 };

/* The learner configuration (runtime/types.ts LearnerOptions + runtime/plan.ts FixedOptions). */
typedef struct {
  int kind;          /* enum ns_kind */
  int inputs, hidden, outputs;
  double tau, lrRec, lrOut;
  int stepMode;      /* update 'step' (1) or 'trial' (0) */
  int trialLength;
  int transposeFeedback; /* feedback 'transpose' */
  int weightFracBits, updateFracBits;
  double memoryBudget;
} ns_config;

/* Everything runtime/plan.ts derives from a config: constants, shifts and the arena layout. */
typedef struct {
  ns_config cfg;
  int32_t alpha, oneMinusAlpha;
  int32_t etaRecM, etaRecK, etaOutM, etaOutK;
  int shiftTraceRec, shiftTraceIn, shiftOut, shiftRtrl, shiftApply, shiftTrialRec, shiftTrialOut;
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
  int32_t *W_in, *W_rec, *b, *W_out;
  int16_t *W_rec_q, *W_out_q, *B, *h0, *h, *h_prev, *x, *target, *y, *e;
  int32_t *u, *dphi, *aphi, *fb;
  int16_t *P_in, *P_rec, *P_b;
  int32_t *decay, *S, *S_next;
  int64_t *sum_hi, *sum_lo, *acc_W_in, *acc_W_rec, *acc_b, *acc_W_out;
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
 * lrOut, update, trialLength, feedback, weightFracBits, updateFracBits, memoryBudget). Returns 0, or -1 with a
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
void ns_reset_state(ns_learner *l);
void ns_end_trial(ns_learner *l);

/* Converts the float64 buffers of an arena just loaded from a runtime snapshot to int64_t, in place. */
void ns_arena_from_runtime(ns_learner *l);
/* Byte `i` of the arena as the runtime stores it (int64_t buffers as float64). */
uint8_t ns_arena_runtime_byte(const ns_learner *l, uint32_t i);

/* CRC-32 (IEEE, reflected, 0xEDB88320) as runtime/snapshot.ts: start with crc = 0, feed bytes, read the result. */
uint32_t ns_crc32_update(uint32_t crc, const uint8_t *bytes, size_t n);

/*
 * Snapshot (runtime/snapshot.ts, version 1) support without a buffer for the whole snapshot:
 * the loader takes chunks in order; the writer yields byte i on demand.
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
