/*
 * The config (the JSON object runtime/snapshot.ts stores) and the plan (runtime/plan.ts): constants, shifts and
 * the arena layout, computed exactly as the runtime computes them. Plan-time code: double arithmetic is used only
 * where the runtime uses float64, in the same order of operations, so every constant comes out identical.
 */
#include <string.h>
#include "ns.h"
#include "ns_fixed.h"

static const char *const BUF_NAMES[NB_COUNT] = NS_BUF_NAMES;
static const uint8_t BUF_TYPES[NB_COUNT] = NS_BUF_TYPES;

int ns_buf_type(int buf) { return BUF_TYPES[buf]; }
const char *ns_buf_name(int buf) { return BUF_NAMES[buf]; }

/* Copies up to three strings into err (no printf: newlib-nano's would pull in malloc). Returns -1. */
static int fail3(char *err, size_t n, const char *a, const char *b, const char *c) {
  const char *parts[3] = { a, b, c };
  size_t k = 0;
  if (!err || !n) return -1;
  for (int i = 0; i < 3; i++)
    for (const char *p = parts[i]; p && *p && k + 1 < n; p++) err[k++] = *p;
  err[k] = 0;
  return -1;
}
static int fail(char *err, size_t n, const char *msg) { return fail3(err, n, msg, 0, 0); }

/* ---- a minimal JSON reader for one flat object of numbers and strings ---- */

/* 10^k, exact for k <= 22 (5^22 < 2^53). */
static double pow10_exact(int k) {
  double r = 1.0;
  while (k-- > 0) r *= 10.0;
  return r;
}

/*
 * Decimal text to the nearest double. Only Clinger's exact case is accepted: at most 15 significant digits
 * (the integer part below 2^53) and a decimal exponent within +-22, where one IEEE multiplication or division of two
 * exact doubles gives the correctly rounded result, i.e. what JavaScript's JSON.parse gives.
 * Returns the number of characters read, or 0 when the text is not such a number.
 */
static size_t parse_number(const char *s, size_t len, double *out) {
  size_t i = 0;
  int neg = 0, digits = 0, exp10 = 0;
  uint64_t d = 0;
  if (i < len && s[i] == '-') { neg = 1; i++; }
  if (i >= len || s[i] < '0' || s[i] > '9') return 0;
  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
    if (d == 0 && s[i] == '0') continue;
    if (++digits > 15) return 0;
    d = d * 10 + (uint64_t)(s[i] - '0');
  }
  if (i < len && s[i] == '.') {
    i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
      if (d == 0 && s[i] == '0') { exp10--; continue; }
      if (++digits > 15) return 0;
      d = d * 10 + (uint64_t)(s[i] - '0');
      exp10--;
    }
  }
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    int eneg = 0, e = 0;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i >= len || s[i] < '0' || s[i] > '9') return 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
      e = e * 10 + (s[i] - '0');
      if (e > 400) return 0;
    }
    exp10 += eneg ? -e : e;
  }
  if (d == 0) { *out = neg ? -0.0 : 0.0; return i; }
  if (exp10 < -22 || exp10 > 22) return 0;
  double v = (double)d;
  v = exp10 < 0 ? v / pow10_exact(-exp10) : v * pow10_exact(exp10);
  *out = neg ? -v : v;
  return i;
}

static size_t skip_ws(const char *s, size_t i, size_t len) {
  while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
  return i;
}

enum { K_LEARNER, K_INPUTS, K_HIDDEN, K_OUTPUTS, K_TAU, K_LRREC, K_LROUT, K_UPDATE, K_TRIAL, K_FEEDBACK, K_WFB, K_UFB,
       K_BUDGET, K_DIRECT, K_NORMALIZED, K_EPS, K_ACC, K_COUNT };
static const char *const KEYS[K_COUNT] = { "learner", "inputs", "hidden", "outputs", "tau", "lrRec", "lrOut", "update",
                                           "trialLength", "feedback", "weightFracBits", "updateFracBits", "memoryBudget",
                                           "direct", "normalizedReadout", "readoutEps", "accumulateGradient" };

static int is_int(double v, double lo, double hi) { return v >= lo && v <= hi && (double)(int64_t)v == v; }

