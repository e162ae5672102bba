// Acceptance: embeddings of a CLIP exported from PyTorch match PyTorch's own
// (text cosine >= 0.99999, image cosine >= 0.999) in both model layouts, served
// through a real flow. Fixtures: tools/reference/torch_clip_export.py.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { packagePath } from '../../../../core/config/paths.js';
import { Document } from '../../../../core/document/document.js';
import { DocumentArray } from '../../../../core/document/document-array.js';
import { Flow } from '../../../../core/flow/flow.js';
import { DataRequest } from '../../../../core/request/data-request.js';
import { ClipModel } from '../../../../executors/clip/clip-model.js';
import { resolveModelDir } from '../../../../executors/clip/models/model-dir.js';
import { cosine } from '../../../../executors/clip/rank.js';
import { ClipTokenizer } from '../../../../executors/clip/tokenizer/clip-tokenizer.js';
import { inferenceRuntime } from '../../../../runtimes/index.js';

const TEXT_MIN = 0.99999;
const IMAGE_MIN = 0.999;
const LAYOUTS = ['clip-server', 'hf'] as const;
const REGENERATE = '/usr/bin/python3 tools/reference/torch_clip_export.py';

interface Expected {
  torch: string;
  opset: number;
  imagesDir: string;
  texts: Array<{ text: string; ids: number[]; embedding: number[] }>;
  images: Array<{ file: string; sha256: string; pilMode: string; embedding: number[] }>;
}

const fixture = (...parts: string[]) => packagePath('test', 'fixtures', 'torch-clip', ...parts);
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as Expected;
const imageBytes = new Map(expected.images.map((i) => [i.file, new Uint8Array(readFileSync(packagePath(expected.imagesDir, i.file)))]));

/** clipflow's encoder takes only non-empty text as text; the empty string is checked on the model directly. */
const flowTexts = expected.texts.filter((t) => t.text !== '');
const emptyText = expected.texts.find((t) => t.text === '');

function encoderFlow(layout: string): Flow {
  const yaml = `jtype: Flow
version: '1'
executors:
  - name: clip
    uses:
      jtype: ClipEncoder
      with: { model_path: '${fixture(layout)}', minibatch_size: 5 }
`;
  return Flow.fromYaml(yaml, packagePath(), undefined, { logger: pino({ level: 'silent' }) });
}

async function encode(flow: Flow, docs: Document[]): Promise<Document[]> {
  const response = await flow.process(new DataRequest({ endpoint: '/encode', docs: new DocumentArray(docs) }), { protocol: 'http' });
  assert.equal(response.status?.code, 'SUCCESS', response.status?.description);
  return [...response.docs];
}

/** Cosine per item against the reference; asserts the floor and returns the minimum (for the log). */
function compare(label: string, got: Array<Float32Array | undefined>, want: Array<{ name: string; embedding: number[] }>, floor: number): number {
  const scores = want.map((w, i) => {
    const e = got[i];
    assert.ok(e, `${label}: ${w.name} came back without an embedding`);
    assert.equal(e.length, w.embedding.length, `${label}: ${w.name} embedding size`);
    return cosine(e, Float32Array.from(w.embedding));
  });
  const worst = Math.min(...scores);
  const at = want[scores.indexOf(worst)]!.name;
  console.log(`${label}: min cosine ${worst.toFixed(10)} (1 - cos = ${(1 - worst).toExponential(2)}, ${at}) over ${scores.length}, floor ${floor}`);
  const failing = scores.flatMap((s, i) => (s >= floor ? [] : [`${want[i]!.name}: ${s.toFixed(9)}`]));
  assert.deepEqual(failing, [], `${label}: below ${floor}`);
  return worst;
}

describe('PyTorch parity of a CLIP exported to ONNX', () => {
  it(`fixtures are current (torch ${expected.torch}, opset ${expected.opset})`, () => {
    const stale = expected.images.filter((i) => createHash('sha256').update(imageBytes.get(i.file)!).digest('hex') !== i.sha256);
    assert.deepEqual(stale.map((i) => i.file), [], `images changed since the references were computed; run ${REGENERATE}`);
  });

  it('clipflow tokenises every reference text to the ids PyTorch was fed', async () => {
    const tokenizer = await ClipTokenizer.fromBpeGz();
    const batch = tokenizer.tokenize(expected.texts.map((t) => t.text), 77);
    const wrong = expected.texts.flatMap((t, r) => {
      const ids = [...batch.ids.subarray(r * 77, r * 77 + batch.lengths[r]!)];
      return JSON.stringify(ids) === JSON.stringify(t.ids) ? [] : [`${JSON.stringify(t.text)}: ${JSON.stringify(ids)} vs ${JSON.stringify(t.ids)}`];
    });
    assert.deepEqual(wrong, []);
  });

  for (const layout of LAYOUTS) {
    describe(`${layout} layout`, () => {
      let flow: Flow;
      before(async () => {
        flow = encoderFlow(layout);
        await flow.start();
      });
      after(() => flow?.close());

      it(`texts: cosine >= ${TEXT_MIN} for every text`, async () => {
        const docs = await encode(flow, flowTexts.map((t, i) => new Document({ id: `t${i}`, text: t.text })));
        compare(`${layout} text`, docs.map((d) => d.embedding), flowTexts.map((t) => ({ name: JSON.stringify(t.text.slice(0, 40)), embedding: t.embedding })), TEXT_MIN);
      });

      it(`images: cosine >= ${IMAGE_MIN} for every image`, async () => {
        const docs = await encode(flow, expected.images.map((img) => new Document({ id: img.file, blob: imageBytes.get(img.file)! })));
        compare(`${layout} image`, docs.map((d) => d.embedding), expected.images.map((i) => ({ name: `${i.file} (${i.pilMode})`, embedding: i.embedding })), IMAGE_MIN);
      });

      it('the empty string (not a text document for the encoder) embeds like PyTorch on the model itself', async () => {
        assert.ok(emptyText, 'the PyTorch fixture holds an empty-string reference');
        const model = await ClipModel.load(await resolveModelDir(fixture(layout)), await inferenceRuntime(), { provider: 'cpu' });
        try {
          const [e] = await model.encodeTexts(['']);
          compare(`${layout} empty text`, [e], [{ name: '""', embedding: emptyText.embedding }], TEXT_MIN);
        } finally {
          await model.release();
        }
      });
    });
  }
});
