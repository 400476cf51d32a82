/*
 * Host fuzz harness for the device protocol engine (device.c), meant to run under ASan + UBSan:
 *   fuzz_device SNAPSHOT ITERATIONS SEED
 * Loads SNAPSHOT (runtime format) into the device through SNAPSHOT_DATA frames, then sends ITERATIONS random events:
 * random bytes, frames with valid CRC and random type/body (every handler with arbitrary content: SNAPSHOT_DATA at
 * random offsets, SNAPSHOT_REQUEST with random chunk sizes, CONFIGURE with random fields, ...), and valid steps.
 * Then reloads SNAPSHOT, reads the device's snapshot back and checks it is byte-identical to SNAPSHOT (a
 * round trip through a device that has just survived the fuzzing). Prints "ok FRAMES_OUT" or "FAIL reason".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../device.h"
#include "../platform.h"

static uint8_t out[300];
static uint32_t outLen;
static uint32_t framesOut;
static uint8_t dump[1 << 20];
static uint32_t dumpLen, dumpTotal;
static int acks, errors;

static uint16_t crc16(const uint8_t *p, uint32_t n) {
  uint16_t c = 0xFFFF;
  for (uint32_t i = 0; i < n; i++) {
    c ^= (uint16_t)(p[i] << 8);
    for (int k = 0; k < 8; k++) c = (c & 0x8000u) ? (uint16_t)((c << 1) ^ 0x1021u) : (uint16_t)(c << 1);
  }
  return c;
}

/* Decodes every frame the device sends; collects SNAPSHOT_DATA and counts ACK / ERROR. */
static void on_out_frame(uint8_t *enc, uint32_t n) {
  uint8_t dec[300];
  uint32_t r = 0, w = 0;
  while (r < n) {
    uint32_t code = enc[r++];
    if (code == 0 || r + code - 1 > n) return;
    for (uint32_t i = 1; i < code; i++) dec[w++] = enc[r++];
    if (code < 0xFF && r < n) dec[w++] = 0;
  }
  if (w < 6) return;
  framesOut++;
  if (dec[0] == 0x20) acks++;
  if (dec[0] == 0x31) errors++;
  if (dec[0] == 0x41) {
    uint32_t off = dec[8] | dec[9] << 8 | (uint32_t)dec[10] << 16 | (uint32_t)dec[11] << 24;
    uint32_t tot = dec[12] | dec[13] << 8 | (uint32_t)dec[14] << 16 | (uint32_t)dec[15] << 24;
    uint32_t cnt = dec[16];
    if (off + cnt <= sizeof dump) memcpy(dump + off, dec + 17, cnt);
    dumpLen = off + cnt;
    dumpTotal = tot;
  }
}

void platform_init(void) {}
int platform_getc(void) { return -1; }
uint32_t platform_millis(void) { return 0; }
void platform_putc(uint8_t c) {
  if (c == 0) {
    on_out_frame(out, outLen);
    outLen = 0;
  } else if (outLen < sizeof out) out[outLen++] = c;
}

static uint16_t fseq;
static void send_bytes(const uint8_t *b, uint32_t n) { for (uint32_t i = 0; i < n; i++) device_rx(b[i]); }

static void send_frame(uint8_t type, const uint8_t *body, uint32_t n, int useSeq) {
  uint8_t p[300], enc[310];
  uint32_t len = 4 + n, e = 1, code = 1, codeAt = 0;
  p[0] = type;
  p[1] = 0;
  uint16_t f = useSeq ? fseq++ : (uint16_t)rand();
  p[2] = (uint8_t)f;
  p[3] = (uint8_t)(f >> 8);
  memcpy(p + 4, body, n);
  uint16_t c = crc16(p, len);
  p[len++] = (uint8_t)c;
  p[len++] = (uint8_t)(c >> 8);
  for (uint32_t i = 0; i < len; i++) {
    if (p[i] == 0) { enc[codeAt] = (uint8_t)code; codeAt = e++; code = 1; }
    else { enc[e++] = p[i]; if (++code == 0xFF) { enc[codeAt] = (uint8_t)code; codeAt = e++; code = 1; } }
  }
  enc[codeAt] = (uint8_t)code;
  enc[e++] = 0;
  send_bytes(enc, e);
}

static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

static void hello(void) {
  uint8_t b[8] = { 1, 1, 0, 1, 0xff, 0xff, 0xff, 0xff };
  fseq = 0;
  device_rx(0);
  send_frame(0x01, b, 8, 1);
}

