#!/usr/bin/env node
// A fake model server for tests: it speaks enough of the Anthropic Messages API, the OpenAI
// Responses API and the OpenAI Chat Completions API for real agent CLIs (Claude Code, Codex) to
// run against it on loopback, and it answers each "main" model request with the next step of a
// scenario. Plain ESM, node:* only. See test/fixtures/agents/NOTES-claude-codex.md.
//
// Scenario: { "steps": [ step, ... ] }. Step i answers the i-th main request; the last step repeats.
//   { "kind": "answer", "text": "..." }                 final answer
//   { "kind": "tool_call", "command": "echo hi" }       ask the agent to run a shell command with its
//                                                       own shell tool (Bash / exec_command / shell ...)
//   { "kind": "rate_limit", "retry_after": 7 }          429 + retry-after + the provider's headers/body
//   { "kind": "usage_limit", "reset_in_seconds": 3600 } usage exhausted until a reset time (Anthropic:
//                                                       429 + anthropic-ratelimit-unified-* rejected;
//                                                       OpenAI: 429 usage_limit_reached + resets_at)
//   { "kind": "quota" }                                 quota/credit exhausted, no reset (Anthropic 400
//                                                       "credit balance is too low"; OpenAI 429
//                                                       insufficient_quota)
//   { "kind": "overloaded" }                            Anthropic 529 overloaded_error; OpenAI 503
//   { "kind": "auth" }                                  401 invalid key
//   { "kind": "server_error" }                          500
//   { "kind": "slow", "text": "...", "delay_ms": 500 }  a stream that trickles one word per delay
//   { "kind": "hang" }                                  accept the request, never answer
//   { "kind": "hang", "after": "headers" }              send 200 + SSE headers, then never a byte
// Error steps may also carry "status" (override the HTTP status), "headers" (extra response headers)
// and "body" (replace the error body). Codex reads the reset time from error.resets_at (epoch s).
//
// As a script: node fake-model-server.mjs --scenario FILE_OR_JSON --log FILE [--port N]
// prints {"url":"http://127.0.0.1:PORT"} as its first stdout line; SIGTERM/SIGINT stop it.
//
// Main vs side requests: only main requests consume steps. A request is "main" when it carries a
// tool list: Anthropic: any tools, no forced tool_choice {type:"tool"} and max_tokens > 1 (Claude
// Code's side calls — quota_check with max_tokens 1, session titles, summaries, classifiers — send
// no tools or force one structured-output tool); OpenAI Responses: a function tool named
// exec_command / shell / shell_command / local_shell. Every Chat Completions request is main.
// Everything else — Claude Code's title/topic/quota side calls (no tools, small max_tokens),
// count_tokens, GET /v1/models … — gets a trivial, immediate answer and is logged with role "side".
// A step with "match": "any" is used by the next model request of any kind, side ones included.
//
// Log: every request is appended to logFile as one JSON line:
//   { seq, time, method, path, headers (secrets redacted), body (parsed JSON, or text; gzip/br/deflate
//     bodies decoded), api: "anthropic"|"responses"|"chat"|null, role: "main"|"side", step, kind }

import http from 'node:http';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'cookie', 'proxy-authorization', 'chatgpt-account-id']);
const SHELL_TOOL_NAMES = ['exec_command', 'shell_command', 'shell', 'local_shell', 'container.exec', 'bash', 'Bash'];

/** Parses a scenario given as an object, a JSON string, or the path of a JSON file. */
export function loadScenario(value) {
  if (value === undefined || value === null) return { steps: [{ kind: 'answer', text: 'ok' }] };
  if (typeof value === 'object') return normalizeScenario(value);
  const text = String(value).trim();
  if (text.startsWith('{') || text.startsWith('[')) return normalizeScenario(JSON.parse(text));
  return normalizeScenario(JSON.parse(fs.readFileSync(text, 'utf8')));
}

function normalizeScenario(value) {
  if (Array.isArray(value)) return { steps: value };
  if (!Array.isArray(value.steps) || value.steps.length === 0) throw new Error('scenario needs a non-empty "steps" array');
  return value;
}

