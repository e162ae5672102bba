import { LEGACY_ENTITIES, LEGACY_MAX_LENGTH, NAMED_ENTITIES } from './html-entities.js';

/**
 * Two HTML unescapers with the exact semantics of the Python functions the CLIP
 * cleaner calls: `html.unescape` (standard library) and ftfy's `unescape_html`.
 * They differ on purpose: Python's accepts references without `;` and decodes the
 * longest legacy prefix of an unknown name; ftfy's only touches `&name;` /
 * `&#...;` and additionally decodes all-caps spellings such as `&EACUTE;`.
 */

// Python's `html._charref`. The `u` flag makes {1,32} count code points, as Python does.
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** Numeric references HTML5 maps to something other than the code point itself. */
const INVALID_CHARREFS: Record<number, string> = {
  0x00: '\ufffd', 0x0d: '\r', 0x80: '\u20ac', 0x81: '\x81', 0x82: '\u201a', 0x83: '\u0192',
  0x84: '\u201e', 0x85: '\u2026', 0x86: '\u2020', 0x87: '\u2021', 0x88: '\u02c6', 0x89: '\u2030',
  0x8a: '\u0160', 0x8b: '\u2039', 0x8c: '\u0152', 0x8d: '\x8d', 0x8e: '\u017d', 0x8f: '\x8f',
  0x90: '\x90', 0x91: '\u2018', 0x92: '\u2019', 0x93: '\u201c', 0x94: '\u201d', 0x95: '\u2022',
  0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc', 0x99: '\u2122', 0x9a: '\u0161', 0x9b: '\u203a',
  0x9c: '\u0153', 0x9d: '\x9d', 0x9e: '\u017e', 0x9f: '\u0178',
};

/** Code points Python's html.unescape drops entirely (controls and noncharacters). */
function isDroppedCodePoint(cp: number): boolean {
  return (
    (cp >= 0x01 && cp <= 0x08) || cp === 0x0b || (cp >= 0x0e && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe
  );
}

/** Value of the digits of a numeric reference, or Infinity when it is certainly out of range. */
function parseCharrefNumber(digits: string, radix: 10 | 16): number {
  const significant = digits.replace(/^0+/, '');
  // 0x10FFFF has 6 hex / 7 decimal digits; anything longer is out of range (and may overflow).
  if (significant.length > (radix === 16 ? 6 : 7)) return Infinity;
  return significant === '' ? 0 : parseInt(significant, radix);
}

function decodeNumeric(body: string): string {
  const hex = body[1] === 'x' || body[1] === 'X';
  const digits = body.slice(hex ? 2 : 1).replace(/;$/, '');
  const cp = parseCharrefNumber(digits, hex ? 16 : 10);
  const special = INVALID_CHARREFS[cp];
  if (special !== undefined) return special;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return '\ufffd';
  if (isDroppedCodePoint(cp)) return '';
  return String.fromCodePoint(cp);
}

function decodeNamed(body: string): string {
  const name = body.endsWith(';') ? body.slice(0, -1) : body;
  const exact = body.endsWith(';') ? NAMED_ENTITIES.get(name) : LEGACY_ENTITIES.get(name);
  if (exact !== undefined) return exact;
  // Longest prefix that is a semicolon-free legacy name, as the HTML5 tokenizer does
  // ("&notit;" -> "¬it;"). Python stops at prefixes of two characters.
  for (let x = Math.min(body.length - 1, LEGACY_MAX_LENGTH); x > 1; x--) {
    const hit = LEGACY_ENTITIES.get(body.slice(0, x));
    if (hit !== undefined) return hit + body.slice(x);
  }
  return '&' + body;
}

/** Python's `html.unescape` (one pass). */
export function pythonHtmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, (_m, body: string) => (body[0] === '#' ? decodeNumeric(body) : decodeNamed(body)));
}

// ftfy's HTML_ENTITY_RE: only complete, semicolon-terminated references.
const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;

/**
 * ftfy's entity table: every `&name;`, plus the all-caps spelling of each lowercase
 * name when that spelling does not already mean something to html.unescape
 * (so `&NTILDE;` → "Ñ", `&SZLIG;` → "SS", but `&AMP;` keeps its own meaning).
 */
function buildFtfyTable(): Map<string, string> {
  const table = new Map<string, string>();
  for (const [name, value] of NAMED_ENTITIES) table.set(`&${name};`, value);
  for (const [name, value] of NAMED_ENTITIES) {
    if (name !== name.toLowerCase()) continue;
    const upper = `&${name.toUpperCase()};`;
    if (pythonHtmlUnescape(upper) === upper) table.set(upper, value.toUpperCase());
  }
  return table;
}

let ftfyTable: Map<string, string> | undefined;

/** ftfy's `fixes.unescape_html`. */
export function ftfyUnescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  ftfyTable ??= buildFtfyTable();
  const table = ftfyTable;
  return text.replace(FTFY_ENTITY, (entity) => {
    const known = table.get(entity);
    if (known !== undefined) return known;
    if (entity.startsWith('&#')) {
      // ftfy only accepts a numeric reference that html.unescape consumes whole.
      const decoded = pythonHtmlUnescape(entity);
      return decoded.includes(';') ? entity : decoded;
    }
    return entity;
  });
}
