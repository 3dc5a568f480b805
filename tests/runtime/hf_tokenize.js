// Parity oracle for tests/runtime/tokenizer_parity_test.cpp: Hugging Face's own
// `tokenizers` engine (npm tokenizers@0.23.2, native binary).
// usage: node hf_tokenize.js NODE_MODULES_DIR TOKENIZER_JSON < in.jsonl > out.jsonl
// Each input line {"text": S} gives one output line {"ids": [...], "decoded": S'}
// (encode without added special tokens; decode keeping special tokens).
'use strict';
const path = require('path');
const fs = require('fs');

async function main() {
  const [modulesDir, tokenizerPath] = process.argv.slice(2);
  if (!modulesDir || !tokenizerPath) {
    process.stderr.write('usage: node hf_tokenize.js NODE_MODULES_DIR TOKENIZER_JSON < in.jsonl\n');
    process.exit(2);
  }
  const { Tokenizer } = require(path.join(modulesDir, 'tokenizers'));
  const tok = Tokenizer.fromFile(tokenizerPath);
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
  const out = [];
  for (const line of lines) {
    const { text } = JSON.parse(line);
    const enc = await tok.encode(text, null, { addSpecialTokens: false });
    const ids = Array.from(enc.getIds());
    const decoded = await tok.decode(ids, false);
    out.push(JSON.stringify({ ids, decoded }));
  }
  fs.writeFileSync(1, out.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