/**
 * Starts the server on 127.0.0.1. Resolves to { url, port, close(), requests() } where url has no
 * trailing slash and no /v1 (Anthropic clients append /v1/messages; give OpenAI clients url + '/v1').
 */
export async function startFakeModelServer({ scenario, logFile, port = 0, host = '127.0.0.1' } = {}) {
  const scen = loadScenario(scenario);
  let mainCount = 0;
  let seq = 0;
  const log = [];
  const sockets = new Set();
  const timers = new Set();

  const nextStep = () => {
    const index = mainCount++;
    return { index, step: scen.steps[Math.min(index, scen.steps.length - 1)] };
  };

  const server = http.createServer(async (req, res) => {
    let raw;
    try {
      raw = await readBody(req);
    } catch {
      return;
    }
    const path = req.url ?? '/';
    const pathname = path.split('?')[0];
    const body = parseBody(raw, req.headers['content-encoding']);
    const api = apiOf(req.method, pathname);
    let role = 'side';
    let stepIndex = null;
    let step = null;
    if (api && isMainRequest(api, body)) role = 'main';
    const peek = scen.steps[Math.min(mainCount, scen.steps.length - 1)];
    if (api && peek.match === 'any') role = 'main';
    if (role === 'main') ({ index: stepIndex, step } = nextStep());
    const entry = {
      seq: seq++,
      time: new Date().toISOString(),
      method: req.method,
      path,
      headers: redactHeaders(req.headers),
      body,
      api,
      role,
      step: stepIndex,
      kind: step?.kind ?? null,
    };
    log.push(entry);
    if (logFile) fs.appendFileSync(logFile, JSON.stringify(entry) + '\n');
    const ctx = { req, res, body, timers, api, seq: entry.seq };
    try {
      if (!api) return answerOther(ctx, req.method, pathname);
      if (role === 'side') return answerSide(ctx);
      return answerStep(ctx, step);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'fake_server_bug', message: String(error?.stack ?? error) } }));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 60_000;
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = server.address().port;
  return {
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    requests: () => log.slice(),
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------- request parsing

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(raw, encoding) {
  if (!raw || raw.length === 0) return null;
  let buf = raw;
  try {
    if (encoding === 'gzip') buf = zlib.gunzipSync(raw);
    else if (encoding === 'deflate') buf = zlib.inflateSync(raw);
    else if (encoding === 'br') buf = zlib.brotliDecompressSync(raw);
    else if (encoding === 'zstd') {
      if (typeof zlib.zstdDecompressSync !== 'function') return { undecodable: 'zstd', bytes: raw.length };
      buf = zlib.zstdDecompressSync(raw);
    }
  } catch (error) {
    return { undecodable: encoding, bytes: raw.length, error: String(error) };
  }
  const text = buf.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function redactHeaders(headers) {
  const out = {};
  for (const [key, value] of Object.entries(headers)) out[key] = SECRET_HEADERS.has(key.toLowerCase()) ? '[redacted]' : value;
  return out;
}

function apiOf(method, pathname) {
  if (method !== 'POST') return null;
  if (/\/messages$/.test(pathname)) return 'anthropic';
  if (/\/responses$/.test(pathname)) return 'responses';
  if (/\/chat\/completions$/.test(pathname)) return 'chat';
  return null;
}

function toolNames(body) {
  if (!body || typeof body !== 'object' || !Array.isArray(body.tools)) return [];
  return body.tools.map((tool) => tool?.name ?? tool?.function?.name ?? tool?.type).filter((name) => typeof name === 'string');
}

function isMainRequest(api, body) {
  const names = toolNames(body);
  // Claude Code's agent loop (and its subagents) always sends its tool list; its side calls
  // (quota_check: max_tokens 1, "quota"; session titles, summaries, classifiers …) send none or
  // force one structured-output tool with tool_choice {type: "tool"}.
  if (api === 'anthropic') return names.length > 0 && body.tool_choice?.type !== 'tool' && body.max_tokens !== 1;
  if (api === 'responses') return names.some((name) => SHELL_TOOL_NAMES.includes(name));
  return true; // Chat Completions: no side-request heuristics, every request is main
}

// ---------------------------------------------------------------- answers

function answerOther(ctx, method, pathname) {
  const { res } = ctx;
  if (method === 'POST' && /\/messages\/count_tokens$/.test(pathname)) return sendJson(res, 200, { input_tokens: 100 });
  if (method === 'GET' && /\/models$/.test(pathname)) {
    return sendJson(res, 200, {
      object: 'list',
      data: [{ id: 'fake-model', object: 'model', type: 'model', display_name: 'fake-model', created: 0, created_at: '2025-01-01T00:00:00Z', owned_by: 'fake' }],
      models: [],
      has_more: false,
    });
  }
  if (method === 'HEAD' || (method === 'GET' && (pathname === '/' || pathname === '/v1' || pathname === '/health'))) return sendJson(res, 200, {});
  return sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `fake server: no ${method} ${pathname}` } });
}

