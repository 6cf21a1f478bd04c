import test from 'ava';
import { readFileSync } from 'node:fs';
import { BitReader, unescapeRbsp } from '../../lib/media/nal.js';
import { splitNalUnits } from '../../tools/synthetic/es-reader.js';
import { parseH264Sps, parseH265Sps, ParameterSetError } from '../../lib/media/sps.js';
import { ffprobe } from '../helpers/media-tools.js';
import { makeAnnexB, tempDir } from './test-streams.js';

const tmp = tempDir();
test.after.always(() => tmp.cleanup());

test('unescapeRbsp removes emulation prevention bytes only', (t) => {
  t.deepEqual([...unescapeRbsp(new Uint8Array([0x67, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3]))], [0x67, 0, 0, 1, 0, 0, 0, 0]);
  const plain = new Uint8Array([1, 2, 0, 0, 1]);
  t.is(unescapeRbsp(plain), plain);
});

test('BitReader reads Exp-Golomb codes', (t) => {
  // 1 | 010 | 011 | 00100 | 00101 -> ue 0,1,2,3 and se(4) = +2... 00101 is codeNum 4 -> se -2
  const r = new BitReader(new Uint8Array([0b10100110, 0b01000010, 0b10000000]));
  t.deepEqual([r.ue(), r.ue(), r.ue(), r.ue(), r.se()], [0, 1, 2, 3, -2]);
  t.throws(() => new BitReader(new Uint8Array([0, 0, 0, 0, 0])).ue());
});

const cases = [
  { codec: 'h264' as const, size: '160x120' },
  { codec: 'h264' as const, size: '176x100' }, // cropped: 100 is not a multiple of 16
  { codec: 'h265' as const, size: '160x120' },
  { codec: 'h265' as const, size: '200x100' }, // conformance window
];

for (const c of cases) {
  test(`${c.codec} ${c.size}: SPS parse matches ffprobe`, async (t) => {
    const file = await makeAnnexB(tmp.dir, c.codec, { size: c.size, frames: 2 });
    const [probe] = (await ffprobe('-f', c.codec === 'h264' ? 'h264' : 'hevc', '-show_streams', file)).streams;
    const { width, height, level, profile } = probe ?? {};
    if (width === undefined || height === undefined || level === undefined) {
      return t.fail(`ffprobe printed no width, height or level: ${JSON.stringify(probe)}`);
    }
    const bytes = readFileSync(file);
    const nals = splitNalUnits(bytes);
    if (c.codec === 'h264') {
      const sps = parseH264Sps(nals.find((n) => (n[0]! & 0x1f) === 7)!);
      t.is(sps.width, width);
      t.is(sps.height, height);
      t.is(sps.profileIdc, ({ Main: 77, High: 100 } as Record<string, number>)[profile ?? ''] ?? -1);
      t.is(sps.levelIdc, level);
      t.regex(sps.codecString, /^avc1\.[0-9A-F]{6}$/);
      t.is(sps.codecString.slice(5, 7), sps.profileIdc.toString(16).toUpperCase().padStart(2, '0'));
      t.is(sps.codecString.slice(9), sps.levelIdc.toString(16).toUpperCase().padStart(2, '0'));
    } else {
      const sps = parseH265Sps(nals.find((n) => ((n[0]! >> 1) & 0x3f) === 33)!);
      t.is(sps.width, width);
      t.is(sps.height, height);
      t.is(sps.profileIdc, 1); // Main
      t.is(profile, 'Main');
      t.is(sps.levelIdc, level);
      // Main profile (compat flags 1 and 2 -> 6), main tier, then the non-zero constraint bytes (x265: 0x90).
      t.is(sps.codecString, `hvc1.1.6.L${level}.90`);
    }
  });
}

test('a truncated SPS is a ParameterSetError, not a crash', (t) => {
  t.throws(() => parseH264Sps(new Uint8Array([0x67, 0x4d, 0x40, 0x0c])), { name: 'ParameterSetError' });
  t.throws(() => parseH265Sps(new Uint8Array([0x42, 0x01, 0x01, 0x01, 0x60, 0x00])), { name: 'ParameterSetError' });
});

test('a bit depth the syntax does not allow is a ParameterSetError (it was written masked into avcC/hvcC)', (t) => {
  // H.264 High profile, 160x128, bit_depth_luma_minus8 = 100 (7.4.2.1.1: 0..6).
  const h264 = Buffer.from('6764001ea032ce828460', 'hex');
  t.throws(() => parseH264Sps(h264), { instanceOf: ParameterSetError, message: /bit depth/ });
  // H.265 Main, 160x120, bit_depth_luma_minus8 = 9 (7.4.3.2.1: 0..8).
  const h265 = Buffer.from('42010101600000009000000000003ca01420790ac0', 'hex');
  t.throws(() => parseH265Sps(h265), { instanceOf: ParameterSetError, message: /bit depth/ });
});
