#!/usr/bin/env bash
# Fetch and build the C peers of the GloVe and word2vec bench cases, Stanford GloVe's tools and
# word2vec.c, at pinned commits, with -O3, under benchmarks/peers/ (git-ignored: their code is
# fetched and built there, never copied into this repository).
#
#   bash benchmarks/build_peers.sh [PEERS_DIR]   # default: $EMBEDCORE_PEERS_DIR, else benchmarks/peers
#
# `embedcore bench` finds the binaries through EMBEDCORE_PEERS_DIR (default benchmarks/peers).
# A peer folder that is already there is reused: a git checkout is moved to the pinned commit; a
# plain source tree (copied in by hand where GitHub cannot be reached) is built as it is, and
# versions.txt marks its commit as unchecked.
set -euo pipefail

GLOVE_URL=https://github.com/stanfordnlp/GloVe.git
GLOVE_COMMIT=11e9dfedcfc29685efaf48a37ad4c87768fea7b4
WORD2VEC_URL=https://github.com/tmikolov/word2vec.git
WORD2VEC_COMMIT=e092540633572b883e25b367938b0cca2cf3c0e7

HERE=$(cd "$(dirname "$0")" && pwd)
PEERS=${1:-${EMBEDCORE_PEERS_DIR:-$HERE/peers}}
CC=${CC:-gcc}
# the upstream makefiles' optimisation flags
CFLAGS=(-O3 -march=native -funroll-loops)

# fetch DIR URL COMMIT: put COMMIT of URL in DIR; sets status to how its commit is known
# (a function, not a $(...) capture, so that set -e stops the script on a failed fetch)
fetch() {
  local dir=$1 url=$2 commit=$3
  status=checked
  if [ -d "$dir/.git" ]; then
    if [ "$(git -C "$dir" rev-parse HEAD)" != "$commit" ]; then
      git -C "$dir" fetch -q --depth 1 origin "$commit"
      git -C "$dir" checkout -q --detach "$commit"
    fi
  elif [ -e "$dir" ]; then
    echo "note: $dir is not a git checkout; building it as it is (commit not checked)" >&2
    status=unchecked
  else
    git init -q "$dir"
    git -C "$dir" remote add origin "$url"
    # a shallow fetch of the one commit (GitHub serves any commit by its hash)
    git -C "$dir" fetch -q --depth 1 origin "$commit"
    git -C "$dir" checkout -q --detach FETCH_HEAD
  fi
}

mkdir -p "$PEERS"
fetch "$PEERS/GloVe" "$GLOVE_URL" "$GLOVE_COMMIT"
glove_status=$status
fetch "$PEERS/word2vec" "$WORD2VEC_URL" "$WORD2VEC_COMMIT"
word2vec_status=$status

# each tool from its own file plus the shared common.c, as GloVe's Makefile builds them
mkdir -p "$PEERS/GloVe/build"
for tool in vocab_count cooccur shuffle glove; do
  "$CC" "${CFLAGS[@]}" "$PEERS/GloVe/src/$tool.c" "$PEERS/GloVe/src/common.c" \
    -o "$PEERS/GloVe/build/$tool" -lm -pthread
done
"$CC" "${CFLAGS[@]}" "$PEERS/word2vec/word2vec.c" -o "$PEERS/word2vec/word2vec" -lm -pthread

# read by the bench cases to label their rows
cat > "$PEERS/versions.txt" <<EOF
GloVe $GLOVE_COMMIT $glove_status
word2vec $WORD2VEC_COMMIT $word2vec_status
compiler $("$CC" --version | head -n 1)
flags ${CFLAGS[*]}
EOF

echo "built with ${CFLAGS[*]} ($("$CC" --version | head -n 1)):"
for binary in GloVe/build/vocab_count GloVe/build/cooccur GloVe/build/shuffle GloVe/build/glove \
              word2vec/word2vec; do
  echo "  $PEERS/$binary"
done
echo "GloVe $GLOVE_COMMIT ($glove_status), word2vec $WORD2VEC_COMMIT ($word2vec_status)"
echo "embedcore bench finds them with: export EMBEDCORE_PEERS_DIR=$PEERS"
