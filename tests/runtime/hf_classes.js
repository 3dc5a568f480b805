// Class oracle for tests/runtime/tokenizer_parity_test.cpp: which code points a
// one-character regex class matches in Hugging Face's own `tokenizers` engine
// (npm tokenizers@0.23.2, native binary, whose Oniguruma has Unicode 16 tables).
// usage: node hf_classes.js NODE_MODULES_DIR < in.jsonl > out.jsonl
// Each input line {"pattern": P} gives {"pattern": P, "ranges": [[first, last], ...]}
// over U+0000..U+10FFFF without surrogates. P must match exactly one character.
// How: a Split pre-tokenizer with behaviour Removed over a string of all code
// points returns the runs it did not match, with offsets in characters.
'use strict';
const path = require('path');
const fs = require('fs');

function splitter(tokenizers, pattern) {
  const json = {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: pattern }, behavior: 'Removed', invert: false },
    post_processor: null, decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: { a: 0 }, merges: [] },
  };
  return tokenizers.Tokenizer.fromString(JSON.stringify(json)).getPreTokenizer();
}

function main() {
  const [modulesDir] = process.argv.slice(2);
  if (!modulesDir) {
    process.stderr.write('usage: node hf_classes.js NODE_MODULES_DIR < in.jsonl\n');
    process.exit(2);
  }
  const tokenizers = require(path.join(modulesDir, 'tokenizers'));
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
  const out = [];
  for (const line of lines) {
    const { pattern } = JSON.parse(line);
    const pre = splitter(tokenizers, pattern);
    const member = new Uint8Array(0x110000);
    const kChunk = 32768;
    for (let lo = 0; lo < 0x110000; lo += kChunk) {
      const cps = [];
      for (let cp = lo; cp < lo + kChunk; ++cp)
        if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
      if (!cps.length) continue;
      for (const cp of cps) member[cp] = 1;
      for (const [, [b, e]] of pre.preTokenizeString(String.fromCodePoint(...cps)))
        for (let k = b; k < e; ++k) member[cps[k]] = 0;
    }
    const ranges = [];
    for (let cp = 0; cp < 0x110000; ++cp) {
      if (!member[cp]) continue;
      let last = cp;
      while (last + 1 < 0x110000 && member[last + 1]) ++last;
      ranges.push([cp, last]);
      cp = last;
    }
    out.push(JSON.stringify({ pattern, ranges }));
  }
  fs.writeFileSync(1, out.join('\n') + '\n');
}

try {
  main();
} catch (e) {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
}
