/* The board seam on the host (bench_main.c's CRC lines without a board): stdout, no input, no clock. */
#include <stdio.h>
#include "../platform.h"

void platform_init(void) {}
int platform_getc(void) { return -1; }
void platform_putc(uint8_t c) { putchar(c); }
uint32_t platform_millis(void) { return 0; }
void platform_cycles_init(void) {}
uint32_t platform_cycles(void) { return 0; }
