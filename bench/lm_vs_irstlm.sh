#!/bin/sh
# Held-out perplexity: the toolkit's lmplz-style modified Kneser-Ney vs IRSTLM's modified
# Kneser-Ney ("improved-kneser-ney" = improved shift-beta), both unpruned 3-grams on the first
# 40,000 sentences of lm_gutenberg_8books.txt, tested on the remaining 7,403 sentences with the
# same scorer (bench/lm_perplexity.ts). Writes into work/ (git-ignored). Run from the repo root.
set -e
TEXT=${1:-../shared/data/text/lm_gutenberg_8books.txt}
mkdir -p work/irst
head -n 40000 "$TEXT" > work/lm_train40k.txt
tail -n +40001 "$TEXT" > work/lm_test.txt
./deno run -A scripts/build_lm.ts --order 3 --text work/lm_train40k.txt --arpa work/ours_40k_3gram.arpa
export IRSTLM=/usr/lib/irstlm PATH=/usr/lib/irstlm/bin:$PATH
sed 's/^/<s> /; s/$/ <\/s>/' work/lm_train40k.txt > work/irst/train.txt
(cd work/irst && build-lm.sh -i train.txt -o lm.ilm.gz -n 3 -k 1 -s improved-kneser-ney -t ./stat >/dev/null 2>&1 &&
  compile-lm --text=yes lm.ilm.gz ../irstlm_40k_3gram.arpa >/dev/null 2>&1)
./deno run -A bench/lm_perplexity.ts work/lm_test.txt work/ours_40k_3gram.arpa work/irstlm_40k_3gram.arpa
