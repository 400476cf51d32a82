/**
 * What the bytes from a port look like when they are not bridge frames: text (a sketch printing readings), Firmata
 * (StandardFirmata answering), or neither (most often the wrong baud rate, which turns every byte into noise). The
 * session feeds it what arrives before a handshake completes and asks it why nothing answered HELLO.
 * push() allocates nothing; describe() builds one message.
 */
export class LineSniffer {
  bytes = 0;
  printable = 0;
  zeros = 0;
  firmata = 0;
  private readonly head = new Uint8Array(48);
  private headLen = 0;
  private prev = -1;

  reset(): void {
    this.bytes = 0;
    this.printable = 0;
    this.zeros = 0;
    this.firmata = 0;
    this.headLen = 0;
    this.prev = -1;
  }

  /** Takes chunk[0, length). */
  push(chunk: Uint8Array, length = chunk.length): void {
    for (let i = 0; i < length; i++) {
      const b = chunk[i];
      this.bytes++;
      if (this.headLen < this.head.length) this.head[this.headLen++] = b;
      if ((b >= 0x20 && b < 0x7f) || b === 9 || b === 10 || b === 13) this.printable++;
      if (b === 0) this.zeros++;
      // Firmata: REPORT_VERSION (0xF9 major minor), or a sysex REPORT_FIRMWARE (0xF0 0x79)
      if ((this.prev === 0xf9 && b < 0x80) || (this.prev === 0xf0 && b === 0x79)) this.firmata++;
      this.prev = b;
    }
  }

  /** Why these bytes are not the bridge protocol, in words, or null when nothing arrived. */
  describe(): string | null {
    if (this.bytes === 0) return null;
    const n = this.bytes;
    if (this.firmata > 0) {
      return `${n} bytes arrived that are Firmata, not bridge frames: the board runs StandardFirmata (read it with \`neurostream run --firmata\`, or flash the bridge firmware)`;
    }
    if (this.printable >= 0.9 * n) {
      let text = '';
      for (let i = 0; i < this.headLen; i++) {
        const b = this.head[i];
        if (b === 10 || b === 13) {
          if (text.length > 0) break;
          continue;
        }
        text += String.fromCharCode(b);
      }
      return `${n} bytes arrived that are text, not bridge frames: ${JSON.stringify(text)} (a sketch printing readings?); flash the bridge firmware or check the port`;
    }
    const hex = Array.from(this.head.subarray(0, Math.min(this.headLen, 12)), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return (
      `${n} bytes arrived that are not bridge frames (binary, ${this.zeros} frame delimiters; first bytes ${hex}): ` +
      'the wrong baud rate? (the bridge firmware uses 115200) or another protocol'
    );
  }
}
