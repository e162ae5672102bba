/**
 * Named HTML character references that the CLIP text cleaner decodes.
 *
 * OpenAI's cleaner runs Python's `html.unescape` (the full 2,231-name HTML5 table)
 * and ftfy's own unescaper. We carry the HTML 4 set (252 names, which covers what
 * real captions contain: Latin-1 letters, Greek, typographic punctuation, arrows,
 * maths), `&apos;`, and the all-caps spellings HTML5 added for the legacy names
 * (`&AMP;`, `&TRADE;` ...), with HTML5's values (so `&lang;` is U+27E8, not U+2329).
 * Names only HTML5 knows (`&check;`, `&HilbertSpace;` ...) stay as text: a
 * documented gap. Numeric references (`&#...;`, `&#x...;`) are decoded in full
 * by html-unescape.ts and need no table.
 */

/** The 96 names of U+00A0..U+00FF, in code point order. */
const LATIN1 = (
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr ' +
  'deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest ' +
  'Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ' +
  'ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig ' +
  'agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml ' +
  'eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'
).split(' ');

/** Greek capitals U+0391..U+03A9 (U+03A2 is unassigned) and small letters U+03B1..U+03C9. */
const GREEK_UPPER = 'Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho _ Sigma Tau Upsilon Phi Chi Psi Omega'.split(' ');
const GREEK_LOWER = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigmaf sigma tau upsilon phi chi psi omega'.split(' ');

/** Everything else in HTML 4 (plus `apos`), name → code point. */
const OTHERS: Record<string, number> = {
  quot: 34, amp: 38, apos: 39, lt: 60, gt: 62,
  OElig: 338, oelig: 339, Scaron: 352, scaron: 353, Yuml: 376, fnof: 402, circ: 710, tilde: 732,
  thetasym: 977, upsih: 978, piv: 982,
  ensp: 0x2002, emsp: 0x2003, thinsp: 0x2009, zwnj: 0x200c, zwj: 0x200d, lrm: 0x200e, rlm: 0x200f,
  ndash: 0x2013, mdash: 0x2014, lsquo: 0x2018, rsquo: 0x2019, sbquo: 0x201a, ldquo: 0x201c,
  rdquo: 0x201d, bdquo: 0x201e, dagger: 0x2020, Dagger: 0x2021, bull: 0x2022, hellip: 0x2026,
  permil: 0x2030, prime: 0x2032, Prime: 0x2033, lsaquo: 0x2039, rsaquo: 0x203a, oline: 0x203e,
  frasl: 0x2044, euro: 0x20ac, image: 0x2111, weierp: 0x2118, real: 0x211c, trade: 0x2122,
  alefsym: 0x2135, larr: 0x2190, uarr: 0x2191, rarr: 0x2192, darr: 0x2193, harr: 0x2194,
  crarr: 0x21b5, lArr: 0x21d0, uArr: 0x21d1, rArr: 0x21d2, dArr: 0x21d3, hArr: 0x21d4,
  forall: 0x2200, part: 0x2202, exist: 0x2203, empty: 0x2205, nabla: 0x2207, isin: 0x2208,
  notin: 0x2209, ni: 0x220b, prod: 0x220f, sum: 0x2211, minus: 0x2212, lowast: 0x2217,
  radic: 0x221a, prop: 0x221d, infin: 0x221e, ang: 0x2220, and: 0x2227, or: 0x2228, cap: 0x2229,
  cup: 0x222a, int: 0x222b, there4: 0x2234, sim: 0x223c, cong: 0x2245, asymp: 0x2248, ne: 0x2260,
  equiv: 0x2261, le: 0x2264, ge: 0x2265, sub: 0x2282, sup: 0x2283, nsub: 0x2284, sube: 0x2286,
  supe: 0x2287, oplus: 0x2295, otimes: 0x2297, perp: 0x22a5, sdot: 0x22c5, lceil: 0x2308,
  rceil: 0x2309, lfloor: 0x230a, rfloor: 0x230b, lang: 0x27e8, rang: 0x27e9, loz: 0x25ca,
  spades: 0x2660, clubs: 0x2663, hearts: 0x2665, diams: 0x2666,
  // HTML5's all-caps aliases of names above. They must be listed: ftfy's rule for
  // all-caps spellings (html-unescape.ts) asks whether html.unescape knows the name.
  AMP: 38, LT: 60, GT: 62, QUOT: 34, COPY: 0xa9, REG: 0xae, TRADE: 0x2122,
};

function buildNamed(): Map<string, string> {
  const named = new Map<string, string>();
  LATIN1.forEach((name, i) => named.set(name, String.fromCodePoint(0xa0 + i)));
  GREEK_UPPER.forEach((name, i) => name !== '_' && named.set(name, String.fromCodePoint(0x391 + i)));
  GREEK_LOWER.forEach((name, i) => named.set(name, String.fromCodePoint(0x3b1 + i)));
  for (const [name, cp] of Object.entries(OTHERS)) named.set(name, String.fromCodePoint(cp));
  return named;
}

/** Entity name (without `&` and `;`) → replacement text. */
export const NAMED_ENTITIES: ReadonlyMap<string, string> = buildNamed();

/**
 * Names HTML5 also recognises WITHOUT a trailing semicolon ("legacy" references such
 * as `&amp` or `&copy`): the Latin-1 block, amp/lt/gt/quot and six all-caps aliases.
 * Python's html.unescape decodes these even when letters follow (`&notit;` → `¬it;`).
 */
export const LEGACY_ENTITIES: ReadonlyMap<string, string> = new Map(
  [...LATIN1, 'amp', 'lt', 'gt', 'quot', 'AMP', 'LT', 'GT', 'QUOT', 'COPY', 'REG'].map((name) => [
    name,
    NAMED_ENTITIES.get(name) as string,
  ]),
);

/** Longest legacy name, so the prefix search never looks further than it can match. */
export const LEGACY_MAX_LENGTH = Math.max(...[...LEGACY_ENTITIES.keys()].map((n) => n.length));
