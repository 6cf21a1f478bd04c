import test from 'ava';
import { ConfigError } from '../../lib/errors.js';
import { applyPuidPgid, type PrivilegeOps } from '../../lib/ops/privileges.js';

function fakeOps(uid: number, gid: number): PrivilegeOps & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    getuid: () => uid,
    getgid: () => gid,
    setgroups: (g) => calls.push(`setgroups ${g.join(',')}`),
    setgid: (id) => calls.push(`setgid ${id}`),
    setuid: (id) => calls.push(`setuid ${id}`),
  };
}

test('as root: groups, then gid, then uid (uid last, or the gid switch would no longer be allowed)', (t) => {
  const ops = fakeOps(0, 0);
  t.regex(applyPuidPgid({ PUID: '1026', PGID: '100' }, ops).note ?? '', /running as uid 1026 \(gid 100\)/);
  t.deepEqual(ops.calls, ['setgroups 100', 'setgid 100', 'setuid 1026']);
});

test('unset: nothing happens; as another user: nothing is switched, a difference is reported', (t) => {
  const root = fakeOps(0, 0);
  t.deepEqual(applyPuidPgid({}, root), {});
  t.deepEqual(root.calls, []);
  const user = fakeOps(1000, 1000);
  t.regex(applyPuidPgid({ PUID: '1026', PGID: '100' }, user).note ?? '', /ignored: hiksync already runs as uid 1000/);
  t.deepEqual(applyPuidPgid({ PUID: '1000', PGID: '1000' }, user), {}, 'the same ids: nothing to say');
  t.deepEqual(user.calls, []);
});

test('bad values, a root id or only one of the two: ConfigError naming the variable', (t) => {
  const ops = fakeOps(0, 0);
  for (const [env, message] of [
    [{ PUID: 'x', PGID: '1' }, /PUID="x" is not valid/],
    [{ PUID: '1', PGID: '-1' }, /PGID="-1" is not valid/],
    [{ PUID: '99999999999', PGID: '1' }, /PUID="99999999999" is not valid/],
    [{ PUID: '0', PGID: '100' }, /PUID=0 would run hiksync as root/],
    [{ PUID: '1026' }, /set both PUID and PGID \(only PUID is set\)/],
  ] as const) {
    t.throws(() => applyPuidPgid(env, ops), { instanceOf: ConfigError, message }, JSON.stringify(env));
  }
  t.deepEqual(ops.calls, [], 'nothing switched on a bad value');
});
