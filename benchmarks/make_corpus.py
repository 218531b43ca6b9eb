"""Build the English benchmark corpus from the GNU Collaborative International Dictionary of English.

Input: the dictd database of Debian's ``dict-gcide`` package (``/usr/share/dictd/gcide.dict.dz``,
gzip-compressed text): ``apt-get install dict-gcide``.

Output, in ``benchmarks/data/`` (or ``--out``):

- ``corpus.txt``: the definitions, usage notes and quotations as running text, one paragraph (a
  sense, a note or a quotation) per line, lower-cased, punctuation split off as separate tokens
  (``. , ; : ? !``), markup removed: headwords and pronunciations, ``{cross references}`` braces,
  ``[bracketed]`` etymologies and source tags, sense numbers, ``--Author.`` attributions and the
  licence header.
- ``questions-words.txt``, ``wordsim353.tsv``, ``simlex999.txt``: copies of the evaluation sets
  that ship in gensim's test data, when gensim is installed.

Usage::

    python benchmarks/make_corpus.py [--dict PATH] [--out DIR] [--etymologies]
"""
import argparse
import gzip
import os
import re
import shutil
import sys
import time

from embedcore._io import atomic_write

DEFAULT_DICT = "/usr/share/dictd/gcide.dict.dz"
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
EVAL_FILES = ("questions-words.txt", "wordsim353.tsv", "simlex999.txt")

PRONUNCIATION = re.compile(r"\\[^\\\n]*\\")                   # \A*ban"don\
CODED_PARENS = re.compile(r"\([^()\n]*[\[\]*\"^][^()\n]*\)")   # ([.a]*b[a^]n"d[u^]n)
BRACKETS = re.compile(r"\[[^\[\]]*\]")                          # [1913 Webster], [OF. ...]
SOURCE_TAGS = re.compile(r"\[(?:1913 Webster|WordNet[^\]]*|PJC|Obs\.|R\.|Colloq\.|[^\]]{0,3})\]")
ATTRIBUTION = re.compile(r"--(?=[A-Z])[^\n]*")                  # --Shak.  --I. Taylor.
LABEL = re.compile(r"^\s*(?:syn|usage|note|see also|see|antonym|ant)\s*:", re.I)
SENSE_MARK = re.compile(r"(?:^|(?<=\s))(?:\d+\.|\([a-z0-9]\))(?=\s)")
FIRST_ENTRY = re.compile(r"(?m)^\S[^\n]*?\\[^\\\n]+\\")            # 0 \0\ adj.
SYLLABLE_MARK = re.compile(r"(?<=\w)[*\"`](?=\w)|(?<=\w)[*\"`](?=\W|$)")  # Ex*ag"ger*a`ted
LEADING_BLANK_LINES = re.compile(r"^(?:[ \t]*\n)+")
TOKEN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*|[.,;:?!]")


def paragraphs(text):
    """Blank-line separated blocks of the dictionary after the licence header; each entry (a line
    that starts in column 0) begins a new block even where no blank line precedes it."""
    header_end = text.find("around the world.")
    first_entry = FIRST_ENTRY.search(text, max(header_end, 0))
    text = text[first_entry.start() if first_entry else 0:]
    text = re.sub(r"\n(?=\S)", "\n\n", text)
    for block in re.split(r"\n[ \t]*\n", text):
        if block.strip():
            yield LEADING_BLANK_LINES.sub("", block)


def clean(block, etymologies=False):
    """Running text of one block, as a list of tokens (empty for tags and headers).

    With `etymologies`, bracketed text other than source tags and short codes is kept."""
    lines = block.split("\n")
    if lines[0] and not lines[0][0].isspace():
        # An entry's first line: keep the headword, drop its pronunciation.
        m = PRONUNCIATION.search(lines[0])
        if m:
            lines[0] = lines[0][:m.start()] + " " + lines[0][m.end():]
    text = "\n".join(LABEL.sub(" ", line) for line in lines)
    text = PRONUNCIATION.sub(" ", text)
    text = CODED_PARENS.sub(" ", text)
    previous = None
    while previous != text:  # innermost brackets first, so nested ones go too
        previous, text = text, (SOURCE_TAGS if etymologies else BRACKETS).sub(" ", text)
    text = ATTRIBUTION.sub(" ", text)
    text = SENSE_MARK.sub(" ", text)
    text = text.replace("{", " ").replace("}", " ")
    text = SYLLABLE_MARK.sub("", text)
    tokens = TOKEN.findall(text.lower())
    if not any(t[0].isalpha() for t in tokens):
        return []
    return tokens


def build(dict_path, out_dir, etymologies=False):
    with gzip.open(dict_path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "corpus.txt")
    n_tokens = n_lines = 0
    with atomic_write(path, "w") as out:
        for block in paragraphs(text):
            tokens = clean(block, etymologies)
            if tokens:
                out.write(" ".join(tokens))
                out.write("\n")
                n_tokens += len(tokens)
                n_lines += 1
    return path, n_tokens, n_lines


def copy_eval_files(out_dir):
    try:
        import gensim.test.utils
    except ImportError:
        print("gensim is not installed: evaluation files not copied")
        return []
    src_dir = os.path.join(os.path.dirname(gensim.test.utils.__file__), "test_data")
    copied = []
    for name in EVAL_FILES:
        src = os.path.join(src_dir, name)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(out_dir, name))
            copied.append(name)
        else:
            print(f"not found in gensim's test data: {name}")
    return copied


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dict", default=DEFAULT_DICT, help="gcide.dict.dz (default: %(default)s)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--etymologies", action="store_true",
                        help="keep the bracketed etymologies (about 6.1M tokens instead of 5.05M)")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.dict):
        sys.exit(f"{args.dict} not found: install it with `apt-get install dict-gcide`, "
                 f"or pass --dict PATH")
    t0 = time.perf_counter()
    path, n_tokens, n_lines = build(args.dict, args.out, args.etymologies)
    copied = copy_eval_files(args.out)
    print(f"wrote {path}: {n_tokens:,} tokens in {n_lines:,} lines "
          f"({time.perf_counter() - t0:.1f} s)")
    if copied:
        print(f"copied {', '.join(copied)} to {args.out}")


if __name__ == "__main__":
    main()
