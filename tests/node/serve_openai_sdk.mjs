// The official `openai` npm SDK against a running `v4rt serve`
// (tests/e2e/serve_sdk_test.cpp starts the server and runs this script).
// argv: BASE_URL API_KEY. Exits non-zero with a message on the first failure.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

// The SDK is installed in data/npm (scripts/setup.sh --tests), named by V4RT_NPM_DIR.
const require = createRequire(`${process.env.V4RT_NPM_DIR}/package.json`);
const OpenAI = require('openai').default ?? require('openai');

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0, timeout: 120000 });

const models = await client.models.list();
assert.equal(models.data.length, 1);
const model = models.data[0].id;

const tools = [{ type: 'function', function: { name: 'get_weather', description: 'weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Weather in Paris?' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function',
    function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
  { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21C' },
];

// Chat with tools, non-streaming.
const chat = await client.chat.completions.create({ model, messages, tools, max_tokens: 6, temperature: 0 });
assert.equal(chat.object, 'chat.completion');
assert.equal(chat.choices[0].message.role, 'assistant');
assert.ok(['stop', 'length', 'tool_calls'].includes(chat.choices[0].finish_reason));
assert.ok(chat.usage.prompt_tokens > 50, `prompt_tokens ${chat.usage.prompt_tokens}`);

// Streaming: the SDK's SSE decoder, then the same request is read from the cache.
const stream = await client.chat.completions.create({ model, messages, tools, max_tokens: 6, temperature: 0,
  stream: true, stream_options: { include_usage: true } });
let content = '', finish = null, usage = null, chunks = 0;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  const c = chunk.choices[0];
  if (!c) continue;
  if (c.delta.content) content += c.delta.content;
  if (c.finish_reason) finish = c.finish_reason;
}
assert.ok(chunks >= 2);
assert.equal(content, chat.choices[0].message.content ?? '');
assert.equal(finish, chat.choices[0].finish_reason);
assert.equal(usage.prompt_tokens_details.cached_tokens, usage.prompt_tokens);

// Completions (raw prompt), both ways.
const cmpl = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 4, temperature: 0 });
assert.equal(cmpl.object, 'text_completion');
let text = '';
for await (const c of await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 4,
  temperature: 0, stream: true })) text += c.choices[0]?.text ?? '';
assert.equal(text, cmpl.choices[0].text);

// Errors surface as the SDK's typed errors.
await assert.rejects(client.chat.completions.create({ model, messages: [], max_tokens: 1 }),
  (e) => e instanceof OpenAI.BadRequestError && /messages/.test(e.message));
const wrong = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: 'wrong', maxRetries: 0 });
await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
console.log('openai sdk ok');
