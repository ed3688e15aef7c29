/**
 * The protobuf size the gateway computes while converting a JSON request (etcd's request limit is
 * checked against it) must be the length of the protobuf a Go client would send for the same
 * request: canonical proto3, where zero values, empty bytes and empty repeated fields take
 * nothing, and a set oneof member or a present sub-message always counts. protobufjs encodes
 * exactly the fields it is given, so messages given only non-zero values (zeros only in oneof
 * members and repeated elements, which are sent anyway) must measure what protobufjs writes.
 */
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { Converter } from '../../src/rpc/gateway/convert';
import { parseJsonBody } from '../../src/rpc/gateway/json';
import { buildSchema, type FieldSchema, type MessageSchema } from '../../src/rpc/gateway/schema';
import { loadPackage, packageOf, SERVICE_NAMES } from '../../src/rpc/proto';

const pkg = loadPackage();
const schema = buildSchema(pkg);
const conv = new Converter(schema);
const size = (type: string, json: string) => conv.fromJson<unknown>(`etcdserverpb.${type}`, parseJsonBody(json)).size;

/** Every request message of every service, with the protobufjs serializer proto-loader uses for it. */
const requests = SERVICE_NAMES.flatMap((service) =>
  Object.values(pkg[`${packageOf(service)}.${service}`] as grpc.ServiceDefinition).map((d) => ({
    type: `${packageOf(service)}.${((d as unknown as protoLoader.MethodDefinition<object, object>).requestType.type as { name: string }).name}`,
    serialize: d.requestSerialize,
  })),
);

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A JSON text and the same message as protobufjs's fromObject takes it (proto names, base64 bytes). */
interface Sample {
  json: string;
  value: unknown;
}

function generator(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const chance = (p: number) => rand() < p;
  const TEXTS = ['a', 'registry/pods/ns/p1', 'é', '中文', '😀 emoji', 'x'.repeat(200)];

  const int64 = (canZero: boolean, unsigned: boolean): bigint => {
    const v = pick(
      unsigned ? [1n, 127n, 128n, 300n, 2n ** 53n + 1n, 2n ** 64n - 1n] : [1n, 127n, 128n, 2n ** 40n, 2n ** 63n - 1n, -1n, -(2n ** 63n)],
    );
    return canZero && chance(0.2) ? 0n : v;
  };

  function scalar(f: FieldSchema, canZero: boolean): Sample {
    if (f.type.kind === 'enum') {
      const en = schema.enums.get(f.type.type)!;
      const names = [...en.byName.entries()].filter(([, n]) => canZero || n !== 0);
      const [name, n] = pick(names.length > 0 ? names : [...en.byName.entries()]);
      return chance(0.5) ? { json: JSON.stringify(name), value: name } : { json: String(n), value: n };
    }
    if (f.type.kind !== 'scalar') throw new Error('not a scalar');
    switch (f.type.scalar) {
      case 'int64':
      case 'uint64': {
        const v = int64(canZero, f.type.scalar === 'uint64');
        return { json: chance(0.5) ? `"${v}"` : `${v}`, value: v.toString() };
      }
      case 'int32':
      case 'uint32': {
        const v = canZero && chance(0.2) ? 0 : pick(f.type.scalar === 'uint32' ? [1, 200, 2 ** 32 - 1] : [1, 200, -5, 2 ** 31 - 1]);
        return { json: String(v), value: v };
      }
      case 'bool': {
        const v = canZero ? chance(0.5) : true;
        return { json: String(v), value: v };
      }
      case 'string': {
        const v = canZero && chance(0.2) ? '' : pick(TEXTS);
        return { json: JSON.stringify(v), value: v };
      }
      case 'bytes': {
        const v = Buffer.from(canZero && chance(0.2) ? '' : pick(TEXTS)).toString('base64');
        return { json: JSON.stringify(v), value: v };
      }
      default: {
        const v = canZero && chance(0.2) ? 0 : 1.25;
        return { json: String(v), value: v };
      }
    }
  }

  function value(f: FieldSchema, depth: number, canZero: boolean): Sample {
    return f.type.kind === 'message' ? message(schema.messages.get(f.type.type)!, depth + 1) : scalar(f, canZero);
  }

  function message(m: MessageSchema, depth: number): Sample {
    const parts: string[] = [];
    const out: Record<string, unknown> = {};
    const oneofs = new Set(m.fields.flatMap((f) => (f.oneof ? [f.oneof] : [])));
    const chosen = new Map([...oneofs].map((o) => [o, chance(0.7) ? pick(m.fields.filter((f) => f.oneof === o)) : undefined]));
    for (const f of m.fields) {
      if (f.oneof ? chosen.get(f.oneof) !== f : !chance(0.6)) continue;
      if (f.type.kind === 'message' && depth >= 3) continue;
      let s: Sample;
      if (f.repeated) {
        const items = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => value(f, depth, true));
        s = { json: `[${items.map((i) => i.json).join(',')}]`, value: items.map((i) => i.value) };
      } else {
        // A oneof member is sent even when zero; any other field is given a non-zero value.
        s = value(f, depth, !!f.oneof);
      }
      parts.push(`${JSON.stringify(chance(0.5) ? f.name : f.jsonName)}:${s.json}`);
      out[f.name] = s.value;
    }
    return { json: `{${parts.join(',')}}`, value: out };
  }

  return message;
}

