/*
 * Snapshots in the runtime's format (runtime/snapshot.ts: version 1, 2 for a learner with direct, 3 with the normalised readout,
 * 4 for a 'step' learner without gradient accumulators), streamed: the loader takes chunks in order
 * and writes the arena in place; the writer produces any byte on demand, so neither needs a snapshot-sized buffer.
 *   0 "NSNP" | 4 u16 version (1; 2 with direct; 3 normalised; 4 no accumulators) | 6 u16 flags 0 | 8 u32 config length C | 12 u32 arena length A | 16 config JSON |
 *   zero padding to a multiple of 8 | arena (little-endian typed arrays; float64 buffers as float64) | u32 CRC-32
 * The int64_t buffers of the C arena (accumulators, RTRL partial sums, step counter) are float64 in the runtime's
 * arena; every value is an exact integer below 2^53, so the conversions both ways are exact.
 * Assumes a little-endian target (Cortex-M, x86, most ARM hosts), as the runtime does.
 */
#include <string.h>
#include "ns.h"

uint32_t ns_crc32_update(uint32_t crc, const uint8_t *bytes, size_t n) {
  uint32_t c = ~crc;
  for (size_t i = 0; i < n; i++) {
    c ^= bytes[i];
    for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

void ns_arena_from_runtime(ns_learner *l) {
  for (int b = 0; b < NB_COUNT; b++) {
    if (ns_buf_type(b) != NT_F64) continue;
    uint8_t *p = l->arena + l->p.offset[b];
    for (uint32_t i = 0; i < l->p.length[b]; i++) {
      double d;
      memcpy(&d, p + 8u * i, 8);
      int64_t v = (int64_t)d;
      memcpy(p + 8u * i, &v, 8);
    }
  }
}

uint8_t ns_arena_runtime_byte(const ns_learner *l, uint32_t i) {
  for (int b = NB_COUNT - 1; b >= 0; b--) {
    uint32_t off = l->p.offset[b];
    if (i < off) continue;
    if (ns_buf_type(b) != NT_F64 || i >= off + 8u * l->p.length[b]) break;
    int64_t v;
    uint8_t bytes[8];
    memcpy(&v, l->arena + off + ((i - off) & ~7u), 8);
    double d = (double)v;
    memcpy(bytes, &d, 8);
    return bytes[(i - off) & 7u];
  }
  return l->arena[i];
}

static uint32_t rd32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

void ns_snapshot_load_begin(ns_snapshot_loader *s) {
  s->received = 0;
  s->total = 0;
  s->crc = 0;
  s->configLength = 0;
}

static int load_fail(ns_snapshot_loader *s, char *err, size_t n, const char *msg) {
  ns_snapshot_load_begin(s);
  size_t k = 0;
  if (err && n) {
    for (; msg[k] && k + 1 < n; k++) err[k] = msg[k];
    err[k] = 0;
  }
  return -1;
}

int ns_snapshot_load_chunk(ns_snapshot_loader *s, uint32_t offset, const uint8_t *bytes, uint32_t n, char *err,
                           size_t errLen) {
  if (offset != s->received) {
    if (offset == 0) ns_snapshot_load_begin(s);
    else return load_fail(s, err, errLen, "snapshot chunks must arrive in order from offset 0");
  }
  for (uint32_t k = 0; k < n; k++) {
    uint32_t i = s->received;
    uint8_t c = bytes[k];
    if (s->total && i >= s->total) return load_fail(s, err, errLen, "snapshot longer than its header says");
    if (i < 16) {
      s->header[i] = c;
      if (i == 15) {
        if (memcmp(s->header, "NSNP", 4) != 0) return load_fail(s, err, errLen, "not a neurostream snapshot (magic)");
        s->version = s->header[4] | s->header[5] << 8;
        if (s->version < 1 || s->version > 4) return load_fail(s, err, errLen, "snapshot version is not 1, 2, 3 or 4");
        s->configLength = rd32(s->header + 8);
        s->arenaLength = rd32(s->header + 12);
        if (s->configLength >= s->configCapacity) return load_fail(s, err, errLen, "snapshot config too long for this device");
        if (s->arenaLength > s->arenaCapacity) return load_fail(s, err, errLen, "snapshot arena larger than this device's arena (NS_ARENA_BYTES)");
        s->arenaAt = (16u + s->configLength + 7u) / 8u * 8u;
        s->total = s->arenaAt + s->arenaLength + 4u;
      }
    } else if (i < 16 + s->configLength) s->configText[i - 16] = (char)c;
    else if (i < s->arenaAt) { /* padding */ }
    else if (i < s->arenaAt + s->arenaLength) s->arena[i - s->arenaAt] = c;
    else s->crcBytes[i - s->arenaAt - s->arenaLength] = c;
    if (!s->total || i < s->total - 4) s->crc = ns_crc32_update(s->crc, &c, 1);
    s->received++;
  }
  if (!s->total || s->received < s->total) return 0;
  if (rd32(s->crcBytes) != s->crc) return load_fail(s, err, errLen, "snapshot checksum mismatch");
  s->configText[s->configLength] = 0;
  ns_config cfg;
  ns_plan p;
  if (ns_parse_config(s->configText, s->configLength, &cfg, err, errLen) || ns_make_plan(&cfg, &p, err, errLen)) {
    ns_snapshot_load_begin(s);
    return -1;
  }
  if ((uint32_t)(!cfg.accumulate ? 4 : cfg.normalized ? 3 : cfg.direct ? 2 : 1) != s->version)
    return load_fail(s, err, errLen, "snapshot version and config disagree (4: no gradient accumulators; else 3: normalised readout; else 2: direct; else 1)");
  if (p.totalBytes != s->arenaLength) return load_fail(s, err, errLen, "snapshot arena size differs from its config's plan");
  ns_bind(s->l, &p, s->arena);
  ns_arena_from_runtime(s->l);
  return 1;
}

uint32_t ns_snapshot_length(const ns_learner *l, uint32_t cfgLen) {
  return (16u + cfgLen + 7u) / 8u * 8u + l->p.totalBytes + 4u;
}

static uint8_t body_byte(const ns_learner *l, const char *cfg, uint32_t cfgLen, uint32_t i) {
  const uint32_t arenaAt = (16u + cfgLen + 7u) / 8u * 8u;
  if (i < 16) {
    static const uint8_t magic[8] = { 'N', 'S', 'N', 'P', 1, 0, 0, 0 };
    if (i == 4) return !l->p.cfg.accumulate ? 4 : l->p.cfg.normalized ? 3 : l->p.cfg.direct ? 2 : 1; /* runtime/snapshot.ts snapshotVersionOf */
    if (i < 8) return magic[i];
    uint32_t v = i < 12 ? cfgLen : l->p.totalBytes;
    return (uint8_t)(v >> (8 * (i & 3)));
  }
  if (i < 16 + cfgLen) return (uint8_t)cfg[i - 16];
  if (i < arenaAt) return 0;
  return ns_arena_runtime_byte(l, i - arenaAt);
}

uint32_t ns_snapshot_crc(const ns_learner *l, const char *cfg, uint32_t cfgLen) {
  uint32_t n = ns_snapshot_length(l, cfgLen) - 4u, crc = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t c = body_byte(l, cfg, cfgLen, i);
    crc = ns_crc32_update(crc, &c, 1);
  }
  return crc;
}

uint8_t ns_snapshot_byte(const ns_learner *l, const char *cfg, uint32_t cfgLen, uint32_t crc, uint32_t i) {
  uint32_t n = ns_snapshot_length(l, cfgLen) - 4u;
  if (i >= n) return (uint8_t)(crc >> (8 * (i - n)));
  return body_byte(l, cfg, cfgLen, i);
}
