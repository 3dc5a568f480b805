// The official `@anthropic-ai/sdk` against a running `v4rt serve`
// (tests/e2e/serve_sdk_test.cpp starts the server and runs this script).
// argv: BASE_URL API_KEY. Exits non-zero with a message on the first failure.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

// The SDK is installed in data/npm (scripts/setup.sh --tests), named by V4RT_NPM_DIR.
const require = createRequire(`${process.env.V4RT_NPM_DIR}/package.json`);
const Anthropic = require('@anthropic-ai/sdk').default ?? require('@anthropic-ai/sdk');

const [baseURL, apiKey] = process.argv.slice(2);
const client = new Anthropic({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });

const tools = [{ name: 'get_weather', description: 'weather of a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
const messages = [
  { role: 'user', content: 'Weather in Paris?' },
  { role: 'assistant', content: [{ type: 'text', text: 'Checking.' },
    { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny, 21C' }] },
];

const msg = await client.messages.create({ model: 'tiny', system: 'You are terse.', messages, tools,
  max_tokens: 6, temperature: 0 });
assert.equal(msg.type, 'message');
assert.equal(msg.role, 'assistant');
assert.ok(['end_turn', 'max_tokens', 'tool_use', 'stop_sequence'].includes(msg.stop_reason));
assert.ok(msg.usage.input_tokens + msg.usage.cache_read_input_tokens > 50);

// Streaming through the SDK's event parser and message accumulator.
const stream = client.messages.stream({ model: 'tiny', system: 'You are terse.', messages, tools, max_tokens: 6,
  temperature: 0 });
const events = [];
stream.on('streamEvent', (e) => events.push(e.type));
const final = await stream.finalMessage();
assert.equal(events[0], 'message_start');
assert.equal(events.at(-1), 'message_stop');
assert.equal(final.stop_reason, msg.stop_reason);
assert.deepEqual(final.content.map((b) => b.type), msg.content.map((b) => b.type));
assert.ok(final.usage.cache_read_input_tokens > 0, JSON.stringify(final.usage));

const count = await client.messages.countTokens({ model: 'tiny', messages, tools });
assert.ok(count.input_tokens > 50);

await assert.rejects(client.messages.create({ model: 'tiny', messages: [], max_tokens: 1 }),
  (e) => e instanceof Anthropic.BadRequestError);
console.log('anthropic sdk ok');
