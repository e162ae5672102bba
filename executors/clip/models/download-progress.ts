/**
 * Shows a download's progress where a person will see it: a cli-progress bar
 * on stderr when stderr is a terminal, otherwise (containers, CI, log files)
 * one pino line per ~10% so logs stay readable.
 */
import cliProgress from 'cli-progress';
import { childLogger, type Logger } from '../../../core/telemetry/logger.js';
import type { DownloadProgress } from './downloader.js';

/** Receives progress for one file and is told when it is over. */
export interface ProgressReporter {
  update(p: DownloadProgress): void;
  /** Ends the display; `ok` false when the download failed. */
  stop(ok: boolean): void;
}

const MB = 1024 * 1024;
/** Without a known size, log every this many bytes instead of every 10%. */
const UNKNOWN_SIZE_STEP = 100 * MB;

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1);
}

/**
 * One MultiBar for every file downloading at once (a model's two graphs come
 * down in parallel): separate SingleBars would overwrite each other's line.
 */
let multi: { bars: cliProgress.MultiBar; active: number } | undefined;

class BarReporter implements ProgressReporter {
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly label: string) {}

  update(p: DownloadProgress): void {
    const total = p.total ?? Math.max(p.received, 1);
    const payload = { label: this.label, got: mb(p.received), size: p.total ? mb(p.total) : '?' };
    if (!this.bar) {
      multi ??= {
        bars: new cliProgress.MultiBar(
          { stream: process.stderr, format: '{label} |{bar}| {percentage}% {got}/{size} MB eta {eta_formatted}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        ),
        active: 0,
      };
      multi.active++;
      this.bar = multi.bars.create(total, p.received, payload);
      return;
    }
    if (p.total === undefined) this.bar.setTotal(total);
    this.bar.update(p.received, payload);
  }

  stop(): void {
    if (!this.bar || !multi) return;
    this.bar = undefined;
    if (--multi.active === 0) {
      multi.bars.stop();
      multi = undefined;
    }
  }
}

class LogReporter implements ProgressReporter {
  private nextMark = 0;
  private started = false;
  private last: DownloadProgress | undefined;

  constructor(
    private readonly label: string,
    private readonly log: Logger,
  ) {}

  update(p: DownloadProgress): void {
    this.last = p;
    if (!this.started) {
      this.started = true;
      this.log.info({ file: this.label, url: p.url, resumedAt: p.received || undefined, bytes: p.total }, 'downloading model file');
      this.nextMark = this.markAfter(p);
      return;
    }
    if (p.received < this.nextMark) return;
    const percent = p.total ? Math.floor((p.received / p.total) * 100) : undefined;
    this.log.info({ file: this.label, received: p.received, bytes: p.total, percent }, `download ${percent ?? mb(p.received) + ' MB'}${percent !== undefined ? '%' : ''}`);
    this.nextMark = this.markAfter(p);
  }

  /** The next byte count worth a line: the next 10% step (or next 100 MB when the size is unknown). */
  private markAfter(p: DownloadProgress): number {
    if (!p.total) return (Math.floor(p.received / UNKNOWN_SIZE_STEP) + 1) * UNKNOWN_SIZE_STEP;
    const step = p.total / 10;
    return Math.min(p.total, (Math.floor(p.received / step) + 1) * step);
  }

  stop(ok: boolean): void {
    if (ok && this.last) this.log.info({ file: this.label, bytes: this.last.received }, 'download complete');
  }
}

/**
 * A reporter for one file, labelled e.g. `ViT-B-32::openai textual.onnx`: a bar
 * on a TTY, log lines otherwise (`tty` overrides the detection).
 */
export function createProgressReporter(label: string, options: { tty?: boolean; logger?: Logger } = {}): ProgressReporter {
  const tty = options.tty ?? Boolean(process.stderr.isTTY);
  return tty ? new BarReporter(label) : new LogReporter(label, options.logger ?? childLogger('models'));
}
