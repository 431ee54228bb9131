#!/bin/sh
# Picks every 5th sentence of 4 to 14 words and at most 90 characters from the normalised
# Gutenberg text in ../shared/data (public domain; see that folder's text/README.md), so the
# demo can synthesise speech when ../shared is absent. Run from the repository root:
#   sh data/corpus/make_corpus.sh ../shared/data/text/lm_gutenberg_8books.txt
set -e
awk 'NF >= 4 && NF <= 14 && length($0) <= 90 && /^[a-z\x27 ]+$/ { if (n++ % 5 == 0) print }' "$1" \
  > data/corpus/gutenberg_sentences.txt
wc -l -c data/corpus/gutenberg_sentences.txt
