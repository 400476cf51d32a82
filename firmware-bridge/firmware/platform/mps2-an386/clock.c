/*
 * Millisecond clock from SysTick interrupts. The MPS2 AN386 image clocks the Cortex-M4 at 25 MHz;
 * QEMU's mps2-an386 models the same rate, so a reload of 25000 ticks is one millisecond, to the accuracy of
 * that clock. bench_main.c reprograms SysTick as a free-running counter (cycles.c) and does not use this clock.
 */
#include <stdint.h>
#include "../../platform.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define CPU_HZ 25000000u

static volatile uint32_t millis;

void systick_handler(void) { millis++; }

void platform_clock_init(void) {
  SYST_RVR = CPU_HZ / 1000u - 1u;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE = processor clock */
}

uint32_t platform_millis(void) { return millis; }
