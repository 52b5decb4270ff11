#!/bin/sh
# Steps 5-8 of scripts/models/README.md for one model: move a finished training folder into models/, export ONNX,
# compare ORT with torch, compare transformers.js greedy generation with torch, write the model card.
# Usage: sh scripts/models/finalize.sh <name> [training dir, default /tmp/train] (needs the /tmp/tokcheck scratch install)
set -e
cd "$(dirname "$0")/../.."
name=$1
src=${2:-/tmp/train}
test -f $src/$name/metrics.json
rm -rf models/$name.new models/$name.old
cp -r $src/$name models/$name.new
if [ -d models/$name ]; then mv models/$name models/$name.old; fi
mv models/$name.new models/$name
rm -rf models/$name.old
/usr/bin/python3 scripts/models/export_onnx.py models/$name --fixture /tmp/$name-onnx.json > /tmp/$name-export.json
node scripts/models/check_onnx.mjs /tmp/tokcheck models/$name /tmp/$name-onnx.json
/usr/bin/python3 scripts/models/check_generate.py models/$name "And God said" 12 "$(node scripts/models/check_transformers.mjs /tmp/tokcheck $PWD/models $name 'And God said' 12 2>/dev/null | tail -1)"
/usr/bin/python3 scripts/models/make_card.py models/$name
ls -la models/$name models/$name/onnx
