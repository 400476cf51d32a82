/*
 * The Arm MPS2 board with the AN386 image (Cortex-M4; QEMU's mps2-an386): UART0, a CMSDK APB UART at 0x40004000,
 * polled (QEMU connects it to -serial; it ignores the baud divisor, on the FPGA board 25 MHz / 217 is 115200), and
 * the millisecond clock from SysTick interrupts: the image clocks the Cortex-M4 at 25 MHz and QEMU models the same
 * rate, so a reload of 25000 ticks is one millisecond, to the accuracy of that clock. bench_main.c reprograms
 * SysTick as a free-running counter (platform/lm3s6965/cycles.c) and does not use this clock.
 */
#include <stdint.h>
#include "../../platform.h"

void platform_clock_init(void);

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x000u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x004u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x008u))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x010u))
#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)

void platform_init(void) {
  platform_clock_init();
  UART_BAUDDIV = 217;            /* 25 MHz / 115200 */
  UART_CTRL = (1u << 0) | (1u << 1); /* TX enable, RX enable */
}

int platform_getc(void) {
  if (!(UART_STATE & STATE_RX_FULL)) return -1;
  return (int)(UART_DATA & 0xFFu);
}

void platform_putc(uint8_t c) {
  while (UART_STATE & STATE_TX_FULL) { }
  UART_DATA = c;
}

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