function answerSide(ctx) {
  const step = { kind: 'answer', text: 'ok' };
  return answerStep(ctx, step);
}

function answerStep(ctx, step) {
  const { api } = ctx;
  switch (step.kind) {
    case 'answer':
    case 'tool_call':
    case 'slow':
      return stream(ctx, step);
    case 'hang':
      return hang(ctx, step);
    case 'rate_limit':
    case 'usage_limit':
    case 'quota':
    case 'overloaded':
    case 'auth':
    case 'server_error':
      return sendError(ctx, step, api === 'anthropic' ? anthropicError(step) : openaiError(step));
    default:
      throw new Error(`unknown step kind ${JSON.stringify(step.kind)}`);
  }
}

function sendJson(res, status, value, headers = {}) {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(ctx, step, { status, headers, body }) {
  const finalHeaders = { 'request-id': `req_fake_${ctx.seq}`, 'x-request-id': `req_fake_${ctx.seq}`, ...headers, ...(step.headers ?? {}) };
  sendJson(ctx.res, step.status ?? status, step.body ?? body, finalHeaders);
}

const epoch = (secondsFromNow) => Math.floor(Date.now() / 1000) + secondsFromNow;

function anthropicError(step) {
  const retryAfter = step.retry_after ?? 7;
  switch (step.kind) {
    case 'rate_limit': {
      const reset = new Date(Date.now() + retryAfter * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      return {
        status: 429,
        headers: {
          'retry-after': String(retryAfter),
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': reset,
          'anthropic-ratelimit-tokens-limit': '40000',
          'anthropic-ratelimit-tokens-remaining': '0',
          'anthropic-ratelimit-tokens-reset': reset,
          'anthropic-ratelimit-input-tokens-reset': reset,
          'anthropic-ratelimit-output-tokens-reset': reset,
        },
        body: {
          type: 'error',
          error: { type: 'rate_limit_error', message: 'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.' },
        },
      };
    }
    case 'usage_limit': {
      const reset = epoch(step.reset_in_seconds ?? 3600);
      return {
        status: 429,
        headers: {
          'retry-after': String(step.retry_after ?? step.reset_in_seconds ?? 3600),
          'anthropic-ratelimit-unified-status': 'rejected',
          'anthropic-ratelimit-unified-reset': String(reset),
          'anthropic-ratelimit-unified-representative-claim': 'five_hour',
          'anthropic-ratelimit-unified-5h-status': 'rejected',
          'anthropic-ratelimit-unified-5h-reset': String(reset),
          'anthropic-ratelimit-unified-5h-utilization': '1.0',
          'anthropic-ratelimit-unified-overage-status': 'rejected',
          'anthropic-ratelimit-unified-overage-disabled-reason': 'out_of_credits',
          'anthropic-ratelimit-unified-fallback': 'unavailable',
        },
        body: { type: 'error', error: { type: 'rate_limit_error', message: 'Usage limit reached for this organization.' } },
      };
    }
    case 'quota':
      return {
        status: 400,
        headers: {},
        body: {
          type: 'error',
          error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.' },
        },
      };
    case 'overloaded':
      return { status: 529, headers: {}, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } };
    case 'auth':
      return { status: 401, headers: {}, body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } } };
    default:
      return { status: 500, headers: {}, body: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } } };
  }
}

