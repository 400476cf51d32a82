/*
 * The device side of the bridge protocol (firmware-bridge/PROTOCOL.md, version 1) for an on-device learner.
 * Portable: bytes come in through device_rx() and go out through platform_putc() (platform.h).
 * How the host drives it (the on-device learning profile, see README.md):
 *   HELLO -> CAPABILITIES; SNAPSHOT_DATA chunks (the runtime's snapshot of the initial learner) -> ACK each;
 *   CONFIGURE (learner 1..4, sizes equal to the snapshot's, fracs 12) -> ACK; then per step SAMPLE(seq, x) and,
 *   with the TARGETS flag, TARGET(seq, target) -> PREDICTION(seq, y); STATS_REQUEST -> STATS;
 *   SNAPSHOT_REQUEST -> SNAPSHOT_DATA chunks of the device's learner (bit-comparable with the runtime's).
 */
#ifndef NS_DEVICE_H
#define NS_DEVICE_H
#include <stdint.h>

void device_init(void);
/* Feeds one received byte; may send frames (through platform_putc) before returning. */
void device_rx(uint8_t c);
/* Call often with platform_millis(): sends a HEARTBEAT when the device has sent nothing for heartbeatMs. */
void device_poll(uint32_t nowMs);

#endif
