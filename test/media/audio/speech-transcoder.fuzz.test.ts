/**
 * Fuzzing the speech transcoder: the audio of a damaged recording is any bytes, cut into any PES payloads, with or
 * without timestamps (wrapping ones too). Whatever they are, it throws nothing, every FLAC frame it emits is a whole
 * 1024-sample block but the last, the durations add up to exactly the samples the bytes decode to, and each packet's
 * PTS, when it has one, is the PTS of its first sample as the source timed it (modulo 2^33).
 */
import test from 'ava';
import fc from 'fast-check';
import { G726Decoder } from '../../../lib/media/audio/g726.js';
import { speechDecoder, SpeechTranscoder, type TranscodedPacket } from '../../../lib/media/audio/speech-transcoder.js';
import { fuzzParams, randomBytes, withDeadline } from '../../helpers/fuzz.js';

const PTS_WRAP = 2 ** 33;

const pes = fc.record({
  bytes: randomBytes(700),
  pts: fc.option(fc.integer({ min: 0, max: PTS_WRAP - 1 }), { nil: undefined }),
});

for (const codec of ['alaw', 'ulaw', 'g726'] as const) {
  test(`${codec}: any PES payloads -> FLAC frames of whole blocks covering every decoded sample`, (t) => {
    fc.assert(
      fc.property(
        fc.array(pes, { maxLength: 40 }),
        withDeadline((packets: Array<{ bytes: Buffer; pts: number | undefined }>) => {
          const out: TranscodedPacket[] = [];
          const tc = new SpeechTranscoder(speechDecoder(codec, codec === 'g726' ? { g726Bits: 2 } : {}), codec, (p) =>
            out.push(p),
          );
          for (const p of packets) tc.push(p.bytes, p.pts);
          tc.flush();
          const bytes = packets.reduce((n, p) => n + p.bytes.length, 0);
          const samples =
            codec === 'g726' ? packets.reduce((n, p) => n + new G726Decoder(2).samplesIn(p.bytes.length), 0) : bytes;
          const covered = out.reduce((n, p) => n + p.durationTicks / 11.25, 0);
          const whole = out.slice(0, -1).every((p) => p.durationTicks === 1024 * 11.25);
          if (!whole || !out.every((p) => p.data.length > 0)) return false;
          if (covered !== samples) return false;
          // The first packet starts at sample 0: its PTS is the first PES's when that one had a PTS.
          const first = packets.find((p) => p.bytes.length > 0);
          if (out.length > 0 && first?.pts !== undefined && packets[0] === first && out[0]!.pts !== first.pts)
            return false;
          return out.every((p) => p.pts === undefined || (Number.isInteger(p.pts) && p.pts >= 0 && p.pts < PTS_WRAP));
        }),
      ),
      fuzzParams(0.25),
    );
    t.pass();
  });
}