function openaiError(step) {
  const retryAfter = step.retry_after ?? 7;
  switch (step.kind) {
    case 'rate_limit':
      return {
        status: 429,
        headers: {
          'retry-after': String(retryAfter),
          'x-ratelimit-limit-requests': '500',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': `${retryAfter}s`,
          'x-ratelimit-limit-tokens': '30000',
          'x-ratelimit-remaining-tokens': '0',
          'x-ratelimit-reset-tokens': `${retryAfter}s`,
        },
        body: {
          error: {
            message: `Rate limit reached for fake-model in organization org-fake on tokens per min (TPM): Limit 30000, Used 30000, Requested 100. Please try again in ${retryAfter}s.`,
            type: 'tokens',
            param: null,
            code: 'rate_limit_exceeded',
          },
        },
      };
    case 'usage_limit': {
      const seconds = step.reset_in_seconds ?? 3600;
      return {
        status: 429,
        headers: {
          'x-codex-primary-used-percent': '100',
          'x-codex-primary-window-minutes': '300',
          'x-codex-primary-reset-after-seconds': String(seconds),
          'x-codex-primary-reset-at': String(epoch(seconds)),
          'x-codex-secondary-used-percent': '40',
          'x-codex-secondary-window-minutes': '10080',
          'x-codex-secondary-reset-after-seconds': String(seconds * 10),
          'x-codex-secondary-reset-at': String(epoch(seconds * 10)),
        },
        body: {
          error: {
            type: 'usage_limit_reached',
            message: 'The usage limit has been reached',
            plan_type: 'plus',
            resets_at: epoch(seconds),
            resets_in_seconds: seconds,
          },
        },
      };
    }
    case 'quota':
      return {
        status: 429,
        headers: {},
        body: {
          error: {
            message: 'You exceeded your current quota, please check your plan and billing details.',
            type: 'insufficient_quota',
            param: null,
            code: 'insufficient_quota',
          },
        },
      };
    case 'overloaded':
      return {
        status: 503,
        headers: {},
        body: { error: { message: 'The server is overloaded. Please try again later.', type: 'server_error', param: null, code: 'server_is_overloaded' } },
      };
    case 'auth':
      return {
        status: 401,
        headers: {},
        body: { error: { message: 'Incorrect API key provided: fake-key. You can find your API key at https://platform.openai.com/account/api-keys.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
      };
    default:
      return { status: 500, headers: {}, body: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } } };
  }
}

function hang(ctx, step) {
  const { res } = ctx;
  if (step.after === 'headers') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders?.();
  }
  // Nothing more: the socket stays open until the client gives up or close() destroys it.
}

// ---------------------------------------------------------------- streaming / JSON answers

const sleep = (ctx, ms) =>
  new Promise((resolve) => {
    const timer = setTimeout(() => {
      ctx.timers.delete(timer);
      resolve();
    }, ms);
    ctx.timers.add(timer);
  });

function chunksOf(step) {
  if (step.kind === 'slow') return String(step.text ?? 'slow answer done').split(/(?<= )/);
  const text = String(step.text ?? 'ok');
  return text.length > 24 ? text.match(/[\s\S]{1,24}/g) : [text];
}

function shellToolCall(ctx, step) {
  return { command: String(step.command ?? 'echo hello-from-tool'), description: step.description ?? 'Run the requested command' };
}

async function stream(ctx, step) {
  const { api, body } = ctx;
  const wantsStream = body && typeof body === 'object' && body.stream === true;
  if (api === 'anthropic') return wantsStream ? anthropicStream(ctx, step) : anthropicJson(ctx, step);
  if (api === 'responses') return responsesStream(ctx, step);
  return wantsStream ? chatStream(ctx, step) : chatJson(ctx, step);
}

const model = (ctx) => (ctx.body && typeof ctx.body.model === 'string' ? ctx.body.model : 'fake-model');

