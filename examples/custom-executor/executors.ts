// Two custom executors for the example flow. They import from 'clipflow' exactly
// as a project that installed the package would.
import { Executor, requests, type HandlerArgs } from 'clipflow';

/** Cleans up text: trims, collapses whitespace, optionally lower-cases (`with: { lowercase }`). */
export class TextCleaner extends Executor {
  private readonly lowercase = Boolean(this.args.lowercase ?? true);

  @requests()
  clean({ docs }: HandlerArgs) {
    for (const doc of docs) {
      if (doc.text === undefined) continue;
      const collapsed = doc.text.trim().replace(/\s+/g, ' ');
      doc.text = this.lowercase ? collapsed.toLowerCase() : collapsed;
    }
  }
}

/** Counts words; `/stats` also returns a summary into `parameters.__results__`. */
export class WordCounter extends Executor {
  @requests()
  count({ docs }: HandlerArgs) {
    for (const doc of docs) doc.tags.words = doc.text ? doc.text.split(' ').length : 0;
  }

  @requests('/stats')
  stats({ docs }: HandlerArgs) {
    this.count({ docs } as HandlerArgs);
    const words = docs.reduce((n, d) => n + Number(d.tags.words), 0);
    return { documents: docs.length, words };
  }
}
