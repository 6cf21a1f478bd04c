import test from 'ava';
import * as fs from 'node:fs/promises';
import { archive, runCommand as run } from './harness.js';

test.serial('health: exit 0/1 only, reason printed', async (t) => {
  const a = await archive(t);
  const noPass = await run(['health', ...a.healthFlags]);
  t.is(noPass.code, 1);
  t.regex(noPass.stdout, /^unhealthy: no pass has completed yet/);
  await fs.rm(a.input, { recursive: true });
  const missing = await run(['health', ...a.healthFlags, '--json']);
  t.is(missing.code, 1);
  t.like(JSON.parse(missing.stdout), { healthy: false });
  const bad = await run(['health', ...a.healthFlags, '--shard', 'lots']);
  t.is(bad.code, 1, 'a config error is still 1 for HEALTHCHECK');
  t.regex(bad.stdout, /--shard "lots" is not valid/);
});
