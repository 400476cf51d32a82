/*
 * Bridge protocol v1, device side, for the on-device learner (see device.h and PROTOCOL.md).
 * Frames: COBS(type | flags | fseq u16 | body | CRC-16/CCITT-FALSE u16) 0x00; little-endian fields.
 * Every dropped frame is counted once under its reason, in PROTOCOL.md's order of checks.
 * No malloc: the learner's arena, the frame buffers and the config text are static.
 */
#include <string.h>
#include "ns.h"
#include "device.h"
#include "platform.h"

enum {
  T_HELLO = 0x01, T_CAPABILITIES = 0x02, T_CONFIGURE = 0x03, T_SAMPLE = 0x10, T_TARGET = 0x11, T_PREDICTION = 0x12,
  T_ACK = 0x20, T_NACK = 0x21, T_HEARTBEAT = 0x30, T_ERROR = 0x31, T_STATS_REQUEST = 0x32, T_STATS = 0x33,
  T_SNAPSHOT_REQUEST = 0x40, T_SNAPSHOT_DATA = 0x41
};
enum { E_VERSION = 1, E_BAD_CONFIG = 2, E_SNAPSHOT_UNAVAILABLE = 5, E_NOT_CONFIGURED = 7 };
enum { ST_FRAMES_RX, ST_FRAMES_TX, ST_BAD_CRC, ST_BAD_LENGTH, ST_UNKNOWN_TYPE, ST_OVERFLOW, ST_OUT_OF_SEQUENCE,
       ST_SAMPLES_GENERATED, ST_SAMPLES_SENT, ST_SAMPLES_RETRANSMITTED, ST_SAMPLES_OVERWRITTEN, ST_UPTIME, ST_COUNT };

/* Header flags (PROTOCOL.md section 1) and the missing-reading marker ("Missing readings"). */
#define FLAG_MISSING 0x02u
#define MISSING_VALUE (-32768)

#define MAX_PAYLOAD 256
#define MAX_ENCODED 258
#define DEVICE_ID 0x4E530001u

static uint8_t arena[NS_ARENA_BYTES] __attribute__((aligned(8)));
static char configText[512];
static ns_learner learner;
static ns_snapshot_loader loader;
static int modelLoaded, active, withTargets;

static uint8_t rx[MAX_ENCODED + 1];
static uint32_t rxLen;
static int rxOverflow;
static uint16_t rxExpected;
static uint16_t txSeq;
static uint32_t stats[ST_COUNT];
static uint32_t nowMs, lastTxMs, heartbeatMs = 200;
static int linkUp;

static int16_t xbuf[NS_MAX_INPUTS > 0 ? NS_MAX_INPUTS : 1];
static int16_t tbuf[NS_MAX_OUTPUTS], ybuf[NS_MAX_OUTPUTS];
static uint8_t xMissing[NS_MAX_INPUTS > 0 ? NS_MAX_INPUTS : 1];
static int targetMissing;
static uint32_t pendingSeq, nextSeq;
/* Learning is idempotent per seq (PROTOCOL.md 4.6): a SAMPLE resent with RETRANSMIT whose seq was already stepped
   is not stepped again; its TARGET (skipSeq) is dropped with it. */
static int stepped, skipping;
static uint32_t skipSeq;
static int pending;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, v); wr16(p + 2, v >> 16); }

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR. */
static uint16_t crc16(const uint8_t *p, uint32_t n) {
  uint16_t c = 0xFFFF;
  for (uint32_t i = 0; i < n; i++) {
    c ^= (uint16_t)(p[i] << 8);
    for (int k = 0; k < 8; k++) c = (c & 0x8000u) ? (uint16_t)((c << 1) ^ 0x1021u) : (uint16_t)(c << 1);
  }
  return c;
}

/* ---- transmit ---- */

static uint8_t tx[MAX_PAYLOAD];

