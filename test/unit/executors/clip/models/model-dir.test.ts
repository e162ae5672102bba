import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveModelDir } from '../../../../../executors/clip/models/model-dir.js';
import { ModelDirError } from '../../../../../executors/clip/models/model-errors.js';
import { CLIP_MEAN } from '../../../../../executors/clip/models/model-table.js';

let root: string;
let n = 0;

/** A fresh directory holding `files` (path → content; objects are written as JSON). */
async function dirWith(files: Record<string, string | object>): Promise<string> {
  const dir = join(root, `m${n++}`);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

describe('resolveModelDir', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'clipflow-modeldir-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('reads a clip-server layout and takes facts from the named table entry', async () => {
    const dir = await dirWith({ 'textual.onnx': 't', 'visual.onnx': 'v' });
    const spec = await resolveModelDir(dir, 'ViT-L/14@336px');
    assert.equal(spec.layout, 'clip-server');
    assert.equal(spec.textualPath, join(dir, 'textual.onnx'));
    assert.equal(spec.visualPath, join(dir, 'visual.onnx'));
    assert.equal(spec.name, 'ViT-L-14-336::openai');
    assert.equal(spec.imageSize, 336);
    assert.equal(spec.embedDim, 768);
    assert.equal(spec.contextLength, 77);
    assert.deepEqual(spec.mean, CLIP_MEAN);
    assert.deepEqual(spec.tokenizer, { kind: 'clip-bpe' });
    assert.equal(spec.entry?.name, 'ViT-L-14-336::openai');
  });

  it('reads a Hugging Face layout with config.json, preprocessor_config.json and tokenizer.json', async () => {
    const dir = await dirWith({
      'onnx/text_model.onnx': 't',
      'onnx/vision_model.onnx': 'v',
      'config.json': { model_type: 'clip', projection_dim: 640, vision_config: { image_size: 240 }, text_config: { max_position_embeddings: 77 } },
      'preprocessor_config.json': { crop_size: { height: 240, width: 240 }, size: { shortest_edge: 240 }, image_mean: [0.5, 0.5, 0.5], image_std: [0.25, 0.25, 0.25] },
      'tokenizer.json': '{}',
    });
    const spec = await resolveModelDir(dir);
    assert.equal(spec.layout, 'hf');
    assert.equal(spec.textualPath, join(dir, 'onnx', 'text_model.onnx'));
    assert.equal(spec.visualPath, join(dir, 'onnx', 'vision_model.onnx'));
    assert.equal(spec.imageSize, 240);
    assert.equal(spec.embedDim, 640);
    assert.deepEqual(spec.mean, [0.5, 0.5, 0.5]);
    assert.deepEqual(spec.std, [0.25, 0.25, 0.25]);
    assert.deepEqual(spec.tokenizer, { kind: 'clip-bpe', path: join(dir, 'tokenizer.json') });
    assert.equal(spec.name.startsWith('m'), true, 'falls back to the folder name');
  });

  it('lets the directory override the hint, and manifest.json override config.json', async () => {
    const dir = await dirWith({
      'onnx/text_model.onnx': 't',
      'onnx/vision_model.onnx': 'v',
      'config.json': { model_type: 'clip', projection_dim: 512, vision_config: { image_size: 224 } },
      'manifest.json': { name: 'my-finetune', embedDim: 16, imageSize: 32, contextLength: 77, layout: 'hf', outputs: { text: 'text_embeds', vision: 'image_embeds' } },
    });
    const spec = await resolveModelDir(dir, 'ViT-B-32::openai');
    assert.equal(spec.name, 'my-finetune');
    assert.equal(spec.imageSize, 32);
    assert.equal(spec.embedDim, 16);
    assert.deepEqual(spec.outputs, { text: 'text_embeds', vision: 'image_embeds' });
    assert.equal(spec.entry?.name, 'ViT-B-32::openai');
  });

  it('honours manifest.json files and transformers.js variants', async () => {
    const custom = await dirWith({ 'a/t.onnx': 't', 'a/v.onnx': 'v', 'manifest.json': { imageSize: 64, files: { text: 'a/t.onnx', vision: 'a/v.onnx' } } });
    const spec = await resolveModelDir(custom);
    assert.equal(spec.textualPath, join(custom, 'a', 't.onnx'));
    assert.equal(spec.imageSize, 64);
    const missing = await dirWith({ 'manifest.json': { imageSize: 64, files: { text: 'a/t.onnx', vision: 'v.onnx' } }, 'v.onnx': 'v' });
    await assert.rejects(resolveModelDir(missing), /manifest.json names a\/t.onnx, which is missing/);
    const q = await dirWith({ 'onnx/text_model_quantized.onnx': 't', 'onnx/vision_model_quantized.onnx': 'v', 'preprocessor_config.json': { size: 224 } });
    assert.equal((await resolveModelDir(q, undefined, { variant: 'quantized' })).textualPath, join(q, 'onnx', 'text_model_quantized.onnx'));
  });

  it('picks the multilingual tokenizer from the entry or from config.json', async () => {
    const dir = await dirWith({ 'textual.onnx': 't', 'visual.onnx': 'v', 'tokenizer.json': '{}' });
    const spec = await resolveModelDir(dir, 'M-CLIP/XLM-Roberta-Large-Vit-B-32');
    assert.deepEqual(spec.tokenizer, { kind: 'xlm-roberta', path: join(dir, 'tokenizer.json') });
    const hf = await dirWith({ 'textual.onnx': 't', 'visual.onnx': 'v', 'config.json': { model_type: 'xlm-roberta' }, 'preprocessor_config.json': { crop_size: 224 } });
    assert.equal((await resolveModelDir(hf)).tokenizer.kind, 'xlm-roberta');
  });

  it('fails in one line naming the dir and what each layout expects', async () => {
    const dir = await dirWith({ 'textual.onnx': 't', 'onnx/text_model.onnx': 't' });
    await assert.rejects(resolveModelDir(dir, 'ViT-B-32::openai'), (e: unknown) => {
      assert.ok(e instanceof ModelDirError);
      assert.ok(e.message.includes(dir));
      assert.match(e.message, /expected textual\.onnx \+ visual\.onnx \(clip-server layout\) or onnx\/text_model\.onnx \+ onnx\/vision_model\.onnx/);
      assert.match(e.message, /found textual\.onnx, onnx\/text_model\.onnx/);
      assert.equal(e.message.includes('\n'), false);
      return true;
    });
    await assert.rejects(resolveModelDir(join(root, 'nope')), /model_path .*nope is not a directory/);
  });

  it('refuses a combined model.onnx with a reason', async () => {
    const dir = await dirWith({ 'onnx/model.onnx': 'm' });
    await assert.rejects(resolveModelDir(dir), /combined model\.onnx; clipflow needs the text and vision towers as separate graphs/);
  });

  it('asks for an image size it cannot find, suggesting a close model name', async () => {
    const dir = await dirWith({ 'textual.onnx': 't', 'visual.onnx': 'v' });
    await assert.rejects(resolveModelDir(dir), /cannot tell the image size/);
    await assert.rejects(resolveModelDir(dir, 'ViT-B-32::opnai'), /did you mean ViT-B-32::openai\?/);
  });

  it('names the file and key of a malformed value', async () => {
    const dir = await dirWith({ 'textual.onnx': 't', 'visual.onnx': 'v', 'preprocessor_config.json': { image_mean: [1, 2] } });
    await assert.rejects(resolveModelDir(dir, 'RN50'), /preprocessor_config\.json: image_mean must be an array of three numbers/);
    const bad = await dirWith({ 'textual.onnx': 't', 'visual.onnx': 'v', 'manifest.json': '{ nope' });
    await assert.rejects(resolveModelDir(bad, 'RN50'), /manifest\.json is not valid JSON/);
  });
});
