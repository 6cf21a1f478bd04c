/**
 * The browser of the browser check: Debian's `chromium` (installed with apt-get when missing), driven by
 * playwright-core (which downloads no browser of its own), and stopped for sure: closed, or its process group
 * killed by pid when closing hangs.
 */
import { existsSync } from 'node:fs';
import pLimit, { type LimitFunction } from 'p-limit';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import { runLogged, tail } from '../container/engine.js';

/** Debian's package (engineering.md: "Real parts on these machines"); playwright's own downloads fail here. */
export const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 10_000;

export class NoBrowserError extends Error {
  override name = 'NoBrowserError';
}

/** Debian's chromium, installed with apt-get when missing (as root; anyone else gets a clear message). */
export async function ensureChromium(log: (l: string) => void, logFile: string): Promise<number> {
  if (existsSync(CHROMIUM)) return 0;
  if (process.getuid?.() !== 0) {
    throw new NoBrowserError(
      `${CHROMIUM} is missing and only root can install it: run \`apt-get install chromium\` as root (Debian's package;` +
        ' a browser download from elsewhere does not work here), or set HIKSYNC_SKIP_BROWSER=1 to skip this check',
    );
  }
  const t0 = Date.now();
  log('installing chromium (apt-get)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => runLogged('apt-get', ['install', '-y', 'chromium'], logFile, env);
  if ((await install()) !== 0) {
    if ((await runLogged('apt-get', ['update'], logFile, env)) !== 0 || (await install()) !== 0) {
      throw new NoBrowserError(`apt-get install chromium failed:\n${tail(logFile)}`);
    }
  }
  if (!existsSync(CHROMIUM)) throw new NoBrowserError(`apt-get installed chromium, but ${CHROMIUM} is not there`);
  return (Date.now() - t0) / 1000;
}

/** Rejects after `ms` unless `p` settles first. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The browser, and how to stop it for sure. */
export interface Chromium {
  server: BrowserServer;
  browser: Browser;
  pid: number | undefined;
}

export async function launch(): Promise<Chromium> {
  const server = await chromium.launchServer({
    executablePath: CHROMIUM,
    host: '127.0.0.1',
    port: 0,
    timeout: LAUNCH_TIMEOUT_MS,
    // Playback starts without a user gesture, with sound on (there is no audio device: nothing is heard, but the
    // audio is decoded and counted). No proxy: the server is on the loopback.
    args: ['--autoplay-policy=no-user-gesture-required', '--no-proxy-server'],
  });
  const pid = server.process().pid;
  try {
    const browser = await chromium.connect(server.wsEndpoint(), { timeout: LAUNCH_TIMEOUT_MS });
    return { server, browser, pid };
  } catch (err) {
    await stopChromium({ server, pid });
    throw err;
  }
}

/** Closes the browser; kills its process group by pid when closing does not finish in time. */
export async function stopChromium(c: Partial<Chromium>, log: (l: string) => void = () => undefined): Promise<void> {
  try {
    if (c.browser) await within(c.browser.close(), CLOSE_TIMEOUT_MS, 'browser.close');
    if (c.server) await within(c.server.close(), CLOSE_TIMEOUT_MS, 'browser server close');
  } catch (err) {
    log(`${err instanceof Error ? err.message : String(err)}: killing chromium (pid ${c.pid})`);
    if (c.pid !== undefined) {
      // launchServer starts chromium as a process group leader: its helpers (renderer, GPU, zygote) go with it.
      for (const target of [-c.pid, c.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}

/**
 * At most `lanes` pages at once, each reused by the outputs after it (a new renderer per output costs seconds on a
 * loaded machine). Every output starts on a fresh load of the blank page; a page that failed or hung is closed and
 * replaced, so it cannot take the next output with it. tsx compiles with esbuild's keepNames, which wraps named
 * functions in `__name(...)`: every page gets a stand-in so the serialised functions run there.
 */
export class Pages {
  private readonly idle: Array<Page | undefined>;
  private readonly limit: LimitFunction;

  constructor(
    private readonly browser: Browser,
    private readonly origin: string,
    lanes: number,
    /** Upper bound for one output's whole page session. */
    private readonly timeoutMs: number,
  ) {
    this.idle = new Array<Page | undefined>(lanes).fill(undefined);
    this.limit = pLimit(lanes);
  }

  run<T>(what: string, fn: (page: Page) => Promise<T>): Promise<T> {
    return this.limit(async () => {
      let page = this.idle.pop();
      try {
        const result = await within(
          (async () => {
            if (!page) {
              page = await this.browser.newPage();
              await page.addInitScript('globalThis.__name = (f) => f;');
            }
            await page.goto(`${this.origin}/`);
            return fn(page);
          })(),
          this.timeoutMs,
          what,
        );
        this.idle.push(page);
        return result;
      } catch (err) {
        if (page) await within(page.close(), CLOSE_TIMEOUT_MS, 'page.close').catch(() => undefined);
        this.idle.push(undefined);
        throw err;
      }
    });
  }
}
