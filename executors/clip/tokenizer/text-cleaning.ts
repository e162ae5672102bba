import { ftfyFixText } from './ftfy-fixes.js';
import { pythonHtmlUnescape } from './html-unescape.js';

/**
 * OpenAI CLIP's text normalisation, `whitespace_clean(basic_clean(text)).lower()`,
 * and its pre-tokenisation regex, with Python's character classes spelled out:
 *
 * - basic_clean: ftfy.fix_text (see ftfy-fixes.ts), html.unescape twice, str.strip();
 * - whitespace_clean: the `regex` module's \s+ → " ", str.strip();
 * - str.lower() (JS toLowerCase applies the same full Unicode mapping, final sigma included).
 *
 * The two whitespace notions differ: str.strip() also strips U+001C..U+001F, the
 * regex module's \s does not; JS's \s differs from both (it has U+FEFF), so neither
 * is used here.
 *
 * \p{L} / \p{N}, NFC and lowercasing come from Node's Unicode tables (ICU). Python
 * has its own, often older, version: for characters assigned after it (e.g. new
 * scripts of Unicode 15-17) OpenAI's Python sees "unassigned" where we see a letter.
 * On everything assigned in Unicode 14 the two agree (checked code point by code point).
 */

/** Python's str.isspace() characters (what str.strip() removes). */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** The `regex` module's \s (Unicode White_Space). */
const REGEX_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const STRIP_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
const SPACE_RUN_RE = new RegExp(`[${REGEX_SPACE}]+`, 'g');

/**
 * CLIP's pre-tokeniser: special tokens, contractions, letter runs, single digits,
 * runs of anything else that is not whitespace. `i` + `u` give the same simple case
 * folding as the regex module's IGNORECASE (so "'ſ" still matches 's).
 */
const PRE_TOKEN_RE = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${REGEX_SPACE}\\p{L}\\p{N}]+`,
  'giu',
);

// Text made only of these needs no ftfy or HTML work: the common caption fast path.
const PLAIN_ASCII_RE = /^[\x20-\x25\x27-\x7e\t\n]*$/;

/** Python's `str.strip()`. */
export function pyStrip(text: string): string {
  return text.replace(STRIP_RE, '');
}

/** `basic_clean`: ftfy.fix_text, html.unescape twice, strip. */
export function basicClean(text: string): string {
  if (PLAIN_ASCII_RE.test(text)) return pyStrip(text);
  return pyStrip(pythonHtmlUnescape(pythonHtmlUnescape(ftfyFixText(text))));
}

/** `whitespace_clean`: collapse whitespace runs to one space, strip. */
export function whitespaceClean(text: string): string {
  return pyStrip(text.replace(SPACE_RUN_RE, ' '));
}

/** The full normalisation CLIP applies before pre-tokenising. */
export function cleanText(text: string): string {
  return whitespaceClean(basicClean(text)).toLowerCase();
}

/**
 * The pieces CLIP's regex finds in already-cleaned text, in order (a generator so a
 * truncating caller can stop early).
 */
export function* preTokenize(cleaned: string): Generator<string> {
  // U+0345 (combining ypogegrammeni) is matched by no alternative of the regex
  // module's IGNORECASE pattern, while JS's case folding lets [\p{L}] take it; a space
  // behaves exactly like it (a separator that yields nothing).
  const text = cleaned.includes('\u0345') ? cleaned.replaceAll('\u0345', ' ') : cleaned;
  for (const m of text.matchAll(PRE_TOKEN_RE)) yield m[0];
}
