/*
 * UART0 of the Arm MPS2 board with the AN386 image (Cortex-M4; QEMU's mps2-an386): a CMSDK APB UART at 0x40004000,
 * polled. QEMU connects it to -serial. QEMU ignores the baud divisor; on the FPGA board 25 MHz / 217 is 115200.
 */
#include <stdint.h>
#include "../../platform.h"

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x000u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x004u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x008u))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x010u))
#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)

void platform_clock_init(void);

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
