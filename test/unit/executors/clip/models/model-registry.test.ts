import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnknownModelError } from '../../../../../executors/clip/models/model-errors.js';
import {
  cacheFolderName, findModel, getModel, knownModelNames, listModels, registerModel, suggestModels,
} from '../../../../../executors/clip/models/model-registry.js';
import { BUILTIN_MODELS, CLIP_MEAN, CLIP_STD, DEFAULT_MODEL, type ModelEntry } from '../../../../../executors/clip/models/model-table.js';

describe('model table', () => {
  it("lists clip-server's 29 ONNX models with well-formed files, then the bundled tiny-shapes", () => {
    const downloads = BUILTIN_MODELS.filter((e) => e.source.kind === 'download');
    assert.equal(downloads.length, 29);
    const names = new Set(BUILTIN_MODELS.map((e) => e.name));
    assert.equal(names.size, BUILTIN_MODELS.length);
    const bundled = BUILTIN_MODELS.filter((e) => e.source.kind === 'bundled');
    assert.deepEqual(bundled.map((e) => [e.name, e.embedDim, e.imageSize]), [['tiny-shapes::clipflow', 64, 64]]);
    for (const e of downloads) {
      assert.equal(e.source.kind, 'download');
      if (e.source.kind !== 'download') continue;
      for (const f of [e.source.textual, e.source.visual]) {
        assert.match(f.md5, /^[0-9a-f]{32}$/, `${e.name} ${f.path}`);
        assert.match(f.path, /^[\w@.-]+\/(textual|visual)\.(onnx|zip)$/, e.name);
      }
      assert.equal(e.contextLength, 77);
      assert.deepEqual(e.mean, CLIP_MEAN);
      assert.deepEqual(e.std, CLIP_STD);
      assert.ok(e.runtimes.includes('cpu') && e.runtimes.includes('webgpu') && e.runtimes.includes('cuda'));
    }
    assert.ok(findModel(DEFAULT_MODEL));
  });

  it('carries the facts the encoder needs', () => {
    const facts = (n: string) => {
      const e = getModel(n);
      return [e.embedDim, e.imageSize, e.tokenizer];
    };
    assert.deepEqual(facts('ViT-B-32::openai'), [512, 224, 'clip-bpe']);
    assert.deepEqual(facts('RN50::openai'), [1024, 224, 'clip-bpe']);
    assert.deepEqual(facts('RN50x64::openai'), [1024, 448, 'clip-bpe']);
    assert.deepEqual(facts('ViT-L-14-336::openai'), [768, 336, 'clip-bpe']);
    assert.deepEqual(facts('ViT-B-16-plus-240::laion400m_e32'), [640, 240, 'clip-bpe']);
    assert.deepEqual(facts('ViT-H-14::laion2b-s32b-b79k'), [1024, 224, 'clip-bpe']);
    assert.deepEqual(facts('M-CLIP/XLM-Roberta-Large-Vit-B-32'), [512, 224, 'xlm-roberta']);
    assert.deepEqual(facts('M-CLIP/XLM-Roberta-Large-Vit-B-16Plus'), [640, 240, 'xlm-roberta']);
    assert.deepEqual(facts('M-CLIP/LABSE-Vit-L-14'), [768, 224, 'labse']);
    assert.equal(getModel('M-CLIP/XLM-Roberta-Large-Vit-L-14').tokenizerRepo, 'M-CLIP/XLM-Roberta-Large-Vit-L-14');
  });

  it("offers tensorrt only for clip-server's TensorRT models", () => {
    const trt = BUILTIN_MODELS.filter((e) => e.runtimes.includes('tensorrt')).map((e) => e.name);
    assert.equal(trt.length, 13);
    assert.ok(trt.includes('ViT-B-32::openai') && trt.includes('RN50x4::openai'));
    assert.ok(!trt.includes('ViT-L-14::openai') && !trt.includes('RN50x16::openai'));
  });

  it('keeps clip-server paths for the zipped large graphs', () => {
    const h = getModel('ViT-H-14::laion2b-s32b-b79k').source;
    assert.ok(h.kind === 'download' && h.visual.path === 'ViT-H-14-laion2b-s32b-b79k/visual.zip');
    const l = getModel('ViT-L-14-336::openai').source;
    assert.ok(l.kind === 'download' && l.textual.path === 'ViT-L-14@336px/textual.onnx');
  });
});

describe('model registry', () => {
  it("resolves clip-server's legacy aliases", () => {
    assert.equal(getModel('ViT-B/32').name, 'ViT-B-32::openai');
    assert.equal(getModel('ViT-B/16').name, 'ViT-B-16::openai');
    assert.equal(getModel('ViT-L/14').name, 'ViT-L-14::openai');
    assert.equal(getModel('ViT-L/14@336px').name, 'ViT-L-14-336::openai');
    assert.equal(getModel('RN50').name, 'RN50::openai');
    assert.equal(getModel('RN50x64').name, 'RN50x64::openai');
    assert.deepEqual(getModel('ViT-B-32::openai').aliases, ['ViT-B/32']);
  });

  it('matches names case-insensitively (older clip-server spellings)', () => {
    assert.equal(getModel('ViT-B-32::laion2B-s34B-b79K').name, 'ViT-B-32::laion2b-s34b-b79k');
    assert.equal(getModel(' vit-b-32::OPENAI ').name, 'ViT-B-32::openai');
  });

  it('suggests close names for an unknown one', () => {
    assert.throws(() => getModel('ViT-B-32::opnai'), (e: unknown) => {
      assert.ok(e instanceof UnknownModelError);
      assert.match(e.message, /unknown model "ViT-B-32::opnai": did you mean ViT-B-32::openai\?/);
      assert.equal(e.message.includes('\n'), false);
      return true;
    });
    assert.equal(suggestModels('ViT-B-32')[0], 'ViT-B-32::openai');
    assert.equal(suggestModels('ViT-B/23')[0], 'ViT-B-32::openai');
    assert.deepEqual(suggestModels('completely-different-thing'), []);
    assert.match(new UnknownModelError('x', []).message, /no similar name is known/);
  });

  it('registers extra entries, e.g. a bundled local model, and refuses name clashes', () => {
    const bundled: ModelEntry = { ...getModel('ViT-B-32::openai'), name: 'bundled-test::clipflow', aliases: ['bundled-test'], source: { kind: 'bundled', dir: 'models/bundled-test' } };
    registerModel(bundled);
    assert.equal(getModel('bundled-test').name, 'bundled-test::clipflow');
    assert.ok(listModels().some((e) => e.name === 'bundled-test::clipflow'));
    assert.ok(knownModelNames().includes('bundled-test'));
    assert.throws(() => registerModel({ ...bundled, name: 'other::x', aliases: ['ViT-B/32'] }), /already registered for ViT-B-32::openai/);
    registerModel({ ...bundled, imageSize: 32 }, { replace: true });
    assert.equal(getModel('bundled-test::clipflow').imageSize, 32);
  });

  it("names cache folders as clip-server does", () => {
    assert.equal(cacheFolderName(getModel('ViT-B-32::openai')), 'ViT-B-32-openai');
    assert.equal(cacheFolderName(getModel('M-CLIP/XLM-Roberta-Large-Vit-B-32')), 'M-CLIP-XLM-Roberta-Large-Vit-B-32');
  });
});
