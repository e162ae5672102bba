#!/usr/bin/env python3
"""Independent reference for the OpenAI CLIP tokenizer (developer tool, not product code).

clipflow's TypeScript tokenizer (executors/clip/tokenizer/) must produce the same ids
as OpenAI's `clip.simple_tokenizer.SimpleTokenizer`. This script re-implements that
tokenizer from its published description so the TypeScript port can be checked
against a second implementation written in the language the original runs in:

  ids = BPE(pre_tokenize(lower(whitespace_clean(basic_clean(text)))))
  basic_clean      = ftfy.fix_text -> html.unescape twice -> str.strip
  whitespace_clean = regex-module \\s+ -> ' ' -> str.strip
  pre_tokenize     = <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|
                     [\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+  (regex module, IGNORECASE)
  BPE              = bytes -> printable unicode map, '</w>' on the last symbol,
                     repeatedly merge the lowest-ranked adjacent pair

ftfy is not packaged for Debian, so `fix_text` is reproduced here for ftfy 6.x's
default configuration WITHOUT its mojibake detector (`fix_encoding`); every other
step (HTML unescaping with the 'auto' rule, C1 controls, Latin ligatures, character
width, curly quotes, line breaks, surrogates, terminal escapes, control characters,
NFC, repeat until stable, one line at a time) is here. html.unescape is the
standard library's, with the full HTML5 entity table.

Requires the `regex` module (Debian: apt-get install python3-regex; run with
/usr/bin/python3).

Usage:
  clip_tokenizer_reference.py encode "some text" [more texts...]
  clip_tokenizer_reference.py cases OUT.json         # ids for the built-in inputs
  clip_tokenizer_reference.py tiny-tokenizer OUT.json [N_MERGES]
  clip_tokenizer_reference.py check-known KNOWN.json # verify hand-collected sequences
"""

import gzip
import html
import html.entities
import json
import os
import re as stdlib_re
import sys
import unicodedata

try:
    import regex
except ImportError:  # pragma: no cover - developer tool
    sys.exit("needs the 'regex' module (apt-get install python3-regex, then use /usr/bin/python3)")

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VOCAB = os.path.join(HERE, "..", "..", "executors", "clip", "tokenizer", "bpe_simple_vocab_16e6.txt.gz")

# ---------------------------------------------------------------- ftfy subset
# The order of the fixers and the repeat-until-stable loop follow ftfy 6's
# fix_and_explain; the table definitions follow ftfy's chardata module.

_ENTITY_RE = stdlib_re.compile(r"&#?[0-9A-Za-z]{1,24};")


def _ftfy_entities():
    table = {}
    for name, char in html.entities.html5.items():
        if not name.endswith(";"):
            continue
        table["&" + name] = char
        # all-caps spellings of lowercase entities, unless that spelling means something else
        if name == name.lower():
            upper = "&" + name.upper()
            if html.unescape(upper) == upper:
                table[upper] = char.upper()
    return table


_FTFY_ENTITIES = _ftfy_entities()


def _ftfy_unescape(text):
    def one(m):
        s = m.group(0)
        if s in _FTFY_ENTITIES:
            return _FTFY_ENTITIES[s]
        if s.startswith("&#"):
            out = html.unescape(s)
            return s if ";" in out else out
        return s

    return _ENTITY_RE.sub(one, text)


def _c1(m):
    try:
        return bytes([ord(m.group(0))]).decode("cp1252")
    except UnicodeDecodeError:  # the 'sloppy' codec keeps undefined bytes as themselves
        return m.group(0)


_LIGATURES = {0x132: "IJ", 0x133: "ij", 0x149: "\u02bcn", 0x1F1: "DZ", 0x1F2: "Dz", 0x1F3: "dz",
              0x1C4: "D\u017d", 0x1C5: "D\u017e", 0x1C6: "d\u017e", 0x1C7: "LJ", 0x1C8: "Lj", 0x1C9: "lj",
              0x1CA: "NJ", 0x1CB: "Nj", 0x1CC: "nj", 0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl",
              0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "\u017ft", 0xFB06: "st"}
_WIDTH = {0x3000: " "}
for _cp in range(0xFF01, 0xFFF0):
    _alt = unicodedata.normalize("NFKC", chr(_cp))
    if _alt != chr(_cp):
        _WIDTH[_cp] = _alt
_CONTROL = {c: None for c in [*range(0, 9), 0x0B, *range(0x0E, 0x20), 0x7F, *range(0x206A, 0x2070),
                              0xFEFF, *range(0xFFF9, 0xFFFD)]}
_ANSI_RE = stdlib_re.compile("\x1b\\[((?:\\d|;)*)([a-zA-Z])")


def _fix_surrogates(text):
    if not stdlib_re.search("[\ud800-\udfff]", text):
        return text
    text = stdlib_re.sub("[\ud800-\udbff][\udc00-\udfff]",
                         lambda m: chr(0x10000 + (ord(m.group(0)[0]) - 0xD800) * 0x400 + ord(m.group(0)[1]) - 0xDC00),
                         text)
    return stdlib_re.sub("[\ud800-\udfff]", "\ufffd", text)


