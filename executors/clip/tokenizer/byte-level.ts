/**
 * GPT-2/CLIP byte-level alphabet: every byte gets a printable stand-in character so
 * the BPE vocabulary never contains whitespace or control characters.
 *
 * Bytes that are already printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for
 * themselves; the other 68 bytes map, in increasing order, to U+0100, U+0101, ...
 * The vocabulary lists the 256 stand-ins in that order: printable bytes first
 * (ascending), then the remapped ones.
 */

function isPrintableByte(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

function buildTables(): { byteToChar: string[]; vocabOrder: number[] } {
  const byteToChar: string[] = new Array<string>(256);
  const printable: number[] = [];
  const remapped: number[] = [];
  let next = 0x100;
  for (let b = 0; b < 256; b++) {
    if (isPrintableByte(b)) {
      byteToChar[b] = String.fromCharCode(b);
      printable.push(b);
    } else {
      byteToChar[b] = String.fromCharCode(next++);
      remapped.push(b);
    }
  }
  return { byteToChar, vocabOrder: [...printable, ...remapped] };
}

const TABLES = buildTables();

/** Byte value → its stand-in character. */
export const BYTE_TO_CHAR: readonly string[] = TABLES.byteToChar;

/** The 256 bytes in the order their stand-ins open the CLIP vocabulary. */
export const BYTE_VOCAB_ORDER: readonly number[] = TABLES.vocabOrder;

/** Stand-in character code → byte value (-1 for characters that are no stand-in). */
export const CHAR_CODE_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(0x200).fill(-1);
  TABLES.byteToChar.forEach((c, b) => {
    table[c.charCodeAt(0)] = b;
  });
  return table;
})();

const encoder = new TextEncoder();

/** UTF-8 bytes of a string (lone surrogates cannot reach here: the cleaner replaced them). */
export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}
