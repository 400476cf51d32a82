/* Firmware entry: bring up the board, then feed every received byte to the protocol engine (polled). */
#include "platform.h"
#include "device.h"

int main(void) {
  platform_init();
  device_init();
  for (;;) {
    int c = platform_getc();
    if (c >= 0) device_rx((uint8_t)c);
    else device_poll(platform_millis());
  }
}
