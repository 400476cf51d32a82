/*
 * The optimized C anchor of `neurostream bench`: RFLO 'step' mode with the runtime's arithmetic (runtime/ARITHMETIC.md),
 * written for speed on the host (loops shaped for gcc -O3 -march=native auto-vectorisation). See rflo_anchor.c.
 */
#ifndef RFLO_ANCHOR_H
#define RFLO_ANCHOR_H
#include "../../firmware-bridge/firmware/ns.h"

/*
 * 0 when the anchor can step learner l (RFLO, 'step' updates), else a static message saying why not.
 * rflo_anchor_step then equals ns_step_missing (and the runtime's stepQ) on every arena byte except the Q30
 * gradient accumulators acc_W_in, acc_W_rec, acc_b, acc_W_out and acc_D, which it never touches (in 'step' mode
 * nothing but readGradient reads them).
 */
const char *rflo_anchor_unsupported(const ns_learner *l);

/* One step: x (M, Q3.12), xMissing (M flags or NULL), target (O, Q3.12) or NULL (inference), targetMissing, out (O). */
void rflo_anchor_step(ns_learner *l, const int16_t *x, const uint8_t *xMissing, const int16_t *target, int targetMissing,
                      int16_t *out);

#endif
