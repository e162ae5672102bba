import { ftfyUnescapeHtml } from './html-unescape.js';

/**
 * The part of `ftfy.fix_text` (ftfy 6.x, default configuration) that OpenAI's CLIP
 * cleaner depends on for ordinary text, reproduced step for step:
 *
 * - the text is fixed one line at a time (each segment ends after a "\n", and is at
 *   most 1,000,000 code points);
 * - HTML entities are unescaped ("auto"): once a line containing "<" has been seen,
 *   this line and every later one keep their entities;
 * - then, repeated until nothing changes: unescape_html, fix_c1_controls (U+0080..
 *   U+009F read as Windows-1252), fix_latin_ligatures, fix_character_width,
 *   uncurl_quotes, fix_line_breaks, fix_surrogates, remove_terminal_escapes,
 *   remove_control_chars, NFC.
 *
 * NOT reproduced: `fix_encoding`, ftfy's mojibake detector (with restore_byte_a0,
 * replace_lossy_sequences and decode_inconsistent_utf8). It only acts on text that
 * its "badness" heuristic flags as mis-decoded UTF-8 (e.g. "cafÃ©" → "café"), which
 * correctly encoded input never is; such text is tokenized as it stands.
 */

/** Windows-1252's meaning of bytes 0x80..0x9F; its five undefined bytes stay as they are. */
const CP1252_C1 =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

const LIGATURES: Record<string, string> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn', '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz',
  '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e', '\u01c7': 'LJ', '\u01c8': 'Lj',
  '\u01c9': 'lj', '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj', '\ufb00': 'ff', '\ufb01': 'fi',
  '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};

const C1_RE = /[\x80-\x9f]/g;
const LIGATURE_RE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/g;
const SINGLE_QUOTE_RE = /[\u02bc\u2018-\u201b]/g;
const LINE_BREAK_RE = /\r\n?|[\u2028\u2029\x85]/g;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Python's \d in a str pattern is any Nd digit, hence \p{Nd}.
const ANSI_RE = /\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu;
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

let widthMap: Map<string, string> | undefined;

/** Fullwidth/halfwidth forms → their NFKC equivalents, and U+3000 → space (ftfy's WIDTH_MAP). */
function widthReplacement(ch: string): string {
  if (!widthMap) {
    widthMap = new Map([['\u3000', ' ']]);
    for (let cp = 0xff01; cp < 0xfff0; cp++) {
      const c = String.fromCharCode(cp);
      const alt = c.normalize('NFKC');
      if (alt !== c) widthMap.set(c, alt);
    }
  }
  return widthMap.get(ch) ?? ch;
}

/** One pass of ftfy's fixers over a segment, in ftfy's order. */
function fixOnce(text: string, unescape: boolean): string {
  let t = unescape ? ftfyUnescapeHtml(text) : text;
  t = t.replace(C1_RE, (c) => CP1252_C1[c.charCodeAt(0) - 0x80] as string);
  t = t.replace(LIGATURE_RE, (c) => LIGATURES[c] as string);
  t = t.replace(WIDTH_RE, widthReplacement);
  t = t.replace(DOUBLE_QUOTE_RE, '"').replace(SINGLE_QUOTE_RE, "'");
  t = t.replace(LINE_BREAK_RE, '\n');
  t = t.replace(LONE_SURROGATE_RE, '\ufffd');
  t = t.replace(ANSI_RE, '');
  t = t.replace(CONTROL_RE, '');
  return t.normalize('NFC');
}

function fixSegment(segment: string, unescape: boolean): string {
  // ftfy repeats every fixer until the text is stable ("&amp;amp;" ends as "&").
  let text = segment;
  for (;;) {
    const fixed = fixOnce(text, unescape);
    if (fixed === text) return fixed;
    text = fixed;
  }
}

const MAX_SEGMENT = 1_000_000;

/** Index `count` code points after `from` (or the end of the string). */
function advanceCodePoints(text: string, from: number, count: number): number {
  let i = from;
  for (let n = 0; n < count && i < text.length; n++) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return i;
}

/** `ftfy.fix_text(text)` without the mojibake detector (see the module comment). */
export function ftfyFixText(text: string): string {
  let out = '';
  let unescape = true;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos) + 1;
    if (end === 0) end = text.length;
    // Python measures the segment in code points; UTF-16 length is an upper bound.
    if (end - pos > MAX_SEGMENT) end = Math.min(end, advanceCodePoints(text, pos, MAX_SEGMENT));
    const segment = text.slice(pos, end);
    if (unescape && segment.includes('<')) unescape = false;
    out += fixSegment(segment, unescape);
    pos = end;
  }
  return out;
}
