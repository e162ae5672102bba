import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Logger } from '../../../../../core/telemetry/logger.js';
import { createProgressReporter } from '../../../../../executors/clip/models/download-progress.js';

/** A pino logger whose lines land in an array. */
function capture(): { lines: Array<Record<string, unknown>>; logger: Logger } {
  const lines: Array<Record<string, unknown>> = [];
  const logger: Logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { lines, logger };
}

describe('download progress without a TTY', () => {
  it('logs a start line, one line per ~10% and a completion line', () => {
    const { lines, logger } = capture();
    const r = createProgressReporter('ViT-B-32::openai visual.onnx', { tty: false, logger });
    for (let received = 0; received <= 1000; received += 7) r.update({ file: '/c/visual.onnx', url: 'http://m/v', received, total: 1000 });
    r.update({ file: '/c/visual.onnx', url: 'http://m/v', received: 1000, total: 1000 });
    r.stop(true);
    assert.equal(lines[0]!.msg, 'downloading model file');
    assert.equal(lines[0]!.file, 'ViT-B-32::openai visual.onnx');
    const percents = lines.filter((l) => typeof l.percent === 'number').map((l) => l.percent as number);
    assert.deepEqual(percents.map((p) => Math.floor(p / 10)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(lines.at(-1)!.msg, 'download complete');
  });

  it('reports a resumed start and steps of 100 MB when the size is unknown', () => {
    const { lines, logger } = capture();
    const r = createProgressReporter('x textual.onnx', { tty: false, logger });
    const MB = 1024 * 1024;
    r.update({ file: 'f', url: 'u', received: 5 * MB });
    for (let mb = 6; mb <= 250; mb++) r.update({ file: 'f', url: 'u', received: mb * MB });
    r.stop(false);
    assert.equal(lines[0]!.resumedAt, 5 * MB);
    assert.equal(lines.length, 3, 'start, 100 MB, 200 MB; no completion line after a failure');
  });
});
