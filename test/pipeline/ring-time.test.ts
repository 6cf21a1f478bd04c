import test from 'ava';
import type { Recording } from '../../lib/hikvision/types.js';
import { secondsPerHivFile } from '../../lib/pipeline/ring-time.js';

const T0 = 1_714_550_400;
function rec(
  fileNo: number,
  start: number,
  end: number,
  kind: Recording['kind'] = 'video',
  datadir = 'datadir0',
): Recording {
  return {
    id: `${datadir}-${fileNo}-${start}`,
    camera: 'c',
    datadir,
    kind,
    fileNo,
    slot: 0,
    source: '/x',
    indexPath: '/i',
    slotsPerFile: 256,
    start: { sec: start, usec: 0 },
    end: { sec: end, usec: 0 },
    startOffset: 0,
    endOffset: 4096,
  };
}

test('the time to fill one hiv file: listed video span / hiv files in use', (t) => {
  // 4 files over 8 hours: the ring reuses its oldest file about every 2 hours.
  const recs = [
    rec(0, T0, T0 + 60),
    rec(1, T0 + 7200, T0 + 7300),
    rec(2, T0 + 14_400, T0 + 14_500),
    rec(3, T0 + 28_000, T0 + 28_800),
  ];
  t.is(secondsPerHivFile(recs, T0 + 30_000), 7200);
  t.is(secondsPerHivFile(recs, T0 + 14_400), 3600, 'a future end (clock ahead) is capped at now');
});

test('pictures, a single hiv file or no span say nothing', (t) => {
  t.is(secondsPerHivFile([rec(0, T0, T0 + 60), rec(0, T0 + 100, T0 + 200)], T0 + 1000), undefined);
  t.is(secondsPerHivFile([rec(0, T0, T0, 'picture'), rec(1, T0 + 50, T0 + 50, 'picture')], T0 + 1000), undefined);
  t.is(secondsPerHivFile([], T0), undefined);
  t.is(
    secondsPerHivFile(
      [rec(0, T0, T0 + 10, 'video', 'datadir0'), rec(0, T0 + 20, T0 + 30, 'video', 'datadir1')],
      T0 + 100,
    ),
    15,
    'the same file number in two datadirs is two files',
  );
});
