import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ftfyFixText } from '../../../../../executors/clip/tokenizer/ftfy-fixes.js';
import { ftfyUnescapeHtml, pythonHtmlUnescape } from '../../../../../executors/clip/tokenizer/html-unescape.js';
import { basicClean, cleanText, preTokenize, pyStrip, whitespaceClean } from '../../../../../executors/clip/tokenizer/text-cleaning.js';

// Expected values are what CPython's html.unescape, ftfy 6 and the regex module return.

describe("Python's html.unescape", () => {
  it('decodes named, decimal and hex references', () => {
    assert.equal(pythonHtmlUnescape('&lt;b&gt; &amp; &quot;x&quot; &apos;y&apos; caf&eacute;'), '<b> & "x" \'y\' café');
    assert.equal(pythonHtmlUnescape('&#39;&#x27;&#X27;&#128512;&#x1F600;'), "'''\u{1f600}\u{1f600}");
  });

  it('accepts legacy names without a semicolon and decodes the longest legacy prefix', () => {
    assert.equal(pythonHtmlUnescape('fish &amp chips &copy 2024'), 'fish & chips © 2024');
    assert.equal(pythonHtmlUnescape('&ampx &notit; &notin;'), '&x ¬it; ∉');
    assert.equal(pythonHtmlUnescape('&hellip &unknown; &#; &'), '&hellip &unknown; &#; &');
  });

  it('maps invalid numeric references the way HTML5 does', () => {
    assert.equal(pythonHtmlUnescape('&#0;|&#xD800;|&#x110000;|&#99999999999999;'), '\ufffd|\ufffd|\ufffd|\ufffd');
    assert.equal(pythonHtmlUnescape('&#128;&#x85;&#x92;&#x81;'), '\u20ac\u2026\u2019\x81');
    assert.equal(pythonHtmlUnescape('a&#1;b&#x0b;c&#xFFFE;d&#x7f;e'), 'abcde');
    assert.equal(pythonHtmlUnescape('&#13;&#12;&#9;'), '\r\f\t');
  });

  it('leaves HTML5-only names as text (the documented gap of our entity table)', () => {
    assert.equal(pythonHtmlUnescape('&check; &HilbertSpace;'), '&check; &HilbertSpace;');
  });

  it('uses HTML5 values where HTML4 differed', () => {
    assert.equal(pythonHtmlUnescape('&lang;&rang;'), '\u27e8\u27e9');
    assert.equal(pythonHtmlUnescape('&TRADE;&AMP;&LT;'), '\u2122&<');
  });
});

describe("ftfy's unescape_html", () => {
  it('needs the semicolon and decodes all-caps spellings', () => {
    assert.equal(ftfyUnescapeHtml('&amp &amp; P&EACUTE;REZ BUNDESSTRA&SZLIG;E'), '&amp & PÉREZ BUNDESSTRASSE');
    assert.equal(ftfyUnescapeHtml('&ntilde; &Ntilde; &NTILDE; &nTILDE;'), 'ñ Ñ Ñ &nTILDE;');
  });

  it('keeps numeric references that would not be consumed whole', () => {
    assert.equal(ftfyUnescapeHtml('&#59;'), '&#59;');
    assert.equal(ftfyUnescapeHtml('&#x2019;'), '\u2019');
  });
});

describe('ftfy.fix_text subset', () => {
  it('unescapes until stable', () => {
    assert.equal(ftfyFixText('&amp;amp;amp;lt;'), '<');
  });

  it('stops unescaping from the first line that contains "<"', () => {
    assert.equal(ftfyFixText('a &amp; b\n<p>&amp;</p>\n&amp;'), 'a & b\n<p>&amp;</p>\n&amp;');
  });

  it('fixes ligatures, widths, curly quotes, C1 controls and line breaks', () => {
    assert.equal(ftfyFixText('\ufb02u\ufb03e\ufb06'), 'fluffiest');
    assert.equal(ftfyFixText('\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33'), 'LOUD NOISES');
    assert.equal(ftfyFixText('\uff35\uff80\uff70\uff9d'), 'U\u30bf\u30fc\u30f3');
    assert.equal(ftfyFixText('\u201chere\u2019s a test\u201d \u02bcx'), '"here\'s a test" \'x');
    assert.equal(ftfyFixText('\x80 \x85 \x92 \x81'), "\u20ac \u2026 ' \x81");
    assert.equal(ftfyFixText('a\r\nb\rc\u2028d\u2029e'), 'a\nb\nc\nd\ne');
  });

  it('removes terminal escapes and control characters, keeps useful ones', () => {
    assert.equal(ftfyFixText('\x1b[36;44mblue\x1b[0m'), 'blue');
    assert.equal(ftfyFixText('\ufeffa\x00b\x07c\x0bd\x7fe\u206af\ufffcg'), 'abcdefg');
    assert.equal(ftfyFixText('tab\tff\x0cjoin\u200dbidi\u200f'), 'tab\tff\x0cjoin\u200dbidi\u200f');
  });

  it('composes to NFC and replaces lone surrogates', () => {
    assert.equal(ftfyFixText('cafe\u0301'), 'caf\u00e9');
    assert.equal(ftfyFixText('a\ud83db\ude00c\u{1f600}'), 'a\ufffdb\ufffdc\u{1f600}');
  });
});

describe('CLIP cleaning and pre-tokenising', () => {
  it('strips like str.strip() but collapses like the regex module', () => {
    assert.equal(pyStrip('\x1c\u3000 x \x85\x1f'), 'x');
    assert.equal(whitespaceClean(' a \t\n b\u00a0\u2003c  '), 'a b c');
    assert.equal(whitespaceClean('a\x1cb'), 'a\x1cb');
    assert.equal(whitespaceClean('a\ufeffb'), 'a\ufeffb');
  });

  it('cleans captions the way OpenAI does', () => {
    assert.equal(basicClean('  plain text  '), 'plain text');
    assert.equal(cleanText('  A  PHOTO&nbsp;of&amp;amp;a\tCAT\u2019S\n'), "a photo of&a cat's");
    assert.equal(cleanText('\u039f\u0394\u039f\u03a3'), '\u03bf\u03b4\u03bf\u03c2');
  });

  it('splits into special tokens, contractions, letter runs, digits and symbol runs', () => {
    const pieces = (s: string): string[] => [...preTokenize(s)];
    assert.deepEqual(pieces("it's 42 don't!!<|endoftext|>x"), ['it', "'s", '4', '2', 'don', "'t", '!!<|', 'endoftext', '|>', 'x']);
    assert.deepEqual(pieces('<|startoftext|>hi <|endoftext|>'), ['<|startoftext|>', 'hi', '<|endoftext|>']);
    assert.deepEqual(pieces('caf\u00e9 \u4f60\u597d \u{1f600}\u{1f600} \u00bd'), ['caf\u00e9', '\u4f60\u597d', '\u{1f600}\u{1f600}', '\u00bd']);
  });

  it("follows the regex module's case-insensitive quirks", () => {
    const pieces = (s: string): string[] => [...preTokenize(s)];
    assert.deepEqual(pieces("x'\u017f"), ['x', "'\u017f"]);
    assert.deepEqual(pieces('a\u0345b'), ['a', 'b']);
    assert.deepEqual(pieces('a\ufeffb'), ['a', '\ufeff', 'b']);
  });
});
