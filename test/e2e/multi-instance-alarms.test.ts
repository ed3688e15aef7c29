/** Alarms are one list per database: raised on one instance, every instance refuses writes and reports it; disarmed on another, all clear. */
import * as grpc from '@grpc/grpc-js';
import { expect, test } from 'vitest';
import { b } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { waitFor } from '../helpers/ports';
import { forEachSharedBackend } from './multi-harness';

forEachSharedBackend('alarms across instances', 2, (cl) => {
  test('NOSPACE raised on one instance caps the other; disarm on the other clears both', async () => {
    const [a, c] = cl.clients;
    const member = cl.identity.member_id;
    await a.maintenance.Alarm({ action: 'ACTIVATE', memberID: member, alarm: 'NOSPACE' });
    await waitFor(async () => ((await c.maintenance.Alarm({ action: 'GET' })).alarms as unknown[]).length === 1, 10_000, 'alarm on B');
    await expectGrpcError(
      c.kv.Put({ key: b(cl.prefix('k')), value: b('v') }),
      grpc.status.RESOURCE_EXHAUSTED,
      'etcdserver: mvcc: database space exceeded',
    );
    expect((await c.maintenance.Status({})).errors).toEqual([`memberID:${member} alarm:NOSPACE `]);
    await c.maintenance.Alarm({ action: 'DEACTIVATE', memberID: member, alarm: 'NOSPACE' });
    await waitFor(async () => ((await a.maintenance.Alarm({ action: 'GET' })).alarms as unknown[]).length === 0, 10_000, 'alarm gone on A');
    await a.kv.Put({ key: b(cl.prefix('k')), value: b('v') });
  });
});
