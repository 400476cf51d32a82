/*
 * Host harness for the protocol corners PROTOCOL.md section 4.6 decides, on the device engine (device.c):
 *   corners_device SNAPSHOT dup|nodup
 * Loads SNAPSHOT (an rflo learner, 3 inputs, 3 outputs, 8 hidden), steps seqs 0..14 (SAMPLE + TARGET); with "dup" the
 * pair of seq 5 is sent again with RETRANSMIT after seq 9. Then a SAMPLE whose count (2) fits its length but not the
 * configuration, then a HELLO of an unsupported version. Prints one line:
 *   predictions P errors_after_wrong_count E error1_detail D snapshot FNV
 * where FNV is the FNV-1a hash of the learner's snapshot read back at the end (so "dup" and "nodup" must agree).
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
static int acks, errors, predictions;
static uint32_t lastErrorCode, lastErrorDetail;

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
  if (dec[0] == 0x12) predictions++;
  if (dec[0] == 0x31) { errors++; lastErrorCode = dec[4] | dec[5] << 8; lastErrorDetail = dec[8] | dec[9] << 8 | (uint32_t)dec[10] << 16 | (uint32_t)dec[11] << 24; }
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

static uint8_t txFlags;
static void send_frame(uint8_t type, const uint8_t *body, uint32_t n, int useSeq) {
  uint8_t p[300], enc[310];
  uint32_t len = 4 + n, e = 1, code = 1, codeAt = 0;
  p[0] = type;
  p[1] = txFlags;
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


static void step(uint32_t seq) {
  uint8_t b[16];
  memset(b, 0, sizeof b);
  put32(b, seq);
  b[8] = 3;
  for (int j = 0; j < 3; j++) { int v = (int)((seq * 37 + (uint32_t)j * 11) % 4096) - 2048; b[9 + 2 * j] = (uint8_t)v; b[10 + 2 * j] = (uint8_t)(v >> 8); }
  send_frame(0x10, b, 15, 1);
  memset(b, 0, sizeof b);
  put32(b, seq);
  b[4] = 3;
  for (int o = 0; o < 3; o++) { int v = (int)((seq * 53 + (uint32_t)o * 7) % 4096) - 2048; b[5 + 2 * o] = (uint8_t)v; b[6 + 2 * o] = (uint8_t)(v >> 8); }
  send_frame(0x11, b, 11, 1);
}

int main(int argc, char **argv) {
  static uint8_t snap[1 << 20];
  if (argc != 3) { fprintf(stderr, "usage: corners_device SNAPSHOT dup|nodup\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { printf("FAIL cannot open %s\n", argv[1]); return 1; }
  uint32_t n = (uint32_t)fread(snap, 1, sizeof snap, f);
  fclose(f);
  int dup = strcmp(argv[2], "dup") == 0;
  device_init();
  hello();
  load(snap, n);
  configure(2, 3, 3, 8);
  for (uint32_t s = 0; s < 15; s++) {
    step(s);
    if (dup && s == 9) { txFlags = 1; step(5); txFlags = 0; }
  }
  /* a SAMPLE whose count fits its length but not the configured inputs */
  int before = errors;
  uint8_t b[16];
  memset(b, 0, sizeof b);
  put32(b, 15);
  b[8] = 2;
  send_frame(0x10, b, 13, 1);
  int wrongCount = errors - before;
  /* the learner as it stands, read back */
  uint8_t req[9] = { 2, 0, 0, 0, 0, 0, 0, 0, 237 };
  dumpLen = dumpTotal = 0;
  send_frame(0x40, req, 9, 1);
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < dumpLen; i++) { h ^= dump[i]; h *= 16777619u; }
  /* a host that speaks only version 2 */
  uint8_t hv[8] = { 2, 2, 0, 1, 0xff, 0xff, 0xff, 0xff };
  fseq = 0;
  send_frame(0x01, hv, 8, 1);
  printf("predictions %d errors_after_wrong_count %d error1_code %u error1_detail %u snapshot %08x bytes %u\n", predictions, wrongCount, lastErrorCode, lastErrorDetail, h, dumpLen);
  return 0;
}
