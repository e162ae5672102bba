import cliProgress from 'cli-progress';

/** Two bars on stderr, documents sent and received; the total grows as inputs are read when unknown. */
export class Progress {
  private readonly bars: cliProgress.MultiBar;
  private readonly sentBar: cliProgress.SingleBar;
  private readonly receivedBar: cliProgress.SingleBar;
  private sentCount = 0;

  private constructor(private readonly total: number | undefined) {
    this.bars = new cliProgress.MultiBar(
      { stream: process.stderr, format: '{label} |{bar}| {value}/{total} docs', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    this.sentBar = this.bars.create(total ?? 0, 0, { label: 'sent    ' });
    this.receivedBar = this.bars.create(total ?? 0, 0, { label: 'received' });
  }

  static create(total: number | undefined): Progress | undefined {
    return process.stderr.isTTY ? new Progress(total) : undefined;
  }

  sent(n: number): void {
    this.sentCount += n;
    if (this.total === undefined) {
      this.sentBar.setTotal(this.sentCount);
      this.receivedBar.setTotal(this.sentCount);
    }
    this.sentBar.increment(n);
  }

  received(n: number): void {
    this.receivedBar.increment(n);
  }

  stop(): void {
    this.bars.stop();
  }
}
