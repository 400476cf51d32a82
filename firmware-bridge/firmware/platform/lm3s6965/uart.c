/*
 * UART0 of the LM3S6965 (a PL011 at 0x4000C000), polled. QEMU's lm3s6965evb connects it to -serial.
 * QEMU ignores the baud rate; on silicon the clock gating and divisor set-up below give 115200 8N1 at 12 MHz.
 */
#include <stdint.h>
#include "../../platform.h"

#define SYSCTL_RCGC1 (*(volatile uint32_t *)0x400FE104u)
#define SYSCTL_RCGC2 (*(volatile uint32_t *)0x400FE108u)
#define UART0_BASE 0x4000C000u
#define UART_DR (*(volatile uint32_t *)(UART0_BASE + 0x000u))
#define UART_FR (*(volatile uint32_t *)(UART0_BASE + 0x018u))
#define UART_IBRD (*(volatile uint32_t *)(UART0_BASE + 0x024u))
#define UART_FBRD (*(volatile uint32_t *)(UART0_BASE + 0x028u))
#define UART_LCRH (*(volatile uint32_t *)(UART0_BASE + 0x02Cu))
#define UART_CTL (*(volatile uint32_t *)(UART0_BASE + 0x030u))
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)

void platform_clock_init(void);

void platform_init(void) {
  platform_clock_init();
  SYSCTL_RCGC1 |= 1u;        /* UART0 clock */
  SYSCTL_RCGC2 |= 1u;        /* GPIO port A clock (PA0/PA1 carry UART0) */
  UART_CTL = 0;
  UART_IBRD = 6;             /* 12 MHz / (16 * 115200) = 6.51 */
  UART_FBRD = 33;            /* 0.51 * 64 + 0.5 */
  UART_LCRH = (3u << 5) | (1u << 4); /* 8 bits, FIFOs on */
  UART_CTL = (1u << 0) | (1u << 8) | (1u << 9); /* UARTEN, TXE, RXE */
}

int platform_getc(void) {
  if (UART_FR & FR_RXFE) return -1;
  return (int)(UART_DR & 0xFFu);
}

void platform_putc(uint8_t c) {
  while (UART_FR & FR_TXFF) { }
  UART_DR = c;
}
