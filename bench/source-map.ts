/**
 * Map a position in compiled dist/*.js back to the TypeScript source through tsc's source maps (v3, VLQ), so a
 * profile names lib/…/x.ts:line rather than the compiled file.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

/** Decode one mappings segment ("AAAA") into its numbers. */
export function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = B64_VALUE.get(ch);
    if (digit === undefined) throw new Error(`bad VLQ character "${ch}"`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

interface Segment {
  genCol: number;
  source: number;
  line: number;
}

export class SourceMap {
  private constructor(
    private readonly sources: string[],
    private readonly lines: Segment[][],
  ) {}

  static load(jsFile: string): SourceMap | undefined {
    let raw: { sources: string[]; sourceRoot?: string; mappings: string };
    try {
      raw = JSON.parse(readFileSync(`${jsFile}.map`, 'utf8')) as typeof raw;
    } catch {
      return undefined;
    }
    const base = path.dirname(jsFile);
    const sources = raw.sources.map((s) => path.resolve(base, raw.sourceRoot ?? '', s));
    const lines: Segment[][] = [];
    let source = 0;
    let line = 0;
    for (const lineText of raw.mappings.split(';')) {
      const segs: Segment[] = [];
      let genCol = 0;
      for (const segText of lineText.split(',')) {
        if (!segText) continue;
        const v = decodeVlq(segText);
        genCol += v[0]!;
        if (v.length >= 4) {
          source += v[1]!;
          line += v[2]!;
          segs.push({ genCol, source, line });
        }
      }
      lines.push(segs);
    }
    return new SourceMap(sources, lines);
  }

  /** 0-based generated line/column -> absolute source file and 1-based line. */
  lookup(genLine: number, genCol: number): { file: string; line: number } | undefined {
    const segs = this.lines[genLine];
    if (!segs || segs.length === 0) return undefined;
    let best = segs[0]!;
    for (const s of segs) if (s.genCol <= genCol) best = s;
    const file = this.sources[best.source];
    return file ? { file, line: best.line + 1 } : undefined;
  }
}