/* Sends tx[0..4+bodyLen) after filling the header and CRC: COBS-encoded, then the 0x00 delimiter. */
static void send_frame(uint8_t type, uint32_t bodyLen) {
  static uint8_t enc[MAX_ENCODED];
  uint32_t n = 4 + bodyLen, e = 1, code = 0, codeAt = 0;
  tx[0] = type;
  tx[1] = 0;
  wr16(tx + 2, txSeq++);
  wr16(tx + n, crc16(tx, n));
  n += 2;
  code = 1;
  for (uint32_t i = 0; i < n; i++) {
    if (tx[i] == 0) {
      enc[codeAt] = (uint8_t)code;
      codeAt = e++;
      code = 1;
    } else {
      enc[e++] = tx[i];
      if (++code == 0xFF) {
        enc[codeAt] = (uint8_t)code;
        codeAt = e++;
        code = 1;
      }
    }
  }
  enc[codeAt] = (uint8_t)code;
  for (uint32_t i = 0; i < e; i++) platform_putc(enc[i]);
  platform_putc(0);
  stats[ST_FRAMES_TX]++;
  lastTxMs = nowMs;
}

static void send_ack(uint8_t type, uint8_t subject, uint8_t code, uint16_t ref, uint32_t value) {
  uint8_t *b = tx + 4;
  b[0] = subject;
  b[1] = code;
  wr16(b + 2, ref);
  wr32(b + 4, value);
  send_frame(type, 8);
}

static void send_error(uint16_t code, uint32_t detail, const char *text) {
  uint8_t *b = tx + 4;
  uint32_t n = (uint32_t)strlen(text);
  if (n > 241) n = 241;
  wr16(b, code);
  wr16(b + 2, 0);
  wr32(b + 4, detail);
  b[8] = (uint8_t)n;
  memcpy(b + 9, text, n);
  send_frame(T_ERROR, 9 + n);
}

/* NACK the frame (subject 0) and say why in an ERROR. */
static void refuse(uint16_t ref, uint16_t code, const char *text) {
  send_ack(T_NACK, 0, (uint8_t)code, ref, 0);
  send_error(code, 0, text);
}

/* ---- handlers ---- */

static void on_hello(const uint8_t *b) {
  uint8_t version = b[0] < 1 ? b[0] : 1, minVersion = b[1];
  uint8_t *c = tx + 4;
  int ok = version >= 1 && minVersion <= 1;
  txSeq = 0;
  active = 0;
  pending = 0;
  skipping = 0;
  memset(c, 0, 24);
  c[0] = ok ? 1 : 0;
  c[1] = NS_MAX_INPUTS > 120 ? 120 : NS_MAX_INPUTS;
  wr16(c + 2, MAX_PAYLOAD);
  c[4] = NS_MAX_OUTPUTS > 122 ? 122 : NS_MAX_OUTPUTS;
  c[5] = (1u << NS_RTRL) | (1u << NS_RFLO) | (1u << NS_SNAP1) | (1u << NS_OUTPUT); /* bit (kind code) */
  wr16(c + 6, 0);
  wr32(c + 8, 0);
  wr32(c + 12, DEVICE_ID);
  wr32(c + 16, nextSeq);
  wr32(c + 20, nextSeq);
  send_frame(T_CAPABILITIES, 24);
  if (!ok) send_error(E_VERSION, 1, "this device speaks protocol version 1 only"); /* detail: highest version spoken */
}