function sseWriter(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': 'req_fake' });
  return (event, data) => {
    if (res.destroyed) return;
    res.write(event ? `event: ${event}\ndata: ${JSON.stringify(data)}\n\n` : `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  };
}

// --- Anthropic

function anthropicBlocks(ctx, step) {
  if (step.kind === 'tool_call') {
    const input = shellToolCall(ctx, step);
    const blocks = [];
    if (step.text) blocks.push({ type: 'text', text: step.text });
    blocks.push({ type: 'tool_use', id: `toolu_fake_${ctx.seq}`, name: 'Bash', input });
    return { blocks, stop: 'tool_use' };
  }
  return { blocks: [{ type: 'text', text: String(step.text ?? (step.kind === 'slow' ? 'slow answer done' : 'ok')) }], stop: 'end_turn' };
}

function anthropicJson(ctx, step) {
  const { blocks, stop } = anthropicBlocks(ctx, step);
  sendJson(ctx.res, 200, {
    id: `msg_fake_${ctx.seq}`,
    type: 'message',
    role: 'assistant',
    model: model(ctx),
    content: blocks,
    stop_reason: stop,
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  });
}

async function anthropicStream(ctx, step) {
  const send = sseWriter(ctx.res);
  const { blocks, stop } = anthropicBlocks(ctx, step);
  const delay = step.kind === 'slow' ? (step.delay_ms ?? 500) : 0;
  send('message_start', {
    type: 'message_start',
    message: {
      id: `msg_fake_${ctx.seq}`,
      type: 'message',
      role: 'assistant',
      model: model(ctx),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 100, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  });
  send('ping', { type: 'ping' });
  for (const [index, block] of blocks.entries()) {
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const piece of step.kind === 'slow' ? chunksOf(step) : chunksOf({ text: block.text })) {
        if (delay) await sleep(ctx, delay);
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
      }
    } else {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  }
  send('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 10 } });
  send('message_stop', { type: 'message_stop' });
  ctx.res.end();
}

// --- OpenAI Responses

function responsesToolItem(ctx, step) {
  const names = toolNames(ctx.body);
  const callId = `call_fake_${ctx.seq}`;
  const command = String(step.command ?? 'echo hello-from-tool');
  const tools = Array.isArray(ctx.body?.tools) ? ctx.body.tools : [];
  if (names.includes('exec_command')) {
    return { type: 'function_call', id: `fc_fake_${ctx.seq}`, call_id: callId, name: 'exec_command', arguments: JSON.stringify({ cmd: command }) };
  }
  if (names.includes('shell_command')) {
    return { type: 'function_call', id: `fc_fake_${ctx.seq}`, call_id: callId, name: 'shell_command', arguments: JSON.stringify({ command }) };
  }
  if (names.includes('shell')) {
    return { type: 'function_call', id: `fc_fake_${ctx.seq}`, call_id: callId, name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', command] }) };
  }
  if (tools.some((tool) => tool?.type === 'local_shell')) {
    return { type: 'local_shell_call', id: `lsh_fake_${ctx.seq}`, call_id: callId, status: 'completed', action: { type: 'exec', command: ['bash', '-lc', command] } };
  }
  return { type: 'function_call', id: `fc_fake_${ctx.seq}`, call_id: callId, name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', command] }) };
}

async function responsesStream(ctx, step) {
  const send = sseWriter(ctx.res);
  const id = `resp_fake_${ctx.seq}`;
  const delay = step.kind === 'slow' ? (step.delay_ms ?? 500) : 0;
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: 'response', created_at: created, model: model(ctx), status: 'in_progress', output: [] };
  send('response.created', { type: 'response.created', sequence_number: 0, response: base });
  send('response.in_progress', { type: 'response.in_progress', sequence_number: 1, response: base });
  let n = 2;
  const output = [];
  if (step.kind === 'tool_call') {
    if (step.text) output.push(await responsesMessage(ctx, send, step.text, [step.text], 0, () => n++));
    const item = responsesToolItem(ctx, step);
    send('response.output_item.added', { type: 'response.output_item.added', sequence_number: n++, output_index: output.length, item: { ...item, status: 'in_progress' } });
    send('response.output_item.done', { type: 'response.output_item.done', sequence_number: n++, output_index: output.length, item: { ...item, status: 'completed' } });
    output.push(item);
  } else {
    const text = String(step.text ?? (step.kind === 'slow' ? 'slow answer done' : 'ok'));
    output.push(await responsesMessage(ctx, send, text, chunksOf({ ...step, text }), delay, () => n++));
  }
  send('response.completed', {
    type: 'response.completed',
    sequence_number: n++,
    response: {
      ...base,
      status: 'completed',
      output,
      usage: { input_tokens: 100, input_tokens_details: { cached_tokens: 0 }, output_tokens: 10, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 110 },
    },
  });
  ctx.res.end();
}

async function responsesMessage(ctx, send, text, pieces, delay, next) {
  const itemId = `msg_fake_${ctx.seq}`;
  const item = { type: 'message', id: itemId, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
  send('response.output_item.added', { type: 'response.output_item.added', sequence_number: next(), output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
  send('response.content_part.added', { type: 'response.content_part.added', sequence_number: next(), item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
  for (const piece of pieces) {
    if (delay) await sleep(ctx, delay);
    send('response.output_text.delta', { type: 'response.output_text.delta', sequence_number: next(), item_id: itemId, output_index: 0, content_index: 0, delta: piece });
  }
  send('response.output_text.done', { type: 'response.output_text.done', sequence_number: next(), item_id: itemId, output_index: 0, content_index: 0, text });
  send('response.content_part.done', { type: 'response.content_part.done', sequence_number: next(), item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
  send('response.output_item.done', { type: 'response.output_item.done', sequence_number: next(), output_index: 0, item });
  return item;
}

// --- OpenAI Chat Completions

function chatMessage(ctx, step) {
  if (step.kind === 'tool_call') {
    const names = toolNames(ctx.body);
    const name = names.find((candidate) => /bash|shell|exec|run|command|terminal/i.test(candidate)) ?? names[0] ?? 'bash';
    return {
      role: 'assistant',
      content: step.text ?? null,
      tool_calls: [{ id: `call_fake_${ctx.seq}`, type: 'function', function: { name, arguments: JSON.stringify({ command: String(step.command ?? 'echo hello-from-tool') }) } }],
      finish: 'tool_calls',
    };
  }
  return { role: 'assistant', content: String(step.text ?? (step.kind === 'slow' ? 'slow answer done' : 'ok')), finish: 'stop' };
}

function chatJson(ctx, step) {
  const { finish, ...message } = chatMessage(ctx, step);
  sendJson(ctx.res, 200, {
    id: `chatcmpl-fake-${ctx.seq}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: model(ctx),
    choices: [{ index: 0, message, finish_reason: finish }],
    usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
  });
}

async function chatStream(ctx, step) {
  const send = sseWriter(ctx.res);
  const { finish, ...message } = chatMessage(ctx, step);
  const base = { id: `chatcmpl-fake-${ctx.seq}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: model(ctx) };
  send(null, { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  if (message.content) {
    const delay = step.kind === 'slow' ? (step.delay_ms ?? 500) : 0;
    for (const piece of chunksOf({ ...step, text: message.content })) {
      if (delay) await sleep(ctx, delay);
      send(null, { ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
    }
  }
  if (message.tool_calls) {
    const [call] = message.tool_calls;
    send(null, { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }] }, finish_reason: null }] });
  }
  send(null, { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }], usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 } });
  send(null, '[DONE]');
  ctx.res.end();
}

// ---------------------------------------------------------------- script entry

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--scenario') out.scenario = argv[++i];
    else if (arg === '--log') out.log = argv[++i];
    else if (arg === '--port') out.port = Number(argv[++i]);
    else throw new Error(`unknown argument ${arg}`);
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2));
  const server = await startFakeModelServer({ scenario: args.scenario, logFile: args.log, port: args.port ?? 0 });
  process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
