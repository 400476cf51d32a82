/**
 * `neurostream/bridge`: the framed serial protocol (PROTOCOL.md: COBS + CRC-16 frames), the streaming framer,
 * the transports (serialport, local socket, in-memory mock), the host session that survives unplugs, and the
 * Firmata source for stock boards (johnny-five is passed in by the caller, not a dependency).
 */
export * from './protocol.ts';
export * from './framer.ts';
export type { Transport, TransportHandlers } from './transport.ts';
export { SerialTransport, type SerialTransportOptions } from './transports/serial.ts';
export { SocketTransport, SocketListenerTransport, isSocketPath, type SocketTransportOptions } from './transports/socket.ts';
export { MockTransport, createMockPair, type MockTransportOptions, type MockPair } from './transports/mock.ts';
export * from './session.ts';
export { LearningLoop, type LearningLoopOptions, type Yardstick, type DivergenceGuard, type LiveDivergence, type LoopScores } from './learning-loop.ts';
export * from './johnny-five.ts';