static void on_configure(uint16_t fseq, const uint8_t *b) {
  const ns_config *c = &learner.p.cfg;
  if (b[0] == 0) {
    refuse(fseq, E_BAD_CONFIG, "learner 0 (host learns) needs sensors; this firmware only runs an on-device learner (1..4)");
    return;
  }
  if (!modelLoaded) {
    refuse(fseq, E_NOT_CONFIGURED, "no learner loaded: send its snapshot (SNAPSHOT_DATA) before CONFIGURE");
    return;
  }
  if (b[0] > NS_OUTPUT + 1 || b[0] - 1 != c->kind) { /* wire code = kind code + 1 */
    refuse(fseq, E_BAD_CONFIG, "learner differs from the loaded snapshot's"); return; }
  if (b[1] != c->inputs) { refuse(fseq, E_BAD_CONFIG, "inputs differs from the loaded snapshot's"); return; }
  if (b[2] != c->outputs) { refuse(fseq, E_BAD_CONFIG, "outputs differs from the loaded snapshot's"); return; }
  if (rd16(b + 4) != c->hidden) { refuse(fseq, E_BAD_CONFIG, "hidden differs from the loaded snapshot's"); return; }
  if (b[6] != 12 || b[7] != 12 || b[8] != 12) { refuse(fseq, E_BAD_CONFIG, "inputFrac, targetFrac and predictionFrac must be 12 (Q3.12)"); return; }
  if (!c->stepMode) { refuse(fseq, E_BAD_CONFIG, "update must be 'step' on the device (the protocol has no endTrial)"); return; }
  if (((b[3] & 4) != 0) != (c->direct != 0)) {
    refuse(fseq, E_BAD_CONFIG, c->direct ? "the loaded snapshot's readout reads the input (direct): set flags bit2 DIRECT"
                                         : "flags bit2 DIRECT is set but the loaded snapshot has no direct readout (D)");
    return;
  }
  if (((b[3] & 8) != 0) != (c->normalized != 0)) {
    refuse(fseq, E_BAD_CONFIG, c->normalized ? "the loaded snapshot's readout takes normalised steps: set flags bit3 NORMALIZED"
                                             : "flags bit3 NORMALIZED is set but the loaded snapshot's readout is not normalised");
    return;
  }
  heartbeatMs = rd16(b + 10);
  withTargets = (b[3] & 2) != 0;
  active = (b[3] & 1) != 0;
  pending = 0;
  send_ack(T_ACK, 0, 0, fseq, 0);
}

static void predict(uint32_t seq, int learn) {
  uint8_t *b = tx + 4;
  const int O = learner.p.cfg.outputs;
  ns_step_missing(&learner, xbuf, xMissing, learn ? tbuf : 0, targetMissing, ybuf);
  stats[ST_SAMPLES_GENERATED]++;
  wr32(b, seq);
  b[4] = (uint8_t)O;
  for (int o = 0; o < O; o++) wr16(b + 5 + 2 * o, (uint16_t)ybuf[o]);
  send_frame(T_PREDICTION, 5u + 2u * (uint32_t)O);
  stats[ST_SAMPLES_SENT]++;
  nextSeq = seq + 1;
  stepped = 1;
}

/* PROTOCOL.md "Missing readings": with the MISSING flag, a SAMPLE value 0x8000 is a channel without a reading
 * (it holds its last value, x_invalid) and a TARGET is missing as a whole (inference only, target_invalid). */
static void on_sample(uint8_t flags, const uint8_t *b) {
  const int M = learner.p.cfg.inputs;
  if (!active) { send_error(E_NOT_CONFIGURED, 0, "SAMPLE before CONFIGURE with START"); return; }
  /* a count that fits the length but not the configuration: dropped and counted as badLength (PROTOCOL.md 4.6) */
  if (b[8] != M) { stats[ST_BAD_LENGTH]++; pending = 0; return; }
  skipping = 0;
  if ((flags & 1) && stepped && (int32_t)(rd32(b) - nextSeq) < 0) {
    /* a resend of a step already taken: counted (samplesRetransmitted), not stepped or predicted again */
    stats[ST_SAMPLES_RETRANSMITTED]++;
    pending = 0;
    skipping = withTargets;
    skipSeq = rd32(b);
    return;
  }
  for (int j = 0; j < M; j++) {
    xbuf[j] = (int16_t)rd16(b + 9 + 2 * j);
    xMissing[j] = (flags & FLAG_MISSING) && xbuf[j] == MISSING_VALUE;
  }
  targetMissing = 0;
  pendingSeq = rd32(b);
  pending = 1;
  if (!withTargets) {
    pending = 0;
    predict(pendingSeq, 0);
  }
}