static void load(const uint8_t *snap, uint32_t n) {
  uint8_t b[250];
  for (uint32_t off = 0; off < n; off += 237) {
    uint32_t c = n - off < 237 ? n - off : 237;
    memset(b, 0, 13);
    b[0] = 1;
    b[2] = off + c == n;
    put32(b + 4, off);
    put32(b + 8, n);
    b[12] = (uint8_t)c;
    memcpy(b + 13, snap + off, c);
    send_frame(0x41, b, 13 + c, 1);
  }
}

static void configure(uint8_t learner, uint8_t M, uint8_t O, uint16_t N) {
  uint8_t b[20] = { 0 };
  b[0] = learner; b[1] = M; b[2] = O; b[3] = 3; b[4] = (uint8_t)N; b[5] = (uint8_t)(N >> 8); b[6] = b[7] = b[8] = 12;
  send_frame(0x03, b, 20, 1);
}

int main(int argc, char **argv) {
  static uint8_t snap[1 << 20];
  if (argc != 4) { fprintf(stderr, "usage: fuzz_device SNAPSHOT ITERATIONS SEED\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { printf("FAIL cannot open %s\n", argv[1]); return 1; }
  uint32_t n = (uint32_t)fread(snap, 1, sizeof snap, f);
  fclose(f);
  long iters = atol(argv[2]);
  srand((unsigned)atoi(argv[3]));
  device_init();
  hello();
  load(snap, n);
  configure(2, 3, 3, 8);
  for (long it = 0; it < iters; it++) {
    uint8_t b[320];
    int kind = rand() % 4;
    if (kind == 0) { /* raw bytes, zeros included */
      uint32_t len = (uint32_t)(rand() % 300);
      for (uint32_t i = 0; i < len; i++) b[i] = (uint8_t)(rand() % 4 == 0 ? 0 : rand());
      send_bytes(b, len);
    } else if (kind == 1) { /* valid CRC, random known type, random body and length */
      static const uint8_t types[] = { 0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x20, 0x21, 0x30, 0x31, 0x32, 0x33, 0x40, 0x41, 0x7f };
      uint8_t type = types[rand() % (int)sizeof types];
      uint32_t len = (uint32_t)(rand() % 251);
      for (uint32_t i = 0; i < len; i++) b[i] = (uint8_t)rand();
      send_frame(type, b, len, rand() % 8 != 0);
    } else if (kind == 2) { /* a well-formed frame of a random type with its exact length and random content */
      static const uint8_t types[] = { 0x03, 0x10, 0x11, 0x32, 0x40, 0x41, 0x30 };
      uint8_t type = types[rand() % (int)sizeof types];
      uint32_t len = 8;
      for (uint32_t i = 0; i < sizeof b; i++) b[i] = (uint8_t)rand();
      if (type == 0x03) len = 20;
      else if (type == 0x10) { b[8] = (uint8_t)(rand() % 5); len = 9 + 2u * b[8]; }
      else if (type == 0x11) { b[4] = (uint8_t)(rand() % 5); len = 5 + 2u * b[4]; }
      else if (type == 0x32) len = 0;
      else if (type == 0x40) len = 9;
      else if (type == 0x41) { b[12] = (uint8_t)(rand() % 238); len = 13 + b[12]; }
      send_frame(type, b, len, 1);
    } else { /* a valid step (inputs 3, outputs 3) */
      uint32_t seq = (uint32_t)it;
      memset(b, 0, 16);
      put32(b, seq);
      b[8] = 3;
      for (int j = 0; j < 6; j++) b[9 + j] = (uint8_t)rand();
      send_frame(0x10, b, 15, 1);
      put32(b, seq);
      b[4] = 3;
      for (int j = 0; j < 6; j++) b[5 + j] = (uint8_t)rand();
      send_frame(0x11, b, 11, 1);
    }
  }
  /* Round trip after the storm: reload, read back, compare. */
  hello();
  load(snap, n);
  uint8_t req[9] = { 2, 0, 0, 0, 0, 0, 0, 0, 237 };
  dumpLen = dumpTotal = 0;
  send_frame(0x40, req, 9, 1);
  if (dumpTotal != n || dumpLen != n) { printf("FAIL snapshot read back has %u of %u bytes, expected %u\n", dumpLen, dumpTotal, n); return 1; }
  for (uint32_t i = 0; i < n; i++) {
    if (dump[i] != snap[i]) { printf("FAIL snapshot read back differs at byte %u\n", i); return 1; }
  }
  printf("ok %u frames out, %d acks, %d errors\n", framesOut, acks, errors);
  return 0;
}