describe('gateway request size', () => {
  it('is 0 for zero values, empty bytes and empty repeated fields, as proto3 sends nothing for them', () => {
    expect(size('RangeRequest', '{}')).toBe(0);
    expect(size('RangeRequest', '{"key":"","limit":0,"revision":"0","sort_order":"NONE","serializable":false}')).toBe(0);
    expect(size('TxnRequest', '{"compare":[],"success":[],"failure":[]}')).toBe(0);
    expect(size('WatchCreateRequest', '{"filters":[]}')).toBe(0);
  });

  it('counts a set oneof member even when zero, and a present sub-message even when empty', () => {
    // compare: tag, length, { key "a": 3 bytes, version 0: 2 bytes }.
    expect(size('TxnRequest', '{"compare":[{"key":"YQ==","version":0}]}')).toBe(7);
    // success: tag, length, { request_range: tag, length 0 }.
    expect(size('TxnRequest', '{"success":[{"request_range":{}}]}')).toBe(4);
    expect(size('WatchRequest', '{"create_request":{}}')).toBe(2);
  });

  it('packs repeated enums, takes ten bytes for a negative int64, counts UTF-8 bytes of strings', () => {
    // create_request: tag, length, { filters: tag, length 2, 1, 1 }.
    expect(size('WatchRequest', '{"create_request":{"filters":[1,"NODELETE"]}}')).toBe(6);
    expect(size('RangeRequest', '{"revision":-1}')).toBe(11);
    expect(size('AuthUserAddRequest', '{"name":"é"}')).toBe(4);
  });

  it('counts only the last member named of a oneof, and a field given twice once', () => {
    expect(size('RequestOp', '{"request_put":{"key":"YQ=="},"request_range":{}}')).toBe(2);
    expect(size('PutRequest', '{"key":"YQ==","key":"YWJj"}')).toBe(5);
    expect(size('PutRequest', '{"prev_kv":true,"prevKv":true}')).toBe(2);
  });

  it('equals the length protobufjs encodes, for many generated messages of every request type', () => {
    const rand = random(20261201);
    const message = generator(rand);
    let checked = 0;
    for (const { type, serialize } of requests) {
      const m = schema.messages.get(type)!;
      for (let i = 0; i < 40; i++) {
        const sample = message(m, 0);
        const expected = serialize(sample.value).length;
        const got = conv.fromJson<unknown>(type, parseJsonBody(sample.json)).size;
        if (got !== expected) expect({ type, json: sample.json, got }).toEqual({ type, json: sample.json, got: expected });
        checked++;
      }
    }
    expect(checked).toBe(requests.length * 40);
    expect(requests.length).toBeGreaterThan(30);
  });
});
