// A port that answers with something other than bridge frames: the session says what the bytes look like and stops
// retrying after a few rounds, instead of "no answer to HELLO" for ever while bytes keep arriving.
import test from 'ava';
import { Session } from '../firmware-bridge/session.ts';
import { LineSniffer } from '../firmware-bridge/sniff.ts';
import { createMockPair } from '../firmware-bridge/transports/mock.ts';

/** A session whose peer sends `bytes` every 5 ms; resolves with start()'s error and the events. */
async function against(bytes: Uint8Array): Promise<{ error: Error; events: string[] }> {
  const pair = createMockPair({ record: false });
  const events: string[] = [];
  const session = new Session({
    transport: pair.host,
    learner: null,
    config: { inputs: 1, outputs: 1, rateHz: 100 },
    helloTimeoutMs: 30,
    helloRetries: 2,
    backoffInitialMs: 5,
    onEvent: (e) => events.push(`${e.type}: ${e.message}`),
  });
  const timer = setInterval(() => {
    if (pair.host.isOpen) pair.host.emit(bytes);
  }, 5);
  try {
    const error = await session.start().then(
      () => new Error('the handshake completed'),
      (e: Error) => e,
    );
    return { error, events };
  } finally {
    clearInterval(timer);
    await session.stop();
  }
}

test('a sketch printing readings is recognised as text, quoted, and the session gives up after 3 rounds', async (t) => {
  const { error, events } = await against(new TextEncoder().encode('temp=23.1 hum=41\r\n'));
  t.regex(error.message, /^no answer to HELLO after 2 tries; \d+ bytes arrived that are text, not bridge frames: "temp=23\.1 hum=41" \(a sketch printing readings\?\).*gave up after 3 attempts$/);
  t.is(events.filter((e) => e.startsWith('disconnected')).length, 2, events.join('\n'));
});

test('Firmata answering is recognised as Firmata', async (t) => {
  const { error } = await against(Uint8Array.from([0xf9, 2, 5, 0xe0, 0x10, 0x03]));
  t.regex(error.message, /bytes arrived that are Firmata, not bridge frames: the board runs StandardFirmata/);
});

test('noise (a bridge device at the wrong baud rate) is described as binary with its first bytes and the likely cause', async (t) => {
  const { error } = await against(Uint8Array.from([0x3f, 0xa0, 0xfe, 0x81, 0x00, 0xc3, 0x9e]));
  t.regex(error.message, /that are not bridge frames \(binary, \d+ frame delimiters; first bytes 3f a0 fe 81 00 c3 9e.*\): the wrong baud rate\?/);
});

test('LineSniffer: nothing arrived is no diagnosis (a booting board is retried), and reset forgets', (t) => {
  const s = new LineSniffer();
  t.is(s.describe(), null);
  s.push(new TextEncoder().encode('hello\n'));
  t.regex(s.describe()!, /text.*"hello"/);
  s.reset();
  t.is(s.describe(), null);
});
