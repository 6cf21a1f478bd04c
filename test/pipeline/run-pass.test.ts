import test from 'ava';
import { ConfigError } from '../../lib/errors.js';
import { checkTagsDistinct } from '../../lib/pipeline/run-pass.js';

test("a tag that is another camera folder's name, or two folders with one tag, is refused: files would mix", (t) => {
  const folders = ['CamA', 'CamB', 'CamC'];
  t.notThrows(() => checkTagsDistinct(folders, new Map([['CamA', 'garden']])));
  t.notThrows(
    () =>
      checkTagsDistinct(
        folders,
        new Map([
          ['CamA', 'CamB'],
          ['CamB', 'driveway'],
        ]),
      ),
    'a swap is fine',
  );
  t.throws(() => checkTagsDistinct(folders, new Map([['CamA', 'CamB']])), {
    instanceOf: ConfigError,
    message: /"CamA" and "CamB" the same output folder "CamB"/,
  });
  t.throws(
    () =>
      checkTagsDistinct(
        folders,
        new Map([
          ['CamA', 'x'],
          ['CamC', 'x'],
        ]),
      ),
    {
      instanceOf: ConfigError,
      message: /"CamA" and "CamC" the same output folder "x"/,
    },
  );
});
