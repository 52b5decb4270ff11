#!/usr/bin/python3
"""Writes tokenizer test cases (text + ids from our Python encoder) for check_tokenizer.mjs.
Usage: /usr/bin/python3 scripts/models/check_tokenizer.py <model dir> <out cases.json>"""
import json
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import bpe

model_dir, out = sys.argv[1], sys.argv[2]
enc = bpe.Encoder(*bpe.load(f"{model_dir}/tokenizer.json"))
test = open("data/kjv/test.txt", encoding="utf-8").read()
texts = [
    "In the beginning God created the heaven and the earth.",
    "Once upon a time, there's a cat   with 3 legs;\n\n  and it's 2026!  ",
    "Modern text: e-mail_addresses & URLs http://example.org/a?b=1 -- don't  panic.\t\tTabs\n",
    "Ünïcödé ñ 日本語 emoji 🙂 mixed with ASCII",
    " leading space", "trailing space ", "\n", "a", "'s 're 've 'm 'll 'd 'S",
    test[:4000], test[50000:90000],
]
texts += [l for l in test.split("\n")[:300] if l]
cases = [{"text": t, "ids": enc.encode(t)} for t in texts]
for c in cases:
    assert enc.decode(c["ids"]) == c["text"], c["text"][:50]
json.dump(cases, open(out, "w"), ensure_ascii=False)
print(len(cases), "cases")
