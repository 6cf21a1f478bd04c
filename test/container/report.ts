/**
 * The container test's own small reporter: one TAP line per check, a YAML block with what failed, and the line
 * `N passed, N failed` that .ci/run adds to its totals. A check is the unit counted (like an ava test); its
 * assertions are collected, not thrown, so one wrong value does not hide the next.
 */
import { inspect, isDeepStrictEqual } from 'node:util';

/** The assertions of one check. */
export class Assert {
  readonly failures: string[] = [];
  readonly notes: string[] = [];

  /** Deep, strict equality. */
  is<T>(actual: T, expected: T, what: string): boolean {
    if (isDeepStrictEqual(actual, expected)) return true;
    this.failures.push(`${what}: expected ${show(expected)}, got ${show(actual)}`);
    return false;
  }

  ok(condition: boolean, what: string, detail?: string): boolean {
    if (!condition) this.failures.push(detail === undefined ? what : `${what}: ${detail}`);
    return condition;
  }

  /** Context printed with the check's result (pass or fail): what a reader needs to judge it. */
  note(text: string): void {
    this.notes.push(text);
  }
}

function show(v: unknown): string {
  return inspect(v, { depth: 4, breakLength: Infinity, maxStringLength: 600, maxArrayLength: 30 });
}

export interface Check {
  name: string;
  /**
   * Set when the behaviour checked is being built in lib/ on another branch: a failure is reported as TODO (not
   * counted as failed) and a pass says the mark can go. The reason names the missing behaviour.
   */
  pendingLib?: string;
  run(a: Assert): Promise<void>;
}

export class Report {
  private n = 0;
  passed = 0;
  failed = 0;
  todo = 0;
  skipped = 0;

  constructor(private readonly out: (line: string) => void = (l) => process.stdout.write(l + '\n')) {
    this.out('TAP version 13');
  }

  comment(text: string): void {
    for (const line of text.split('\n')) this.out(`# ${line}`);
  }

  /** Runs one check; an exception is a failure of that check, never of the run. */
  async check(check: Check): Promise<boolean> {
    const a = new Assert();
    const started = Date.now();
    try {
      await check.run(a);
    } catch (err) {
      a.failures.push(`threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const ok = a.failures.length === 0;
    this.n++;
    let directive = '';
    if (check.pendingLib !== undefined) {
      directive = ok
        ? ` # passes now: remove its pendingLib mark (${check.pendingLib})`
        : ` # TODO lib/ work in flight: ${check.pendingLib}`;
    }
    this.out(`${ok ? 'ok' : 'not ok'} ${this.n} - ${check.name} (${seconds} s)${directive}`);
    if (!ok || a.notes.length > 0) {
      this.out('  ---');
      if (!ok) {
        this.out('  failures:');
        for (const f of a.failures) this.out(`    - ${indent(f)}`);
      }
      if (a.notes.length > 0) {
        this.out('  notes:');
        for (const n of a.notes) this.out(`    - ${indent(n)}`);
      }
      this.out('  ...');
    }
    if (ok) this.passed++;
    else if (check.pendingLib !== undefined) this.todo++;
    else this.failed++;
    return ok;
  }

  /** A failure outside any check (the engine, the build): counted, so a broken set-up can never look green. */
  fail(name: string, why: string): void {
    this.n++;
    this.failed++;
    this.out(`not ok ${this.n} - ${name}`);
    this.out('  ---');
    this.out(`  message: ${indent(why)}`);
    this.out('  ...');
  }

  /** A skip asked for by the environment: loud, and not a pass. */
  skip(name: string, why: string): void {
    this.n++;
    this.skipped++;
    this.out(`ok ${this.n} - ${name} # SKIP ${why}`);
  }

  /** The plan and the counts line .ci/run reads. */
  end(): void {
    this.out(`1..${this.n}`);
    const extra = [
      this.todo > 0 ? `${this.todo} todo (lib/ work in flight)` : '',
      this.skipped > 0 ? `${this.skipped} SKIPPED` : '',
    ].filter(Boolean);
    this.out(`${this.passed} passed, ${this.failed} failed${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`);
  }
}

function indent(text: string): string {
  return text.replace(/\n/g, '\n      ');
}
