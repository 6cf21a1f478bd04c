/**
 * The options that more than one command takes, one factory each. A command declares exactly the options it uses as
 * class fields (`input = inputOption();`) and maps them to Config keys in its settings(); an option it does not
 * declare is refused by clipanion (a usage error, exit 64). Options of one command only stay in that command.
 *
 * Every setting can also come from its environment variable, for every command (lib/config.ts reads them all).
 * The flag names here are the ones lib/config.ts names in its error messages (test/cli/options.test.ts checks both).
 */
import { Option } from 'clipanion';

export const inputOption = () =>
  Option.String('--input', {
    description: 'Camera share, one folder per camera (INPUT_DIR, default /input)',
  });

export const outputOption = () =>
  Option.String('--output', {
    description: 'Output folder (OUTPUT_DIR, default /output)',
  });

export const cameraTzOption = () =>
  Option.String('--camera-tz', {
    description: "The cameras' IANA time zone (CAMERA_TZ, default: the host's)",
  });

export const cameraTranslationOption = () =>
  Option.String('--camera-translation', {
    description: 'Folder:tag pairs, e.g. Camera-Tuin:garden (CAMERA_TRANSLATION)',
  });

export const containerOption = () =>
  Option.String('--container', {
    description: 'mp4 | mov: mov keeps G.711 audio (CONTAINER, default mp4)',
  });

export const audioOption = () =>
  Option.String('--audio', {
    description:
      'auto | copy | none: auto copies AAC and turns G.711/G.726 into FLAC (lossless) where the container needs it; copy keeps the codec or drops it; none = video only (AUDIO, default auto)',
  });

export const logFormatOption = () =>
  Option.String('--log-format', {
    description: 'pretty | json | auto (LOG_FORMAT, default auto)',
  });

export const logLevelOption = () =>
  Option.String('--log-level', {
    description: 'debug | info | warn | error (LOG_LEVEL, default info)',
  });

export const shardOption = () =>
  Option.String('--shard', {
    description: 'K/N: handle shard K (from 0) of N (SHARD)',
  });

export const lockFileOption = () =>
  Option.String('--lock-file', {
    description: 'Lock path (LOCK_FILE, default <output>/.hiksync/lock)',
  });

export const retentionDaysOption = () =>
  Option.String('--retention-days', {
    description: 'Delete outputs older than this many days, 0 = keep all (RETENTION_DAYS, default 90)',
  });

export const jsonOption = () =>
  Option.Boolean('--json', false, {
    description: 'Print the result as JSON on stdout',
  });
