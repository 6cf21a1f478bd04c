import test from 'ava';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { parseShard, shardOf, shardSuffix } from '../../lib/ops/shard.js';

test('shardOf is stable (pinned values: sha1, first 4 bytes big-endian, mod N)', (t) => {
  // Computed outside node: printf NAME | sha1sum -> first 8 hex digits mod N. A change here would move every
  // camera to another shard (and away from its manifest's lock).
  // Camera-Tuin b7a9a06a, Camera-Oprit 42b5a46a, voordeur 3a0719f2
  t.deepEqual(
    ['Camera-Tuin', 'Camera-Oprit', 'voordeur'].map((n) => shardOf(n, 7)),
    [0, 0, 1],
  );
  t.deepEqual(
    ['Camera-Tuin', 'Camera-Oprit', 'voordeur'].map((n) => shardOf(n, 3)),
    [0, 1, 2],
  );
  t.is(shardOf('Camera-Tuin', 1), 0);
});

test('the shard is sha1(name) as a big-endian u32 mod N for any name: it depends on the name alone, so adding a camera never moves another', (t) => {
  // Reference: the documented formula written independently (hex digits, not a Buffer read).
  const reference = (name: string, n: number) =>
    n === 1 ? 0 : parseInt(createHash('sha1').update(name, 'utf8').digest('hex').slice(0, 8), 16) % n;
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
      fc.integer({ min: 1, max: 1000 }),
      (name, n) => {
        const s = shardOf(name, n);
        return s === reference(name, n) && s >= 0 && s < n;
      },
    ),
  );
  t.pass();
});

test('cameras spread over the shards', (t) => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 300; i++) counts[shardOf(`Camera-${i}`, 3)]!++;
  for (const c of counts) t.true(c > 60, `uneven: ${counts.join('/')}`);
});

test('parseShard', (t) => {
  t.deepEqual(parseShard('0/3'), { index: 0, count: 3 });
  t.deepEqual(parseShard(' 2 / 3 '), { index: 2, count: 3 });
  t.true('error' in parseShard('3/3'));
  t.true('error' in parseShard('1'));
  t.true('error' in parseShard('-1/3'));
  t.true('error' in parseShard('0/0'));
  t.true('error' in parseShard('0/1001'));
  t.is(shardSuffix({ index: 0, count: 1 }), '');
  t.is(shardSuffix({ index: 1, count: 3 }), '-shard-1-of-3');
  t.throws(() => shardOf('x', 0), { instanceOf: RangeError });
});
