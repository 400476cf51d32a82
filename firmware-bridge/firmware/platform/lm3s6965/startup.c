/* Minimal Cortex-M3 start-up for the LM3S6965: vector table, .data copy, .bss clear, then main(). */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
void systick_handler(void);

void reset_handler(void);
static void default_handler(void) { for (;;) { } }

__attribute__((section(".vectors"), used))
static void (*const vectors[16])(void) = {
  (void (*)(void))(&_estack),
  reset_handler,
  default_handler, /* NMI */
  default_handler, /* HardFault */
  default_handler, /* MemManage */
  default_handler, /* BusFault */
  default_handler, /* UsageFault */
  0, 0, 0, 0,
  default_handler, /* SVCall */
  default_handler, /* DebugMon */
  0,
  default_handler, /* PendSV */
  systick_handler, /* SysTick: the millisecond clock (clock.c) */
};

void reset_handler(void) {
  uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  main();
  for (;;) { }
}
