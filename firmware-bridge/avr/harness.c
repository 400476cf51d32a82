/*
 * Runs an Arduino Uno image (ATmega328P, 16 MHz) on simavr with UART0 on a pseudo-terminal and known analog
 * signals on ADC0 and ADC1, for hardware-in-the-loop tests of the real StandardFirmata.
 *
 *   harness [-s speed] <image.hex> [freqHz ampMv offsetMv [freq1Hz amp1Mv offset1Mv]]
 *
 * ADC0 = offsetMv + ampMv * sin(2 pi freqHz t) and ADC1 = offset1Mv + amp1Mv * sin(2 pi freq1Hz t), t the simulated
 * time in seconds (cycles / 16 MHz), evaluated at every conversion start (ADC_IRQ_OUT_TRIGGER), AVCC = AREF = 5000 mV.
 * Defaults: ADC0 1 Hz, 2000 mV around 2500 mV; ADC1 0.25 Hz, 1000 mV around 2500 mV.
 *
 * The simulation is throttled to `speed` simulated seconds per wall second (default 1: real time; it never runs
 * ahead of that clock by more than 1 ms), so the 57600-baud UART and Firmata's sampling interval mean what they say
 * to the host (scaled by speed). simavr needs ~16 M emulated instructions per second for real time (StandardFirmata
 * never sleeps), which a loaded host may not give it: a speed below 1 keeps the pace steady there. If the host
 * cannot keep up even so, it runs as fast as it can; the achieved ratio is printed on stderr when it ends.
 *
 * stdout: one line "pty /dev/pts/N" once the pseudo-terminal is ready (the launcher waits for it), nothing else.
 * The harness keeps the slave side open itself, so the host may open and close it at will. Bytes the firmware
 * sends while the pty's buffer is full (nobody reading) are dropped, like a UART with no listener.
 * SIGTERM / SIGINT end it; the last stderr line reports simulated seconds, wall seconds and bytes each way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <simavr/avr_adc.h>
#include <simavr/avr_uart.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_hex.h>
#include <simavr/sim_irq.h>

#define F_CPU 16000000UL
#define SLICE_CYCLES (F_CPU / 1000) /* poll the pty and check the clock every simulated millisecond */

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static int master_fd = -1;
static int xon = 1;
static unsigned long bytes_out, bytes_in, bytes_dropped;

typedef struct { double freq, amp, offset; } wave_t;
static wave_t wave[2] = { { 1.0, 2000.0, 2500.0 }, { 0.25, 1000.0, 2500.0 } };
static avr_irq_t *adc_in[2];

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t wave_mv(const wave_t *w, double t) {
  double v = w->offset + w->amp * sin(2.0 * M_PI * w->freq * t);
  if (v < 0) v = 0;
  if (v > 5000) v = 5000;
  return (uint32_t)lround(v);
}

/* A conversion starts: give both channels their value at this simulated instant. */
static void on_adc_trigger(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)value;
  avr_t *avr = param;
  double t = (double)avr->cycle / F_CPU;
  for (int c = 0; c < 2; c++) avr_raise_irq(adc_in[c], wave_mv(&wave[c], t));
}

/* A byte left the firmware's UART: pass it to the pty (dropped if its buffer is full). */
static void on_uart_out(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)param;
  uint8_t b = (uint8_t)value;
  if (write(master_fd, &b, 1) == 1) bytes_out++;
  else bytes_dropped++;
}

static void on_xon(struct avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; xon = 1; }
static void on_xoff(struct avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; xon = 0; }

static int load_hex(avr_t *avr, const char *path) {
  ihex_chunk_p chunks = NULL;
  int n = read_ihex_chunks(path, &chunks);
  if (n <= 0) return -1;
  for (int i = 0; i < n; i++) {
    /* flash chunks start below 0x800000 (simavr's data-space marker for .hex files) */
    if (chunks[i].baseaddr >= 0x800000 || chunks[i].baseaddr + chunks[i].size > avr->flashend + 1) {
      free_ihex_chunks(chunks);
      return -1;
    }
    memcpy(avr->flash + chunks[i].baseaddr, chunks[i].data, chunks[i].size);
  }
  free_ihex_chunks(chunks);
  return 0;
}

