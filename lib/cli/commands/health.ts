/**
 * `hiksync health`: exit 0 when this shard's service is healthy, 1 when not, with the reason on stdout. Docker's
 * HEALTHCHECK understands 0 and 1 only, so every failure (a bad setting included) is 1 here.
 */
import { Command } from 'clipanion';
import type { RawSettings } from '../../config.js';
import { checkHealth } from '../../ops/health.js';
import { describeError } from '../../errors.js';
import { BaseCommand } from '../base.js';
import { inputOption, jsonOption, lockFileOption, outputOption, shardOption } from '../options.js';

export class HealthCommand extends BaseCommand {
  static override paths = [['health']];
  static override usage = Command.Usage({
    description: 'Check that the service is working (for Docker HEALTHCHECK and Kubernetes probes)',
    details: `
      Healthy (exit 0) while a pass runs, keeps its lock fresh and finishes files, or when the last completed pass
      ended within twice the interval (CRON_INTERVAL) plus 5 minutes. Unhealthy (exit 1) when passes stop completing,
      when a running pass has finished nothing for max(3 x CRON_INTERVAL, 30 min) (a hung share), or when the input
      folder is missing, empty, unreadable or does not answer within 5 seconds (an unmounted or hung share).
      Reads the status file of this shard in <output>/.hiksync.
    `,
    examples: [
      ['Check the service in a container', '$0 health'],
      ['Machine-readable', '$0 health --json'],
    ],
  });

  input = inputOption();
  output = outputOption();
  shard = shardOption();
  lockFile = lockFileOption();
  json = jsonOption();

  protected override settings(): RawSettings {
    return { inputDir: this.input, outputDir: this.output, shard: this.shard, lockFile: this.lockFile };
  }

  async execute(): Promise<number> {
    // After a time-out the hung fs call keeps the process alive: main.ts ends it shortly after (exitWhenDone).
    let healthy = false;
    let reason: string;
    try {
      const result = await checkHealth(this.config(), Date.now());
      healthy = result.healthy;
      reason = result.reason;
    } catch (err) {
      reason = describeError(err).replace(/^hiksync: /, '');
    }
    const code = healthy ? 0 : 1;
    if (this.json) this.context.stdout.write(JSON.stringify({ healthy, reason }) + '\n');
    else this.context.stdout.write(`${healthy ? 'healthy' : 'unhealthy'}: ${reason}\n`);
    return code;
  }
}