int ns_parse_config(const char *s, size_t len, ns_config *c, char *err, size_t errLen) {
  double num[K_COUNT];
  char str[K_COUNT][12];
  int seen[K_COUNT] = { 0 };
  size_t i = skip_ws(s, 0, len);
  if (i >= len || s[i] != '{') return fail(err, errLen, "config must be a JSON object");
  i = skip_ws(s, i + 1, len);
  while (i < len && s[i] != '}') {
    size_t k0, k1;
    int key = -1;
    if (s[i] != '"') return fail(err, errLen, "config: expected a quoted key");
    k0 = ++i;
    while (i < len && s[i] != '"') i++;
    if (i >= len) return fail(err, errLen, "config: unterminated key");
    k1 = i++;
    for (int k = 0; k < K_COUNT; k++)
      if (strlen(KEYS[k]) == k1 - k0 && memcmp(KEYS[k], s + k0, k1 - k0) == 0) key = k;
    i = skip_ws(s, i, len);
    if (i >= len || s[i] != ':') return fail(err, errLen, "config: expected ':' after a key");
    i = skip_ws(s, i + 1, len);
    if (i < len && s[i] == '"') {
      size_t v0 = ++i;
      while (i < len && s[i] != '"') i++;
      if (i >= len) return fail(err, errLen, "config: unterminated string");
      if (key >= 0) {
        if (i - v0 >= sizeof str[0]) return fail(err, errLen, "config: string value too long");
        memcpy(str[key], s + v0, i - v0);
        str[key][i - v0] = 0;
        seen[key] = 2;
      }
      i++;
    } else if ((key == K_DIRECT || key == K_NORMALIZED || key == K_ACC) && i + 4 <= len && memcmp(s + i, "true", 4) == 0) {
      num[key] = 1, seen[key] = 1;
      i += 4;
    } else if ((key == K_DIRECT || key == K_NORMALIZED || key == K_ACC) && i + 5 <= len && memcmp(s + i, "false", 5) == 0) {
      num[key] = 0, seen[key] = 1;
      i += 5;
    } else if (key < 0 && (i + 4 <= len && (memcmp(s + i, "true", 4) == 0 || memcmp(s + i, "null", 4) == 0))) {
      i += 4; /* an unknown key's literal: ignored, so newer runtimes may add fields */
    } else if (key < 0 && i + 5 <= len && memcmp(s + i, "false", 5) == 0) {
      i += 5;
    } else {
      double v;
      size_t n = parse_number(s + i, len - i, &v);
      if (n == 0) {
        return fail3(err, errLen, "config: the value of ", key >= 0 ? KEYS[key] : "a key",
                     " is not a number with at most 15 significant digits and an exponent within +-22");
      }
      if (key >= 0) num[key] = v, seen[key] = 1;
      i += n;
    }
    i = skip_ws(s, i, len);
    if (i < len && s[i] == ',') i = skip_ws(s, i + 1, len);
  }
  static const int isString[K_COUNT] = { 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
  const int epsGiven = seen[K_EPS] != 0;
  for (int k = 0; k < K_COUNT; k++) {
    if (k == K_FEEDBACK && !seen[k]) { strcpy(str[k], "random"); seen[k] = 2; }
    if (k == K_WFB && !seen[k]) { num[k] = 24; seen[k] = 1; }
    if (k == K_UFB && !seen[k]) { num[k] = 30; seen[k] = 1; }
    if (k == K_BUDGET && !seen[k]) { num[k] = 64.0 * 1024 * 1024; seen[k] = 1; }
    if (k == K_DIRECT && !seen[k]) { num[k] = 0; seen[k] = 1; }
    if (k == K_NORMALIZED && !seen[k]) { num[k] = 0; seen[k] = 1; }
    if (k == K_ACC && !seen[k]) { num[k] = 1; seen[k] = 1; } /* every snapshot before version 4 accumulates */
    if (k == K_EPS && !seen[k]) { num[k] = num[K_NORMALIZED] != 0 ? 1e-3 : 0; seen[k] = 1; }
    if (seen[k] != (isString[k] ? 2 : 1)) return fail3(err, errLen, "config: ", KEYS[k], " is missing or has the wrong type");
  }
  static const char *const kinds[NS_KIND_COUNT] = NS_KIND_NAMES;
  c->kind = -1;
  for (int k = 0; k < NS_KIND_COUNT; k++)
    if (strcmp(str[K_LEARNER], kinds[k]) == 0) c->kind = k;
  if (c->kind < 0) return fail(err, errLen, "learner must be one of rtrl, rflo, snap1, output");
  if (!is_int(num[K_INPUTS], 0, 65535)) return fail(err, errLen, "inputs must be an integer in [0, 65535]");
  if (!is_int(num[K_HIDDEN], 1, 65535)) return fail(err, errLen, "hidden must be an integer in [1, 65535]");
  if (!is_int(num[K_OUTPUTS], 1, 65535)) return fail(err, errLen, "outputs must be an integer in [1, 65535]");
  if (!is_int(num[K_TRIAL], 1, 4194304)) return fail(err, errLen, "trialLength must be an integer in [1, 4194304]");
  if (!is_int(num[K_WFB], 8, 24)) return fail(err, errLen, "weightFracBits must be an integer in [8, 24]");
  if (!is_int(num[K_UFB], num[K_WFB], 30)) return fail(err, errLen, "updateFracBits must be an integer in [weightFracBits, 30]");
  c->inputs = (int)num[K_INPUTS];
  c->hidden = (int)num[K_HIDDEN];
  c->outputs = (int)num[K_OUTPUTS];
  c->tau = num[K_TAU];
  c->lrRec = num[K_LRREC];
  c->lrOut = num[K_LROUT];
  if (strcmp(str[K_UPDATE], "step") == 0) c->stepMode = 1;
  else if (strcmp(str[K_UPDATE], "trial") == 0) c->stepMode = 0;
  else return fail(err, errLen, "update must be 'step' or 'trial'");
  c->trialLength = (int)num[K_TRIAL];
  if (strcmp(str[K_FEEDBACK], "random") == 0) c->transposeFeedback = 0;
  else if (strcmp(str[K_FEEDBACK], "transpose") == 0) c->transposeFeedback = 1;
  else return fail(err, errLen, "feedback must be 'random' or 'transpose'");
  c->weightFracBits = (int)num[K_WFB];
  c->updateFracBits = (int)num[K_UFB];
  c->memoryBudget = num[K_BUDGET];
  c->direct = num[K_DIRECT] != 0;
  c->normalized = num[K_NORMALIZED] != 0;
  if (epsGiven && !c->normalized) return fail(err, errLen, "readoutEps is the normalised readout's eps; set normalizedReadout");
  c->readoutEps = c->normalized ? num[K_EPS] : 0;
  if (!c->stepMode && num[K_ACC] == 0) return fail(err, errLen, "accumulateGradient must be true with update 'trial'");
  c->accumulate = !c->stepMode || num[K_ACC] != 0;
  return 0;
}

/* ---- plan ---- */

/* 2^k for any k in -1074..1023 (exact: repeated doubling or halving). */
static double pow2(int k) {
  double r = 1.0;
  for (; k > 0; k--) r *= 2.0;
  for (; k < 0; k++) r *= 0.5;
  return r;
}

/* JavaScript's Math.round for v >= 0 (ties toward +infinity), v < 2^62. */
static double js_round(double v) {
  double f = (double)(int64_t)v;
  return v - f >= 0.5 ? f + 1.0 : f;
}

/* runtime/plan.ts etaRange, checkEta and fixed.ts toScale. */
static int check_eta(const char *name, double lr, int trialLength, const int *cs, int ncs, int U, int kFloor, int32_t *m, int32_t *k,
                     char *err, size_t errLen) {
  if (!(lr >= 0) || lr - lr != 0) return fail3(err, errLen, name, " must be a finite number >= 0", 0);
  double eta = lr / (double)trialLength;
  double lo = 0, hi = 1.0 / 0.0;
  for (int i = 0; i < ncs; i++) {
    int kMin = kFloor > U - cs[i] ? kFloor : U - cs[i];
    int kMax = 47 + U - cs[i] < 36 ? 47 + U - cs[i] : 36;
    double l = pow2(14 - kMax), h = pow2(15 - kMin) * (32767.0 / 32768.0);
    if (l > lo) lo = l;
    if (h < hi) hi = h;
  }
  if (eta != 0 && (eta < lo || eta > hi))
    return fail3(err, errLen, name, " / trialLength is outside the representable range (runtime/plan.ts etaRange)", 0);
  int kk = 16;
  if (eta != 0) {
    kk = 0;
    while (eta * pow2(kk) < 16384) kk++;
    while (eta * pow2(kk) >= 32768) kk--;
    if (js_round(eta * pow2(kk)) == 32768) kk--;
  }
  if (kk < kFloor) kk = kFloor;
  *k = kk;
  *m = (int32_t)js_round(eta * pow2(kk));
  return 0;
}

int ns_make_plan(const ns_config *c, ns_plan *p, char *err, size_t errLen) {
  const int N = c->hidden, M = c->inputs, O = c->outputs;
  const int F = c->weightFracBits, U = c->updateFracBits;
  memset(p, 0, sizeof *p);
  p->cfg = *c;
  if (!(c->tau >= 1)) return fail(err, errLen, "tau must be >= 1");
  if (c->tau > 32768) return fail(err, errLen, "tau must be <= 32768 so that 1/tau is representable in Q1.15");
  p->traceFracRec = c->kind == NS_SNAP1 ? 12 : 15;
  p->traceFracIn = 12;
  int cs[2], ncs = 0;
  const int cTraceRec = 9 + p->traceFracRec, cTraceIn = 9 + p->traceFracIn, cOut = 27, cOutDirect = 24, cRtrl = 20;
  if (c->kind == NS_RTRL) cs[ncs++] = cRtrl;
  else if (c->kind != NS_OUTPUT) cs[ncs++] = cTraceRec, cs[ncs++] = cTraceIn;
  if (check_eta("lrRec", c->lrRec, c->trialLength, cs, ncs, U, 16, &p->etaRecM, &p->etaRecK, err, errLen)) return -1;
  cs[0] = cOut;
  cs[1] = cOutDirect;
  if (c->normalized) {
    if (!c->stepMode) return fail(err, errLen, "normalizedReadout needs update 'step'");
    if (!(c->readoutEps >= 1.0 / 1073741824.0 && c->readoutEps <= 1)) return fail(err, errLen, "readoutEps must be in [2^-30, 1]");
    if (c->lrOut / (double)c->trialLength >= 2)
      return fail(err, errLen, "lrOut / trialLength must be below 2 with normalizedReadout (NLMS is mean-square stable for 0 < mu < 2)");
  }
  if (check_eta("lrOut", c->lrOut, c->trialLength, cs, c->direct ? 2 : 1, U, c->normalized ? 14 : 16, &p->etaOutM, &p->etaOutK, err, errLen))
    return -1;
  p->readoutEpsQ30 = c->normalized ? (int32_t)js_round(c->readoutEps * pow2(30)) : 0;
  if (c->normalized && p->etaOutM != 0) {
    /* runtime/plan.ts: s = shift + p - 31 >= -17 + max(0, 24 - U) for every p >= bitLength(eps) */
    int minShift = cOut + p->etaOutK - U;
    if (c->direct && cOutDirect + p->etaOutK - U < minShift) minShift = cOutDirect + p->etaOutK - U;
    if (ns_bitlen64((uint64_t)p->readoutEpsQ30) < 14 - minShift + (24 - U > 0 ? 24 - U : 0))
      return fail(err, errLen, "readoutEps is too small for lrOut (runtime/plan.ts)");
  }
  p->alpha = (int32_t)js_round(32768.0 / c->tau);
  p->oneMinusAlpha = 32768 - p->alpha;
  p->shiftTraceRec = cTraceRec + p->etaRecK - U;
  p->shiftTraceIn = cTraceIn + p->etaRecK - U;
  p->shiftOut = cOut + p->etaOutK - U;
  p->shiftOutDirect = cOutDirect + p->etaOutK - U;
  p->shiftRtrl = cRtrl + p->etaRecK - U;
  p->shiftApply = U - F;
  p->shiftTrialRec = p->etaRecK + 30 - F;
  p->shiftTrialOut = p->etaOutK + 30 - F;
  p->applyMul = (int32_t)1 << (24 - F);
  p->transpose = c->kind != NS_RFLO || c->transposeFeedback;
  p->theta = N * N + N * M + N;

  /* Buffer lengths from the layout manifest (runtime/layout.ts, generated into ns_layout.h). */
  const uint64_t len[NB_COUNT] = NS_BUF_LENGTHS(c->kind, c->direct, c->accumulate, (uint64_t)N, (uint64_t)M, (uint64_t)O, (uint64_t)p->theta);
  uint64_t off = 0;
  for (int b = 0; b < NB_COUNT; b++) {
    uint64_t bytes = len[b] * (uint64_t)(BUF_TYPES[b] == NT_U32 ? 4 : BUF_TYPES[b]);
    p->offset[b] = (uint32_t)off;
    p->length[b] = (uint32_t)len[b];
    off += (bytes + 7) / 8 * 8;
    if (off > 0xFFFFFFF0u) return fail(err, errLen, "plan needs more than 4 GiB");
  }
  p->totalBytes = (uint32_t)off;
  if ((double)p->totalBytes > c->memoryBudget) return fail(err, errLen, "the plan's arena is over memoryBudget");
  return 0;
}

void ns_bind(ns_learner *l, const ns_plan *p, uint8_t *a) {
  const uint32_t *o = p->offset;
  l->p = *p;
  l->arena = a;
  l->W_in = (int32_t *)(void *)(a + o[NB_W_in]);
  l->W_rec = (int32_t *)(void *)(a + o[NB_W_rec]);
  l->b = (int32_t *)(void *)(a + o[NB_b]);
  l->W_out = (int32_t *)(void *)(a + o[NB_W_out]);
  l->D = (int32_t *)(void *)(a + o[NB_D]);
  l->W_rec_q12 = (int16_t *)(void *)(a + o[NB_W_rec_q12]);
  l->W_out_q12 = (int16_t *)(void *)(a + o[NB_W_out_q12]);
  l->B = (int16_t *)(void *)(a + o[NB_B]);
  l->h0 = (int16_t *)(void *)(a + o[NB_h0]);
  l->h = (int16_t *)(void *)(a + o[NB_h]);
  l->h_prev = (int16_t *)(void *)(a + o[NB_h_prev]);
  l->x = (int16_t *)(void *)(a + o[NB_x]);
  l->target = (int16_t *)(void *)(a + o[NB_target]);
  l->y = (int16_t *)(void *)(a + o[NB_y]);
  l->e = (int16_t *)(void *)(a + o[NB_e]);
  l->u = (int32_t *)(void *)(a + o[NB_u]);
  l->dphi = (int32_t *)(void *)(a + o[NB_dphi]);
  l->aphi = (int32_t *)(void *)(a + o[NB_aphi]);
  l->fb = (int32_t *)(void *)(a + o[NB_fb]);
  l->P_in = (int16_t *)(void *)(a + o[NB_P_in]);
  l->P_rec = (int16_t *)(void *)(a + o[NB_P_rec]);
  l->P_b = (int16_t *)(void *)(a + o[NB_P_b]);
  l->decay = (int32_t *)(void *)(a + o[NB_decay]);
  l->S = (int32_t *)(void *)(a + o[NB_S]);
  l->S_next = (int32_t *)(void *)(a + o[NB_S_next]);
  l->sum_hi = (int64_t *)(void *)(a + o[NB_sum_hi]);
  l->sum_lo = (int64_t *)(void *)(a + o[NB_sum_lo]);
  l->acc_W_in = (int64_t *)(void *)(a + o[NB_acc_W_in]);
  l->acc_W_rec = (int64_t *)(void *)(a + o[NB_acc_W_rec]);
  l->acc_b = (int64_t *)(void *)(a + o[NB_acc_b]);
  l->acc_W_out = (int64_t *)(void *)(a + o[NB_acc_W_out]);
  l->acc_D = (int64_t *)(void *)(a + o[NB_acc_D]);
  l->sat = (uint32_t *)(void *)(a + o[NB_saturation]);
  l->steps = (int64_t *)(void *)(a + o[NB_steps]);
}
