// Two executors of this example, composed with the built-in ClipEncoder and
// VectorIndexer in flow.yml. They import from 'clipflow' as an installed package would.
import { DocumentArray, Executor, requests, type HandlerArgs } from 'clipflow';

/**
 * Tags each document before it is stored, so searches can filter on the tags:
 * `words` (count), `length` ('short' up to `short_words` words, else 'long') and
 * `topic` (the first keyword of `topics` found in the text, or 'other').
 */
export class TagEnricher extends Executor {
  private readonly shortWords = Number(this.args.short_words ?? 5);
  private readonly topics = (this.args.topics as string[] | undefined) ?? [];

  @requests(['/index', '/update'])
  enrich({ docs }: HandlerArgs) {
    for (const doc of docs) {
      if (!doc.text) continue;
      const words = doc.text.toLowerCase().split(/\s+/).filter(Boolean);
      doc.tags.words = words.length;
      doc.tags.length = words.length <= this.shortWords ? 'short' : 'long';
      doc.tags.topic = this.topics.find((t) => words.includes(t)) ?? 'other';
    }
  }
}

/**
 * Drops matches farther than `max_distance` (cosine distance) from their query:
 * `with: { max_distance }`, overridden per request by `parameters.max_distance`.
 */
export class DistanceCutoff extends Executor {
  private readonly maxDistance = Number(this.args.max_distance ?? 2);

  @requests('/search')
  cut({ docs, parameters }: HandlerArgs) {
    const max = Number(parameters.max_distance ?? this.maxDistance);
    for (const doc of docs) {
      doc.matches = new DocumentArray(doc.matches.filter((m) => (m.scores.cosine?.value ?? Infinity) <= max));
    }
  }
}
