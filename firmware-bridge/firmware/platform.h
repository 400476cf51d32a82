/* The board seam: the firmware core talks to a byte stream through these three calls only. */
#ifndef NEUROSTREAM_PLATFORM_H
#define NEUROSTREAM_PLATFORM_H
#include <stdint.h>

void platform_init(void);
/* Next received byte, or -1 when none is waiting (non-blocking). */
int platform_getc(void);
/* Sends one byte, waiting while the transmitter is full. */
void platform_putc(uint8_t c);
/* Milliseconds since platform_init (wraps after 49.7 days). */
uint32_t platform_millis(void);

#endif