static void on_target(uint8_t flags, const uint8_t *b) {
  const int O = learner.p.cfg.outputs;
  uint32_t seq = rd32(b);
  if (!active) { send_error(E_NOT_CONFIGURED, 0, "TARGET before CONFIGURE with START"); return; }
  if (skipping && seq == skipSeq) { skipping = 0; return; } /* the TARGET of a resent step already taken */
  if (b[4] != O) { stats[ST_BAD_LENGTH]++; pending = 0; return; }
  if (!pending || seq != pendingSeq) { send_error(E_BAD_CONFIG, seq, "TARGET does not follow the SAMPLE with its seq"); return; }
  for (int o = 0; o < O; o++) tbuf[o] = (int16_t)rd16(b + 5 + 2 * o);
  targetMissing = (flags & FLAG_MISSING) != 0;
  pending = 0;
  predict(seq, 1);
}

static void on_snapshot_data(uint16_t fseq, const uint8_t *b) {
  static char err[120];
  uint32_t offset = rd32(b + 4);
  if (offset == 0) modelLoaded = active = pending = 0;
  int r = ns_snapshot_load_chunk(&loader, offset, b + 13, b[12], err, sizeof err);
  if (r < 0) { refuse(fseq, E_BAD_CONFIG, err); return; }
  if (r == 1) {
    const ns_config *c = &learner.p.cfg;
    if (c->inputs > NS_MAX_INPUTS || c->outputs > NS_MAX_OUTPUTS) {
      refuse(fseq, E_BAD_CONFIG, "snapshot has more inputs or outputs than this firmware was built for");
      return;
    }
    modelLoaded = 1;
  }
  send_ack(T_ACK, 0, 0, fseq, offset + b[12]);
}

static void on_snapshot_request(const uint8_t *b) {
  uint16_t id = rd16(b);
  uint32_t offset = rd32(b + 4), chunk = b[8];
  if (!modelLoaded) { send_error(E_SNAPSHOT_UNAVAILABLE, 0, "no learner loaded"); return; }
  if (chunk == 0 || chunk > 237) chunk = 237;
  uint32_t total = ns_snapshot_length(&learner, loader.configLength);
  uint32_t crc = ns_snapshot_crc(&learner, configText, loader.configLength);
  if (offset >= total) { send_error(E_SNAPSHOT_UNAVAILABLE, offset, "offset beyond the snapshot"); return; }
  while (offset < total) {
    uint32_t n = total - offset < chunk ? total - offset : chunk;
    uint8_t *d = tx + 4;
    wr16(d, id);
    wr16(d + 2, offset + n == total ? 1 : 0);
    wr32(d + 4, offset);
    wr32(d + 8, total);
    d[12] = (uint8_t)n;
    for (uint32_t i = 0; i < n; i++) d[13 + i] = ns_snapshot_byte(&learner, configText, loader.configLength, crc, offset + i);
    send_frame(T_SNAPSHOT_DATA, 13 + n);
    offset += n;
  }
}

static void send_heartbeat(void) {
  uint8_t *h = tx + 4;
  wr32(h, nowMs);
  wr32(h + 4, nextSeq);
  send_frame(T_HEARTBEAT, 8);
}

static void on_stats(void) {
  uint8_t *b = tx + 4;
  stats[ST_UPTIME] = nowMs;
  for (int i = 0; i < ST_COUNT; i++) wr32(b + 4 * i, stats[i]);
  send_frame(T_STATS, 4 * ST_COUNT);
}