def _fix_segment(text, unescape):
    while True:
        orig = text
        if unescape:
            text = _ftfy_unescape(text)
        # (ftfy's fix_encoding -- the mojibake detector -- is not reproduced)
        text = stdlib_re.sub("[\x80-\x9f]", _c1, text)
        text = text.translate(_LIGATURES)
        text = text.translate(_WIDTH)
        text = stdlib_re.sub("[\u201c-\u201f]", '"', text)
        text = stdlib_re.sub("[\u02bc\u2018-\u201b]", "'", text)
        text = (text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
                .replace("\u2029", "\n").replace("\x85", "\n"))
        text = _fix_surrogates(text)
        text = _ANSI_RE.sub("", text)
        text = text.translate(_CONTROL)
        text = unicodedata.normalize("NFC", text)
        if text == orig:
            return text


def fix_text(text, max_len=1_000_000):
    out, pos, unescape = [], 0, True
    while pos < len(text):
        brk = text.find("\n", pos) + 1
        if brk == 0:
            brk = len(text)
        if brk - pos > max_len:
            brk = pos + max_len
        seg = text[pos:brk]
        if "<" in seg:  # 'auto': once a line looks like HTML, stop unescaping for good
            unescape = False
        out.append(_fix_segment(seg, unescape))
        pos = brk
    return "".join(out)


# ---------------------------------------------------------------- tokenizer

def byte_table():
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("\xa1"), ord("\xac") + 1), *range(ord("\xae"), ord("\xff") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    # vocabulary order: the kept bytes first (ascending), then the remapped ones
    order = keep + [b for b in range(256) if b not in keep]
    return chars, order


class Reference:
    PATTERN = regex.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+",
                            regex.IGNORECASE)

    def __init__(self, vocab_path=DEFAULT_VOCAB):
        self.byte_char, order = byte_table()
        lines = gzip.open(vocab_path).read().decode("utf-8").split("\n")
        self.merges = [tuple(line.split()) for line in lines[1:48895]]
        symbols = [self.byte_char[b] for b in order]
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in self.merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.vocab = vocab
        self.ids = {tok: i for i, tok in enumerate(vocab)}
        self.rank = {m: i for i, m in enumerate(self.merges)}

    def bpe(self, token):
        if token in ("<|startoftext|>", "<|endoftext|>"):
            return [token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.rank.get(p, float("inf")))
            if best not in self.rank:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == best[0] and word[i + 1] == best[1]:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return word

    def clean(self, text):
        text = html.unescape(html.unescape(fix_text(text))).strip()
        return regex.sub(r"\s+", " ", text).strip().lower()

    def encode(self, text):
        out = []
        for piece in self.PATTERN.findall(self.clean(text)):
            if piece in ("<|startoftext|>", "<|endoftext|>"):
                out.append(self.ids[piece])
                continue
            mapped = "".join(self.byte_char[b] for b in piece.encode("utf-8"))
            out.extend(self.ids[t] for t in self.bpe(mapped))
        return out


# ---------------------------------------------------------------- fixtures

def case_inputs():
    """~200 varied strings; tags say what each one exercises."""
    from reference_inputs import INPUTS  # kept beside this file to keep both readable
    return INPUTS


def write_cases(path):
    ref = Reference()
    cases = [{"text": text, "tags": tags, "ids": ref.encode(text)} for text, tags in case_inputs()]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/reference/clip_tokenizer_reference.py cases (regex module, Unicode of CPython 3.11)",
                   "note": ("ids are encode() output (no SOT/EOT) of OpenAI's algorithm with ftfy.fix_text minus its "
                            "mojibake detector; inputs hold no mojibake and no HTML5-only entity names"),
                   "cases": cases}, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


def write_tiny_tokenizer(path, n_merges=2000):
    """An HF-style tokenizer.json holding the real vocab's first N merges (and only the
    tokens they need), so loader tests run on a file of a few hundred KB."""
    ref = Reference()
    _, order = byte_table()
    symbols = [ref.byte_char[b] for b in order]
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in ref.merges[:n_merges]]
    vocab = {tok: i for i, tok in enumerate(tokens)}
    vocab["<|startoftext|>"] = len(tokens)
    vocab["<|endoftext|>"] = len(tokens) + 1
    doc = {
        "version": "1.0",
        "added_tokens": [
            {"id": len(tokens), "content": "<|startoftext|>", "special": True},
            {"id": len(tokens) + 1, "content": "<|endoftext|>", "special": True},
        ],
        "model": {"type": "BPE", "end_of_word_suffix": "</w>", "continuing_subword_prefix": "",
                  "vocab": vocab, "merges": [" ".join(m) for m in ref.merges[:n_merges]]},
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    print(f"wrote {len(tokens) + 2} tokens, {n_merges} merges to {path}")


def check_known(path):
    ref = Reference()
    known = json.load(open(path, encoding="utf-8"))["sequences"]
    bad = 0
    for item in known:
        got = ref.encode(item["text"])
        if got != item["ids"]:
            bad += 1
            print(f"MISMATCH {item['text']!r}: reference {got} vs known {item['ids']}")
    print(f"{len(known) - bad}/{len(known)} known sequences agree with the reference")
    return bad == 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "encode":
        ref = Reference()
        for text in argv[1:]:
            print(json.dumps(text), ref.encode(text))
    elif len(argv) == 2 and argv[0] == "cases":
        write_cases(argv[1])
    elif len(argv) in (2, 3) and argv[0] == "tiny-tokenizer":
        write_tiny_tokenizer(argv[1], int(argv[2]) if len(argv) == 3 else 2000)
    elif len(argv) == 2 and argv[0] == "check-known":
        sys.exit(0 if check_known(argv[1]) else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main(sys.argv[1:])
