#!/usr/bin/python3
"""Extract the King James Version from Debian's bible-kjv(-text) and write deterministic splits.

Output (data/kjv/): train.txt, valid.txt, test.txt (one verse per line, no verse numbers; chapters are
separated by a blank line) and splits.json (which chapters went where, byte/verse counts, sha256).

Split rule: chapters are numbered 0..1188 in canonical order (Genesis 1 .. Revelation 22). Chapter i goes to
valid if i % 20 == 18, to test if i % 20 == 19, otherwise to train. Every chapter is one contiguous region of the
text, the three splits never overlap, and the held-out chapters are spread evenly over both testaments.

Usage: /usr/bin/python3 scripts/models/make_data.py [--out data/kjv]
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import tempfile

HEADER = re.compile(r"^(\S.*) (\d+)$")
VERSE = re.compile(r"^  (\d+) (.*)$")


def dump_bible():
    # -l200: wide lines (long verses still wrap; continuation lines are re-joined below).
    out = subprocess.run(["bible", "-p", "/usr/lib", "-l200", "gen1:1-rev22:21"], check=True,
                         capture_output=True, text=True, encoding="utf-8").stdout
    return out.split("\n")


def parse(lines):
    """Returns a list of chapters: (book, chapter_number, [verse texts])."""
    chapters = []
    for i, line in enumerate(lines):
        prev_blank = i == 0 or lines[i - 1].strip() == ""
        next_blank = i + 1 >= len(lines) or lines[i + 1].strip() == ""
        m = HEADER.match(line)
        if m and prev_blank and next_blank:
            chapters.append((m.group(1), int(m.group(2)), []))
            continue
        if line.strip() == "":
            continue
        v = VERSE.match(line)
        if v:
            chapters[-1][2].append(v.group(2))
        else:  # wrapped continuation of the previous verse
            chapters[-1][2][-1] += " " + line.strip()
    return [(b, c, [" ".join(t.split()) for t in vs]) for b, c, vs in chapters]


def split_of(i):
    return "valid" if i % 20 == 18 else "test" if i % 20 == 19 else "train"


def write_atomic(path, data):
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="data/kjv")
    args = ap.parse_args()
    chapters = parse(dump_bible())
    assert len(chapters) == 1189, len(chapters)
    nverses = sum(len(c[2]) for c in chapters)
    assert nverses == 31102, nverses
    texts = {"train": [], "valid": [], "test": []}
    members = {"train": [], "valid": [], "test": []}
    for i, (book, ch, verses) in enumerate(chapters):
        s = split_of(i)
        texts[s].append("\n".join(verses) + "\n")
        members[s].append(f"{book} {ch}")
    os.makedirs(args.out, exist_ok=True)
    info = {"source": "Debian bible-kjv-text 4.38 via bible-kjv 4.38: bible -p /usr/lib -l200 gen1:1-rev22:21",
            "rule": "chapter index i (0-based, canonical order): i%20==18 -> valid, i%20==19 -> test, else train",
            "chapters_total": len(chapters), "verses_total": nverses, "splits": {}}
    for s in ("train", "valid", "test"):
        data = "\n".join(texts[s]).encode("utf-8")
        write_atomic(os.path.join(args.out, f"{s}.txt"), data)
        info["splits"][s] = {"file": f"{s}.txt", "bytes": len(data), "chapters": len(members[s]),
                             "verses": sum(t.count("\n") for t in texts[s]),
                             "sha256": hashlib.sha256(data).hexdigest(),
                             "chapter_list": members[s] if s != "train" else None}
        print(s, info["splits"][s]["bytes"], "bytes", info["splits"][s]["chapters"], "chapters")
    write_atomic(os.path.join(args.out, "splits.json"), (json.dumps(info, indent=1) + "\n").encode())


if __name__ == "__main__":
    main()
