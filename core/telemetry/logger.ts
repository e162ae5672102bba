import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

let root: Logger | undefined;

/**
 * The process-wide JSON logger (pino) writing to stderr, so stdout stays free for
 * what commands print (listening addresses, encode results). Level from
 * CLIPFLOW_LOG_LEVEL (default `info`).
 */
export function rootLogger(): Logger {
  if (!root) {
    root = pino(
      { name: 'clipflow', level: process.env.CLIPFLOW_LOG_LEVEL ?? 'info', base: { pid: process.pid } },
      pino.destination({ fd: 2, sync: false }),
    );
  }
  return root;
}

/** A child logger tagged with a component name (and any extra bindings). */
export function childLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings });
}