/* Body length a type requires, or -1 for an unknown type; counted types read their count field. */
static int32_t body_length(uint8_t type, const uint8_t *b, uint32_t len) {
  switch (type) {
    case T_HELLO: case T_ACK: case T_NACK: case T_HEARTBEAT: return 8;
    case T_CAPABILITIES: return 24;
    case T_CONFIGURE: return 20;
    case T_SAMPLE: return len > 8 ? 9 + 2 * b[8] : 9;
    case T_TARGET: case T_PREDICTION: return len > 4 ? 5 + 2 * b[4] : 5;
    case T_ERROR: return len > 8 ? 9 + b[8] : 9;
    case T_STATS_REQUEST: return 0;
    case T_STATS: return 48;
    case T_SNAPSHOT_REQUEST: return 9;
    case T_SNAPSHOT_DATA: return len > 12 ? 13 + b[12] : 13;
    default: return -1;
  }
}

static void on_frame(uint8_t *p, uint32_t n) {
  if (n < 6 || n > MAX_PAYLOAD) { stats[ST_BAD_LENGTH]++; return; }
  if (crc16(p, n - 2) != rd16(p + n - 2)) { stats[ST_BAD_CRC]++; return; }
  uint8_t type = p[0];
  uint16_t fseq = rd16(p + 2);
  const uint8_t *b = p + 4;
  uint32_t len = n - 6;
  int32_t want = body_length(type, b, len);
  if (want < 0) { stats[ST_UNKNOWN_TYPE]++; return; }
  if ((uint32_t)want != len) { stats[ST_BAD_LENGTH]++; return; }
  if (type != T_HELLO && type != T_CAPABILITIES && (uint16_t)(fseq - rxExpected) >= 32768u) {
    stats[ST_OUT_OF_SEQUENCE]++;
    return;
  }
  rxExpected = (uint16_t)(fseq + 1);
  stats[ST_FRAMES_RX]++;
  switch (type) {
    case T_HELLO: on_hello(b); linkUp = 1; break;
    case T_CONFIGURE: on_configure(fseq, b); break;
    case T_SAMPLE: on_sample(p[1], b); break;
    case T_TARGET: on_target(p[1], b); break;
    case T_STATS_REQUEST: on_stats(); break;
    case T_SNAPSHOT_DATA: on_snapshot_data(fseq, b); break;
    case T_SNAPSHOT_REQUEST: on_snapshot_request(b); break;
    case T_HEARTBEAT: send_heartbeat(); break;
    default: break; /* ACK, NACK, ERROR, PREDICTION, CAPABILITIES, STATS from the host: nothing to do */
  }
}

/* COBS decode in place; returns the decoded length or -1 when a code byte runs past the end. */
static int32_t cobs_decode(uint8_t *buf, uint32_t len) {
  uint32_t r = 0, w = 0;
  while (r < len) {
    uint32_t code = buf[r++];
    if (code == 0 || r + code - 1 > len) return -1;
    for (uint32_t i = 1; i < code; i++) buf[w++] = buf[r++];
    if (code < 0xFF && r < len) buf[w++] = 0;
  }
  return (int32_t)w;
}

void device_init(void) {
  loader.l = &learner;
  loader.arena = arena;
  loader.arenaCapacity = sizeof arena;
  loader.configText = configText;
  loader.configCapacity = sizeof configText;
  ns_snapshot_load_begin(&loader);
}

/* PROTOCOL.md 4.4: after a HELLO, a HEARTBEAT whenever nothing was sent for heartbeatMs (0 = never). */
void device_poll(uint32_t ms) {
  nowMs = ms;
  if (linkUp && heartbeatMs != 0 && (uint32_t)(nowMs - lastTxMs) >= heartbeatMs) send_heartbeat();
}

void device_rx(uint8_t c) {
  if (c != 0) {
    if (rxLen < sizeof rx) rx[rxLen++] = c;
    if (rxLen > MAX_ENCODED) rxOverflow = 1;
    return;
  }
  if (rxOverflow) stats[ST_OVERFLOW]++;
  else if (rxLen > 0) {
    int32_t n = cobs_decode(rx, rxLen);
    if (n < 0) stats[ST_BAD_LENGTH]++;
    else on_frame(rx, (uint32_t)n);
  }
  rxLen = 0;
  rxOverflow = 0;
}
