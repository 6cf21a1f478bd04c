/**
 * Fuzzing the G.722.1 decoder: any bytes, cut into any payloads, at any frame size. It throws nothing and gives out
 * exactly 320 samples per whole frame of input, whatever the bits say (a damaged frame is concealed, never skipped).
 */
import test from 'ava';
import fc from 'fast-check';
import { G7221Decoder } from '../../../lib/media/audio/g7221-decoder.js';
import { fuzzParams, randomBytes, withDeadline } from '../../helpers/fuzz.js';

test('any bytes in any payloads: no throw, 320 samples per whole frame', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(40, 60, 80, 20, 120),
      fc.array(randomBytes(300), { maxLength: 20 }),
      withDeadline((frameBytes: number, payloads: Buffer[]) => {
        const d = new G7221Decoder(frameBytes);
        let samples = 0;
        for (const p of payloads) samples += d.decode(p).length;
        samples += d.flush().length;
        const bytes = payloads.reduce((n, p) => n + p.length, 0);
        return samples === Math.floor(bytes / frameBytes) * 320 && d.stats.frames === Math.floor(bytes / frameBytes);
      }),
    ),
    fuzzParams(0.5),
  );
  t.pass();
});
