/**
 * A framed message reaches grpc-js's framing step with its 5-byte gRPC prefix already in front of
 * it and is sent as it is; any other message is framed by a copy, as grpc-js itself frames it.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { framedMessage, sendFramedMessages, withPrefix } from '../../src/rpc/framed-message';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const internals = require('@grpc/grpc-js/build/src/server-interceptors') as {
  BaseServerInterceptingCall: { prototype: { serializeMessage(this: unknown, value: unknown): Buffer } };
};

const prefixOf = (b: Buffer) => [b[0], b.readUInt32BE(1)];

describe('framed messages', () => {
  it('carry their prefix in front of them; other messages are copied behind one', () => {
    const m = framedMessage(70_000);
    m.fill(3);
    const whole = withPrefix(m);
    expect(whole.buffer).toBe(m.buffer);
    expect(whole.byteOffset + 5).toBe(m.byteOffset);
    expect(prefixOf(whole)).toEqual([0, 70_000]);
    expect(whole.subarray(5).equals(m)).toBe(true);

    const plain = Buffer.from('plain message');
    const copied = withPrefix(plain);
    expect(prefixOf(copied)).toEqual([0, plain.length]);
    expect(copied.subarray(5).equals(plain)).toBe(true);
    plain.fill(0);
    expect(copied.toString('latin1', 5)).toBe('plain message');
    expect(prefixOf(withPrefix(framedMessage(0)))).toEqual([0, 0]);
  });

  it("take grpc-js's framing step, which then sends a framed message without a copy", () => {
    sendFramedMessages(pino({ level: 'silent' }));
    const serializeMessage = internals.BaseServerInterceptingCall.prototype.serializeMessage;
    const m = framedMessage(4);
    m.write('abcd');
    const call = (msg: Buffer) => ({ handler: { serialize: () => msg } });
    const sent = serializeMessage.call(call(m), {});
    expect(sent.buffer).toBe(m.buffer);
    expect(sent.toString('latin1', 5)).toBe('abcd');
    const other = serializeMessage.call(call(Buffer.from('xyz')), {});
    expect(prefixOf(other)).toEqual([0, 3]);
    expect(other.toString('latin1', 5)).toBe('xyz');
  });
});
