/**
 * The bench's outputs: one JSON document (every number, unrounded) and a
 * plain-text table for people (sections: raw ceiling, served, latency, RSS,
 * transformers.js, headline ratios vs targets).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Headline } from './headline.js';
import type { MachineInfo } from './machine.js';
import type { BenchModels } from './models.js';
import type { BenchOptions } from './options.js';
import type { RawPoint, RawResults } from './raw-ort.bench.js';
import type { PairedSeries, RawRecheck } from './raw-paired.js';
import type { ServedResults } from './served.bench.js';
import { round } from './stats.js';
import type { PeerPoint, TransformersJsResults } from './transformers-js.bench.js';

/** The whole result of one run, as written to JSON. */
export interface BenchReport {
  schema: 'clipflow-bench/1';
  startedAt: string;
  durationS: number;
  /** Wall time of each section (model, raw, served, transformers), in s. */
  sectionS: Record<string, number>;
  /** 1-minute load average at the end of each section: other work on the machine shows here. */
  sectionLoad: Record<string, number>;
  machine: MachineInfo & { loadAverageAtEnd: number };
  options: BenchOptions & { effectiveThreads: number };
  model: Omit<BenchModels, 'root'> & { root: string };
  raw: RawResults;
  /** The ceiling measured again after the served section. */
  rawRecheck: RawRecheck;
  served: ServedResults;
  /** null with --skip-transformers. */
  transformersJs: TransformersJsResults | null;
  headlines: Headline[];
}

/** Writes the report as pretty JSON, creating the folder. */
export function writeReport(report: BenchReport, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
}

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
function grid(rows: string[][], indent = '  '): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => indent + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

const fmt = (v: number, digits?: number) => (Number.isFinite(v) ? (digits === undefined ? String(round(v)) : v.toFixed(digits)) : 'n/a');
const ms = (v: number) => fmt(v, v < 100 ? 1 : 0);

function rawRow(label: string, p: RawPoint | null, unit: string): string[] {
  if (!p) return [label, 'no clip-server layout', '', '', ''];
  return [label, `${fmt(p.perSecond)} ${unit}/s`, `${ms(p.latency.p50)} ms/batch`, String(p.calls), fmt(p.cpuMsPerItem)];
}

const INPUT_LABEL: Record<string, string> = { jpeg: 'JPEG', png: 'PNG', short: 'short captions', long77: '77-token texts' };

