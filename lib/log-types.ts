/** The logging surface the pipeline uses; tslog's Logger satisfies it, tests pass a recorder. */
export interface Log {
  debug(...args: unknown[]): unknown;
  info(...args: unknown[]): unknown;
  warn(...args: unknown[]): unknown;
  error(...args: unknown[]): unknown;
}
