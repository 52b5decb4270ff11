#!/usr/bin/python3
"""A small byte-level BPE (GPT-2 style) trainer and encoder, written without tokenizer libraries.

Pre-tokenisation follows the GPT-2 split regex [1]
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
emulated with Python's `re` (\\p{L} -> [^\\W\\d_], \\p{N} -> \\d); the two agree on ASCII text, which is all the
KJV contains. Bytes are mapped to printable characters with GPT-2's bytes_to_unicode table, so the emitted
tokenizer.json is an ordinary Hugging Face ByteLevel BPE [2].

Vocabulary: ids 0..255 are the single bytes (id == byte value), then merged tokens in merge order, then the
special token <|endoftext|> as the last id.

[1] Radford et al., "Language Models are Unsupervised Multitask Learners", 2019 (encoder.py of openai/gpt-2).
[2] https://huggingface.co/docs/tokenizers/api/models#tokenizers.models.BPE

Usage: /usr/bin/python3 scripts/models/bpe.py --train data/kjv/train.txt --vocab-size 2048 --out <dir>
"""
import argparse
import collections
import json
import os
import re
import tempfile

SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
EOT = "<|endoftext|>"


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def pretokenize(text):
    return SPLIT.findall(text)


def to_units(piece):
    return tuple(B2U[b] for b in piece.encode("utf-8"))


def train(text, vocab_size):
    """Learns merges until the vocabulary (bytes + merges + <|endoftext|>) has `vocab_size` entries.
    Ties between equally frequent pairs are broken by the lexicographically smallest pair, so the result is
    deterministic. Returns (vocab: dict str->id, merges: list of (a, b))."""
    counts = collections.Counter(pretokenize(text))
    words = [list(to_units(w)) for w in counts]
    freqs = list(counts.values())
    vocab = {B2U[b]: b for b in range(256)}
    merges = []
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for wi, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_counts[p] += freqs[wi]
            where[p].add(wi)
    target = vocab_size - 1  # room for <|endoftext|>
    while len(vocab) < target and pair_counts:
        best = max(pair_counts.items(), key=lambda kv: (kv[1], _neg(kv[0])))[0]
        if pair_counts[best] < 2:
            break
        a, b = best
        new = a + b
        merges.append(best)
        if new not in vocab:
            vocab[new] = len(vocab)
        for wi in list(where[best]):
            w = words[wi]
            f = freqs[wi]
            for p in zip(w, w[1:]):
                pair_counts[p] -= f
                if pair_counts[p] <= 0:
                    del pair_counts[p]
            nw = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    nw.append(new)
                    i += 2
                else:
                    nw.append(w[i])
                    i += 1
            for p in zip(w, w[1:]):
                where[p].discard(wi)
            for p in zip(nw, nw[1:]):
                pair_counts[p] += f
                where[p].add(wi)
            words[wi] = nw
        pair_counts.pop(best, None)
        where.pop(best, None)
    vocab[EOT] = len(vocab)
    return vocab, merges


class _neg:
    """Inverts string ordering so max() picks the lexicographically smallest pair among ties."""
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __lt__(self, o):
        return self.v > o.v

    def __eq__(self, o):
        return self.v == o.v


class Encoder:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.inv = {i: s for s, i in vocab.items()}
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.cache = {}
        self.eot = vocab[EOT]

    def _bpe(self, piece):
        w = list(to_units(piece))
        while len(w) > 1:
            pairs = [(self.ranks.get(p, 1 << 30), i) for i, p in enumerate(zip(w, w[1:]))]
            r, _ = min(pairs)
            if r == 1 << 30:
                break
            a, b = next(p for p in zip(w, w[1:]) if self.ranks.get(p) == r)
            nw, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    nw.append(a + b)
                    i += 2
                else:
                    nw.append(w[i])
                    i += 1
            w = nw
        return [self.vocab[t] for t in w]

    def encode(self, text):
        """Token ids of `text` (no special tokens added)."""
        out = []
        for piece in pretokenize(text):
            ids = self.cache.get(piece)
            if ids is None:
                ids = self._bpe(piece)
                self.cache[piece] = ids
            out.extend(ids)
        return out

    def decode(self, ids):
        s = "".join(self.inv[i] for i in ids if i != self.eot)
        return bytes(U2B[c] for c in s).decode("utf-8", errors="replace")


def tokenizer_json(vocab, merges):
    eot = vocab[EOT]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": eot, "content": EOT, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }


def tokenizer_config(max_len):
    return {"add_bos_token": False, "add_prefix_space": False, "bos_token": EOT, "eos_token": EOT, "unk_token": EOT,
            "pad_token": None, "clean_up_tokenization_spaces": False, "model_max_length": max_len,
            "tokenizer_class": "GPT2Tokenizer"}


def load(path):
    """Loads (vocab, merges) back from a tokenizer.json written by this module."""
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    return j["model"]["vocab"], [tuple(m.split(" ")) for m in j["model"]["merges"]]


def write_json_atomic(path, obj):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1 if not isinstance(obj, dict) or "model" not in obj else None)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="data/kjv/train.txt")
    ap.add_argument("--vocab-size", type=int, default=2048)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-len", type=int, default=256)
    args = ap.parse_args()
    text = open(args.train, encoding="utf-8").read()
    vocab, merges = train(text, args.vocab_size)
    os.makedirs(args.out, exist_ok=True)
    write_json_atomic(os.path.join(args.out, "tokenizer.json"), tokenizer_json(vocab, merges))
    write_json_atomic(os.path.join(args.out, "tokenizer_config.json"), tokenizer_config(args.max_len))
    enc = Encoder(vocab, merges)
    ids = enc.encode(text[:20000])
    assert enc.decode(ids) == text[:20000]
    print(f"vocab {len(vocab)} merges {len(merges)}; {20000 / len(ids):.3f} bytes/token on the first 20k chars")


if __name__ == "__main__":
    main()
