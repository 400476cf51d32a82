/* SysTick as a 24-bit down-counter of processor clocks, for step timing (bench_main.c). */
#include <stdint.h>

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

void platform_cycles_init(void) {
  SYST_RVR = 0x00FFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 5u; /* ENABLE | CLKSOURCE = processor clock, no interrupt */
}

/* Counts up (the inverse of SysTick's down-count), modulo 2^24. */
uint32_t platform_cycles(void) {
  return (0x00FFFFFFu - SYST_CVR) & 0x00FFFFFFu;
}
