#!/usr/bin/env bash
# Picks every sentence of 4 to 14 words and at most 90 characters from the normalised
# Gutenberg text in ../shared/data (public domain; see that folder's text/README.md), so the
# demo can synthesise speech when ../shared is absent, and shuffles them with a fixed seed so
# that any slice (a training set, a held-out set after it) samples every book alike.
# Run from the repository root:
#   bash data/corpora/text/make_corpus.sh ../shared/data/text/lm_gutenberg_8books.txt
set -e
awk 'NF >= 4 && NF <= 14 && length($0) <= 90 && /^[a-z\x27 ]+$/' "$1" |
  awk '!seen[$0]++' |
  shuf --random-source=<(yes deno-ctc) \
    > data/corpora/text/gutenberg_sentences.txt
wc -l -c data/corpora/text/gutenberg_sentences.txt