/** The report as text for a terminal or a Markdown code block. */
export function formatTable(r: BenchReport): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`clipflow bench: ${r.model.preset === 'external' ? r.model.root : `${r.model.preset} (random weights)`}, ${m.cpuModel}, ${m.logicalCores} logical / ${m.physicalCores} physical cores, ` +
    `node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}, ${r.options.runtime ?? 'cpu'} provider, ORT intra-op threads ${r.options.effectiveThreads}, ` +
    `load avg ${fmt(m.loadAverageAtStart, 2)} -> ${fmt(m.loadAverageAtEnd, 2)}, commit ${m.commit}`);

  const raw = r.raw;
  out.push('', 'Raw ORT ceiling (same graphs, clipflow session options, pre-made tensors)');
  out.push(grid([
    ['point', 'throughput', 'p50', 'calls', 'CPU ms/item'],
    rawRow('images batch 1', raw.images.b1, 'img'),
    rawRow('images batch 8', raw.images.b8, 'img'),
    rawRow('images batch 32', raw.images.b32, 'img'),
    rawRow('texts b32, 77 tokens, fixed int32 graph', raw.texts.fixed77, 'txt'),
    rawRow(`texts b32, 77 tokens, ${raw.texts.hfFixedLength ? 'fixed-length hf' : 'dynamic int64'} graph`, raw.texts.dynamic77, 'txt'),
    rawRow(`texts b32, ${raw.texts.short.seqLength} tokens (short captions)`, raw.texts.short, 'txt'),
    rawRow(`text b1, ${raw.texts.single.seqLength} tokens (latency caption)`, raw.texts.single, 'txt'),
  ]));
  if (raw.imagesCutB32) {
    out.push(`  images b32 on the vision graph as served (last layers on the pooled token): ${fmt(raw.imagesCutB32.perSecond)} img/s, ` +
      `x${fmt(raw.imagesCutB32.vsFull, 3)} of the full graph (median of ${raw.imagesCutB32.rounds.length} rounds beside it)`);
  }
  const plans = raw.texts.captionPlans;
  if (plans) {
    const packed = plans.planned.packed;
    const runs = packed
      ? `packed ${packed.rows} rows of ${packed.tokens} tokens, on the text graph as served`
      : plans.planned.runs.map((x) => `${x.size}x${x.seqLength}`).join(' + ');
    out.push(`  short captions in the server's runs (${runs}): ${fmt(plans.planned.perSecond)} txt/s (x${fmt(plans.planned.vsPadded, 2)} of padded); ` +
      `each at its own length (b32 at ${plans.unpadded.lengths.map((x) => x.seqLength).join('/')} tokens, weighted): ${fmt(plans.unpadded.perSecond)} txt/s ` +
      `(x${fmt(plans.unpadded.vsPadded, 2)}); medians of ${plans.rounds.length} rounds beside the padded point`);
  }
  const rc = r.rawRecheck;
  out.push(`  recheck after the served section: images b32 ${fmt(rc.imagesB32.perSecond)}/s (x${fmt(rc.imagesDrift, 2)}), ` +
    `short texts b32 ${fmt(rc.textsShort.perSecond)}/s (x${fmt(rc.textsDrift, 2)})` +
    (Math.abs(rc.imagesDrift - 1) > 0.1 || Math.abs(rc.textsDrift - 1) > 0.1 ? '  <- the machine drifted: read the ratios with care' : ''));

  const s = r.served;
  const rawFor = (input: string) => (input === 'short' ? raw.texts.short.perSecond : input === 'long77' ? raw.texts.dynamic77.perSecond : raw.images.b32.perSecond);
  out.push('', `Served end to end (JPEG ${s.inputs.jpegSize.join('x')}, PNG ${s.inputs.pngSize}x${s.inputs.pngSize}; client ${s.clientMode === 'process' ? 'in a separate process' : 'inside the server process'}; ` +
    `1 client = batches of 32 docs, prefetch ${r.options.prefetch}; ${s.concurrency} clients = one doc per request)`);
  out.push(grid([
    ['protocol', 'input', 'clients', 'docs/s', 'window/s', 'vs raw', 'paired raw/s', 'vs paired', 'rounds', 'req p50', 'req p99', 'server CPU ms/doc', 'client CPU ms/doc'],
    ...s.points.map((p) => {
      const t = p.requestLatency ?? p.replyInterval;
      const pr = p.pairedRaw;
      return [p.protocol, INPUT_LABEL[p.input] ?? p.input, String(p.clients), fmt(p.perSecond), p.window ? fmt(p.window.perSecond) : '', `${fmt(p.perSecond / rawFor(p.input), 2)}x`,
        pr ? fmt(pr.perSecond) : '', pr ? `${fmt(pr.ratio, 2)}x` : '', pr ? roundsOf(pr) : '',
        t ? `${ms(t.p50)} ms` : '', t ? `${ms(t.p99)} ms` : '', fmt(p.serverCpuMsPerItem), fmt(p.cpuMsPerItem)];
    }),
  ]));
  out.push('  (1 client: docs/s is the stream at steady state, the documents of every reply after the first over the time from the first',
    '   reply to the last; window/s is the whole window, which also holds the stream\'s fill: its first request built, sent, parsed and',
    '   decoded while the model has nothing to run, once per stream and so once per round; N clients: the whole window)');
  out.push('  (CPU ms/doc: user+system time of that process, every thread, per document; ORT worker threads spin, so this overstates compute,',
    '   but it stays comparable with the raw CPU ms/item when other work shares the machine)');
  out.push('  (vs raw: images over raw batch-32, short captions over raw at the same padded length, 77-token texts over raw 77 on the same graph,',
    '   as measured at the start; vs paired: the median of the rounds\' ratios, each round over the mean of the same raw point',
    '   measured just before and just after it (rounds lists them; paired raw/s is the mean raw); for 1 client the p50/p99 are',
    '   intervals between replies of 32 docs)');
  if (s.clientComparison.length) {
    out.push('', 'Client placement (same points, load generator in its own process vs inside the server)');
    out.push(grid([['point', 'separate process', 'in-process', 'in/separate'],
      ...s.clientComparison.map((c) => [c.key, `${fmt(c.process)}/s`, `${fmt(c.inProcess)}/s`, `${fmt(c.inProcessOverProcess, 2)}x`])]));
  }

  const staged = s.points.filter((p) => p.breakdown && p.clientMode === s.clientMode);
  if (staged.length) {
    out.push('', "Where the served time goes (the server's own stage timers over each point; ms per document unless noted)");
    out.push(grid([
      ['point', 'docs/s', 'raw ms/doc', 'encode', 'preprocess', 'executor ms/call', 'request ms', 'avg batch'],
      ...staged.map((p) => {
        const b = p.breakdown!;
        const modality = p.input === 'jpeg' || p.input === 'png' ? 'images' : 'texts';
        const perDoc = (stage: string) => (b.stages[stage] ? fmt((b.stages[stage]!.seconds * 1000) / Math.max(1, b.documents)) : '');
        const perCall = (stage: string) => (b.stages[stage] ? ms((b.stages[stage]!.seconds * 1000) / b.stages[stage]!.count) : '');
        return [p.key, fmt(p.perSecond), fmt(1000 / rawFor(p.input)), perDoc(`encode_${modality}`), perDoc(`preprocess_${modality}`),
          perCall('executor_duration'), perCall('request_duration'), fmt(b.avgBatchSize, 1)];
      }),
    ]));
    out.push('  (encode = inside ORT as the server times it; raw ms/doc = 1000 / raw throughput at the matching shape; preprocess overlaps',
      '   encode where the encoder pipelines it; images are decoded and cropped per request before batching, see docs/BENCHMARKS.md)');
  }

  out.push('', 'Latency (sequential requests, one document each)');
  out.push(grid([
    ['protocol', 'text p50', 'text p99', 'image p50', 'image p99', 'raw b1 text p50 around it'],
    ...Object.entries(s.latency).map(([proto, l]) => [proto, `${ms(l!.text.p50)} ms`, `${ms(l!.text.p99)} ms`, `${ms(l!.image.p50)} ms`, `${ms(l!.image.p99)} ms`,
      l!.rawTextP50 !== undefined ? `${ms(l!.rawTextP50)} ms` : '']),
    ['raw ORT (b1)', `${ms(raw.texts.single.latency.p50)} ms`, `${ms(raw.texts.single.latency.p99)} ms`, `${ms(raw.images.b1.latency.p50)} ms`, `${ms(raw.images.b1.latency.p99)} ms`, ''],
  ]));

  const peer = r.transformersJs;
  out.push('', 'Peak RSS (each section in its own process)');
  out.push(grid([
    ['process', 'peak RSS'],
    ['clipflow server (after load)', `${fmt(s.server.afterLoadRssMb, 0)} MB`],
    ['clipflow server (peak under load)', `${fmt(s.server.peakRssMb, 0)} MB`],
    ['raw ORT (both text graphs + vision, one at a time)', `${fmt(raw.peakRssMb, 0)} MB`],
    ...(peer ? [['transformers.js', `${fmt(peer.peakRssMb, 0)} MB`]] : []),
  ]));

  if (peer) {
    out.push('', `transformers.js ${peer.version} (same graphs and session options; config check ${peer.config.ok ? 'ok' : `missing ${peer.config.missing.join(', ')}`})`);
    const peerRow = (label: string, x: PeerPoint, unit: string) => [label, `${fmt(x.perSecond)} ${unit}/s`, `${ms(x.latency.p50)} ms/${x.batch === 1 ? 'call' : 'batch'}`, fmt(x.cpuMsPerItem),
      x.paired ? fmt(x.paired.perSecond) : '', x.paired ? `${fmt(x.paired.ratio, 2)}x` : '', x.paired ? roundsOf(x.paired) : ''];
    out.push(grid([
      ['point', 'throughput', 'p50', 'CPU ms/item', 'paired raw/s', 'vs paired', 'rounds'],
      peerRow(`JPEG ${s.inputs.jpegSize.join('x')} end to end, batch 32`, peer.jpegImages, 'img'),
      peerRow('JPEG, batch 32, decoded in turn', peer.jpegImagesDecodedInTurn, 'img'),
      peerRow(`short captions, batch 32 (padded to ${peer.shortCaptions.paddedLength})`, peer.shortCaptions, 'txt'),
      peerRow('JPEG, one image a call', peer.single.jpegImages, 'img'),
      peerRow('short captions, one a call', peer.single.shortCaptions, 'txt'),
    ]));
    out.push(`  truncation of a ${peer.truncation.inputTokens}-token text to 77: last id ${peer.truncation.lastId} ` +
      `(${peer.truncation.keepsEot ? 'keeps EOT like OpenAI' : 'EOT dropped, unlike OpenAI CLIP'}); ` +
      `caption ids differing from clipflow's tokenizer: ${peer.tokenizerMismatches}`);
  }

  out.push('', 'Headline ratios vs acceptance targets');
  out.push(grid([
    ['measure', 'measured', 'vs start raw', 'target', 'result'],
    // Three decimals: a 0.947 must not print as a missed "0.95x".
    ...r.headlines.map((h) => [h.name, h.unit === 'x' ? `${fmt(h.measured, 3)}x` : `${fmt(h.measured, 1)} ms`,
      h.unit === 'x' && h.vsStartRaw !== h.measured ? `${fmt(h.vsStartRaw, 2)}x` : '',
      h.target === null ? '' : `${h.op} ${h.unit === 'x' ? `${h.target}x` : `${h.target} ms`}`,
      h.pass === null ? '' : h.pass ? 'PASS' : 'MISS']),
  ]));
  if (peer) {
    out.push('  (transformers.js rows: "measured" divides the two sides\' paired ratios (medians of rounds), its "vs start raw"',
      '   column is the plain ratio of throughputs, which the machine\'s drift between the two sections also moves)');
  }
  return out.join('\n');
}

/** The rounds' ratios of a paired point, e.g. `0.91 0.88 0.95`. */
function roundsOf(p: PairedSeries): string {
  return p.rounds.map((r) => fmt(r.ratio, 2)).join(' ');
}