int main(int argc, char **argv) {
  double speed = 1.0;
  if (argc >= 3 && strcmp(argv[1], "-s") == 0) {
    speed = atof(argv[2]);
    argv += 2;
    argc -= 2;
  }
  if ((argc != 2 && argc != 5 && argc != 8) || !(speed > 0)) {
    fprintf(stderr, "usage: harness [-s speed] image.hex [freqHz ampMv offsetMv [freq1Hz amp1Mv offset1Mv]]\n");
    return 2;
  }
  for (int c = 0; 2 + 3 * c + 2 < argc; c++) {
    wave[c].freq = atof(argv[2 + 3 * c]);
    wave[c].amp = atof(argv[3 + 3 * c]);
    wave[c].offset = atof(argv[4 + 3 * c]);
  }

  avr_t *avr = avr_make_mcu_by_name("atmega328p");
  if (!avr) {
    fprintf(stderr, "simavr has no atmega328p core\n");
    return 1;
  }
  avr_init(avr);
  avr->frequency = F_CPU;
  avr->vcc = avr->avcc = avr->aref = 5000;
  avr->log = LOG_ERROR;
  if (load_hex(avr, argv[1]) != 0) {
    fprintf(stderr, "cannot load %s as an ATmega328P flash image\n", argv[1]);
    return 1;
  }
  avr->pc = 0;
  avr->codeend = avr->flashend;

  /* UART0: no console echo, no usleep on polled reads (we keep time ourselves). */
  uint32_t flags = 0;
  avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
  flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
  avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
  avr_irq_t *uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_out, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, NULL);

  adc_in[0] = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0);
  adc_in[1] = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC1);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), on_adc_trigger, avr);
  for (int c = 0; c < 2; c++) avr_raise_irq(adc_in[c], wave_mv(&wave[c], 0));

  int slave_fd;
  char name[128];
  if (openpty(&master_fd, &slave_fd, name, NULL, NULL) != 0) {
    perror("openpty");
    return 1;
  }
  struct termios tio;
  tcgetattr(slave_fd, &tio);
  cfmakeraw(&tio);
  cfsetspeed(&tio, B57600);
  tcsetattr(slave_fd, TCSANOW, &tio);
  fcntl(master_fd, F_SETFL, fcntl(master_fd, F_GETFL) | O_NONBLOCK);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  printf("pty %s\n", name);
  fflush(stdout);

  const double wall0 = now_sec();
  avr_cycle_count_t next_slice = SLICE_CYCLES;
  uint8_t inbuf[64];
  size_t in_len = 0, in_pos = 0;
  int state = cpu_Running;
  while (!stop_requested && state != cpu_Done && state != cpu_Crashed) {
    state = avr_run(avr);
    if (avr->cycle < next_slice) continue;
    next_slice = avr->cycle + SLICE_CYCLES;

    /* host -> firmware, as fast as the UART's receive fifo takes it */
    if (in_pos == in_len) {
      ssize_t r = read(master_fd, inbuf, sizeof inbuf);
      in_len = r > 0 ? (size_t)r : 0;
      in_pos = 0;
    }
    while (in_pos < in_len && xon) {
      avr_raise_irq(uart_in, inbuf[in_pos++]);
      bytes_in++;
    }

    /* no faster than speed x the wall clock */
    double ahead = ((double)avr->cycle / F_CPU) / speed - (now_sec() - wall0);
    if (ahead > 0.001) {
      struct timespec ts = { 0, (long)(ahead * 1e9) };
      nanosleep(&ts, NULL);
    }
  }
  double sim = (double)avr->cycle / F_CPU, wall = now_sec() - wall0;
  fprintf(stderr, "harness: %.3f s simulated in %.3f s wall (%.2fx real time), %lu bytes out, %lu in, %lu dropped, cpu state %d\n",
          sim, wall, wall > 0 ? sim / wall : 0.0, bytes_out, bytes_in, bytes_dropped, state);
  close(slave_fd);
  close(master_fd);
  return state == cpu_Crashed ? 1 : 0;
}
