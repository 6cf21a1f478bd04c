/**
 * A static file server for the browser check: serves one folder over HTTP on 127.0.0.1 (ephemeral port) with
 * single byte-range requests (206 Partial Content), the way a NAS web share or a CDN serves MP4s. A browser's
 * `<video>` asks for ranges (the moov of a file written with `fastStart: false` sits at the end), so a server
 * without them would hide what real players meet.
 *
 * No dependency beyond node:http, so the ava tests of this module need no browser.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

const TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.jpg': 'image/jpeg',
  '.html': 'text/html; charset=utf-8',
};

/** The blank page the browser opens first, so every file it fetches is same-origin. */
export const BLANK_PAGE = '<!doctype html><meta charset="utf-8"><title>hiksync browser check</title><body></body>';

export type ParsedRange = { start: number; end: number } | 'unsatisfiable' | 'ignore';

/**
 * Parses a Range header against a file of `size` bytes (RFC 9110 14.1.2): `bytes=a-b`, `bytes=a-`, `bytes=-n`.
 * 'ignore' (serve the whole file with 200) for what a server may ignore: other units, several ranges, syntax it
 * does not understand. 'unsatisfiable' (416) when the one range lies wholly past the end.
 */
export function parseRange(header: string | undefined, size: number): ParsedRange {
  if (header === undefined) return 'ignore';
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'ignore';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Infinity : Number(m[2]);
  if (end < start) return 'ignore';
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

export interface ServedRequest {
  method: string;
  path: string;
  status: number;
  range?: string;
}

export interface RangeServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  origin: string;
  /** Every request answered, in order: the check asserts that the browser really used ranges. */
  requests: ServedRequest[];
  close(): Promise<void>;
}

/** Serves `root` read-only; `/` is a blank HTML page. Resolves once listening. */
export async function startRangeServer(root: string): Promise<RangeServer> {
  const base = path.resolve(root);
  const requests: ServedRequest[] = [];

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      rel = '\0';
    }
    const record = (status: number) => {
      const r: ServedRequest = { method, path: rel, status };
      if (req.headers.range !== undefined) r.range = req.headers.range;
      requests.push(r);
    };
    const fail = (status: number, text: string, headers: http.OutgoingHttpHeaders = {}) => {
      record(status);
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(method === 'HEAD' ? undefined : `${text}\n`);
    };
    if (method !== 'GET' && method !== 'HEAD') return fail(405, 'method not allowed', { Allow: 'GET, HEAD' });
    if (rel === '/') {
      record(200);
      res.writeHead(200, { 'Content-Type': TYPES['.html'], 'Content-Length': Buffer.byteLength(BLANK_PAGE) });
      return res.end(method === 'HEAD' ? undefined : BLANK_PAGE);
    }
    const file = path.resolve(base, `.${rel}`);
    if (rel.includes('\0') || (file !== base && !file.startsWith(base + path.sep))) return fail(403, 'forbidden');

    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return fail(404, 'not found');
      const size = st.size;
      const common = {
        'Accept-Ranges': 'bytes',
        'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Last-Modified': st.mtime.toUTCString(),
        'Cache-Control': 'no-store',
      };
      const range = parseRange(req.headers.range, size);
      if (range === 'unsatisfiable') {
        return fail(416, 'range not satisfiable', { ...common, 'Content-Range': `bytes */${size}` });
      }
      const whole = range === 'ignore';
      const start = whole ? 0 : range.start;
      const end = whole ? size - 1 : range.end;
      const status = whole ? 200 : 206;
      const headers: http.OutgoingHttpHeaders = { ...common, 'Content-Length': end - start + 1 };
      if (!whole) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
      record(status);
      res.writeHead(status, headers);
      if (method === 'HEAD' || size === 0) return res.end();
      const stream = fs.createReadStream(file, { start, end });
      stream.on('error', () => res.destroy());
      // A player cancels ranges it no longer needs: stop reading then.
      res.on('close', () => stream.destroy());
      stream.pipe(res);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // A browser keeps connections alive: drop them, or close() waits for their idle timeout.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
