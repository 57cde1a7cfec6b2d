// Checks the requests warden_envelope_dump wrote (envelope_dump.cpp) with Sentry's own
// envelope parser, parseEnvelope from @sentry/core: that the parser splits each envelope
// exactly as its bytes are framed, and that headers, item lengths and the event payloads
// hold what the SDK was asked to send. Exits 1 with the first mismatch of each envelope
// and its bytes.
//
//   node check_envelopes.mjs <directory written by warden_envelope_dump>
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { getEnvelopeEndpointWithUrlEncodedAuth, makeDsn, parseEnvelope } from '@sentry/core';

const sentryVersion = createRequire(import.meta.url)('@sentry/core/package.json').version;

// What envelope_dump.cpp configures; keep the two in sync.
const DSN = 'http://0123456789abcdef0123456789abcdef@127.0.0.1:9/7';
const PUBLIC_KEY = '0123456789abcdef0123456789abcdef';
const RELEASE = 'interop@1.0.0';
const ENVIRONMENT = 'interop';
const SERVER_NAME = 'interop-host';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

const HEX_ID = /^[0-9a-f]{32}$/;
const RFC3339_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ADDRESS = /^0x[0-9a-f]+$/;
const LEVELS = ['debug', 'info', 'warning', 'error', 'fatal'];
const NEWLINE = 0x0a;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The request's URL and headers from NNN.headers. */
function readHeaders(path) {
  const [url, ...lines] = readFileSync(path, 'utf8').split('\n').filter((line) => line !== '');
  const headers = new Map();
  for (const line of lines) {
    const colon = line.indexOf(': ');
    assert.ok(colon > 0, `malformed header line ${JSON.stringify(line)}`);
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 2));
  }
  return { url, headers };
}

/**
 * Splits `bytes` by the envelope rules, independently of @sentry/core: a header line,
 * then per item a header line with a `length` and exactly that many payload bytes, each
 * followed by a newline (or the end). Throws on anything else.
 */
function splitEnvelope(bytes) {
  let at = 0;
  const line = (what) => {
    const end = bytes.indexOf(NEWLINE, at);
    assert.ok(end > at, `${what} at byte ${at}: no line before a newline`);
    const text = strictUtf8.decode(bytes.subarray(at, end));
    at = end + 1;
    return JSON.parse(text);
  };
  const header = line('envelope header');
  const items = [];
  while (at < bytes.length) {
    const itemHeader = line('item header');
    assert.equal(typeof itemHeader.length, 'number', 'every item header has a numeric length');
    assert.ok(Number.isInteger(itemHeader.length) && itemHeader.length > 0,
      `item length ${itemHeader.length} is a positive integer`);
    const payload = bytes.subarray(at, at + itemHeader.length);
    assert.equal(payload.length, itemHeader.length, 'item length within the envelope');
    at += itemHeader.length;
    if (at < bytes.length) {
      assert.equal(bytes[at], NEWLINE,
        `byte ${at}, after a ${itemHeader.length}-byte payload, is a newline`);
      at += 1;
    }
    items.push([itemHeader, payload]);
  }
  return [header, items];
}

/** The envelope in NNN.envelope, gunzipped when it starts with gzip's magic bytes. */
function readEnvelope(directory, name) {
  const sent = readFileSync(join(directory, name));
  if (sent[0] !== 0x1f || sent[1] !== 0x8b) return sent;
  try {
    return gunzipSync(sent);
  } catch {
    return sent;
  }
}

/** `bytes` as printable ASCII, every other byte as \xNN, for failure reports. */
function showBytes(bytes) {
  let text = '';
  for (const byte of bytes) {
    text += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return text;
}

/** A payload as JSON; it must be valid UTF-8 (the SDK replaces invalid bytes). */
function json(payload) {
  return JSON.parse(strictUtf8.decode(payload));
}

function checkFrames(frames, where) {
  assert.ok(Array.isArray(frames) && frames.length > 0, `${where}: frames is a non-empty array`);
  for (const [i, frame] of frames.entries()) {
    assert.match(frame.instruction_addr, ADDRESS, `${where}: frames[${i}].instruction_addr`);
    assert.equal(typeof frame.in_app, 'boolean', `${where}: frames[${i}].in_app`);
    for (const field of ['function', 'package', 'filename']) {
      if (field in frame) {
        assert.equal(typeof frame[field], 'string', `${where}: frames[${i}].${field}`);
      }
    }
    if ('lineno' in frame) {
      assert.ok(Number.isInteger(frame.lineno), `${where}: frames[${i}].lineno`);
    }
  }
}

function checkOwner(event, team, where) {
  assert.equal(event.tags?.team, team, `${where}: tags.team`);
  assert.equal(event.tags.function, 'backend', `${where}: tags.function`);
  assert.equal(event.tags.product, 'checkout', `${where}: tags.product`);
}

const QUERY_CRUMB = {
  type: 'query',
  category: 'db',
  message: 'SELECT * FROM orders WHERE id = 42',
  level: 'warning',
  data: { rows: '3', table: 'orders' },
};

/** The breadcrumbs without their timestamps, which are checked to be numbers. */
function crumbs(event, where) {
  const values = event.breadcrumbs?.values;
  assert.ok(Array.isArray(values), `${where}: breadcrumbs.values`);
  return values.map(({ timestamp, ...rest }) => {
    assert.equal(typeof timestamp, 'number', `${where}: breadcrumb timestamp`);
    return rest;
  });
}

/** The checks of each case's event, by its `case` tag. */
const CASES = {
  message(event, where) {
    assert.equal(event.level, 'warning', `${where}: level`);
    assert.deepEqual(event.logentry,
      { message: 'order {} failed', formatted: 'order 42 failed', params: ['42'] },
      `${where}: logentry`);
    checkOwner(event, 'orders', where);
    assert.equal(event.threads.values[0].current, true, `${where}: threads.values[0].current`);
    checkFrames(event.threads.values[0].stacktrace.frames, `${where}: capture-site stack`);
  },
  exception(event, where) {
    assert.equal(event.level, 'error', `${where}: level`);
    const values = event.exception?.values;
    assert.ok(Array.isArray(values) && values.length === 2, `${where}: two exceptions`);
    const [cause, outer] = values;
    assert.equal(cause.type, 'std::runtime_error', `${where}: cause type`);
    assert.equal(cause.value, 'card "4242" declined', `${where}: cause value`);
    assert.deepEqual(cause.mechanism,
      { type: 'chained', handled: true, exception_id: 1, parent_id: 0 },
      `${where}: cause mechanism`);
    assert.match(outer.type, /logic_error/, `${where}: outer type`);
    assert.equal(outer.value, 'order 42 not settled', `${where}: outer value`);
    assert.deepEqual(outer.mechanism, { type: 'generic', handled: true, exception_id: 0 },
      `${where}: outer mechanism`);
    for (const [i, value] of values.entries()) {
      checkFrames(value.stacktrace?.frames, `${where}: exception.values[${i}]`);
    }
    assert.ok(cause.stacktrace.frames.at(-1).function?.includes('decline_card'),
      `${where}: the cause's innermost frame is where it was thrown (decline_card)`);
    checkOwner(event, 'payments', where);
    assert.equal(event.tags['captured_by.team'], 'orders', `${where}: tags.captured_by.team`);
  },
  scope(event, where) {
    assert.equal(event.level, 'info', `${where}: level`);
    assert.equal(event.logger, 'interop', `${where}: logger`);
    assert.equal(event.message, 'inventory low', `${where}: message`);
    checkOwner(event, 'inventory', where);
    assert.equal(event.tags.warehouse, 'w-3', `${where}: tags.warehouse`);
    assert.deepEqual(event.user,
      { id: 'u-42', email: 'ada@example.com', username: 'ada', ip_address: '127.0.0.1' },
      `${where}: user`);
    assert.deepEqual(event.extra, { cart: '3 items', skus: '17' }, `${where}: extra`);
    assert.deepEqual(event.fingerprint, ['{{ default }}', 'inventory'], `${where}: fingerprint`);
    assert.equal(event.transaction, 'GET /stock', `${where}: transaction`);
    assert.deepEqual(event.contexts.trace, { trace_id: TRACE_ID, span_id: '00f067aa0ba902b7' },
      `${where}: contexts.trace`);
    assert.deepEqual(crumbs(event, where),
      [QUERY_CRUMB, { type: 'default', category: 'stock', message: 'counted', level: 'info' }],
      `${where}: breadcrumbs, the scope's first`);
  },
  utf8(event, where) {
    assert.deepEqual(event.logentry,
      { message: 'Grüße {} — 日本語 🚀', formatted: 'Grüße Ünïcødé — 日本語 🚀', params: ['Ünïcødé'] },
      `${where}: logentry`);
    assert.equal(event.tags.city, 'Zürich', `${where}: tags.city`);
    // Sent: ok FF FE | C3 28 | ED A0 80 | caf E9 | E2 82. The truncated sequence at the
    // end is one U+FFFD per byte or per maximal subpart, so either count is accepted.
    assert.match(event.extra.invalid, /^ok\uFFFD{2}\|\uFFFD\(\|\uFFFD{3}\|caf\uFFFD\|\uFFFD{1,2}$/u,
      `${where}: invalid UTF-8 in extra.invalid became U+FFFD`);
    checkOwner(event, 'payments', where);
  },
  invalid_utf8(event, where) {
    assert.equal(event.level, 'info', `${where}: level`);
    assert.match(event.message, /^latin-1 caf\uFFFD and truncated \uFFFD{1,2}$/u,
      `${where}: invalid UTF-8 in the message became U+FFFD`);
    checkOwner(event, 'payments', where);
  },
  escapes(event, where) {
    assert.equal(event.message,
      'quote " backslash \\ slash / nl \n cr \r tab \t bell \x07 unit \x1f ' +
        'nul \0 del \x7f ls \u2028 end',
      `${where}: message with quotes and control characters`);
    assert.deepEqual(event.extra, { json: '{"key": "va\\"lue"}', lines: 'first\nsecond\r\nthird' },
      `${where}: extra`);
    assert.equal(event.tags.quoted, 'say "hi"', `${where}: tags.quoted`);
    checkOwner(event, 'payments', where);
  },
};

/** Checks every event: envelope header, common fields, then its case. */
function checkEvent(event, header, where) {
  assert.match(event.event_id, HEX_ID, `${where}: event_id`);
  assert.equal(event.event_id, header.event_id, `${where}: event_id equals the envelope header's`);
  assert.equal(typeof event.timestamp, 'number', `${where}: timestamp`);
  assert.ok(Math.abs(event.timestamp * 1000 - Date.parse(header.sent_at)) < 60_000,
    `${where}: timestamp within a minute of sent_at`);
  assert.equal(event.platform, 'native', `${where}: platform`);
  assert.ok(LEVELS.includes(event.level), `${where}: level ${event.level}`);
  assert.equal(event.release, RELEASE, `${where}: release`);
  assert.equal(event.environment, ENVIRONMENT, `${where}: environment`);
  assert.equal(event.server_name, SERVER_NAME, `${where}: server_name`);
  assert.deepEqual(event.sdk, header.sdk, `${where}: sdk equals the envelope header's`);
  for (const name of ['os', 'runtime', 'device', 'ownership']) {
    assert.equal(typeof event.contexts?.[name], 'object', `${where}: contexts.${name}`);
  }
  assert.deepEqual(crumbs(event, where)[0], QUERY_CRUMB, `${where}: first breadcrumb`);
  const check = CASES[event.tags?.case];
  assert.ok(check, `${where}: unexpected case tag ${JSON.stringify(event.tags?.case)}`);
  check(event, where);

  if (event.contexts.trace) {
    assert.deepEqual(header.trace, {
      trace_id: event.contexts.trace.trace_id,
      public_key: PUBLIC_KEY,
      release: RELEASE,
      environment: ENVIRONMENT,
      transaction: event.transaction,
    }, `${where}: envelope header trace (dynamic sampling context)`);
  } else {
    assert.equal(header.trace, undefined, `${where}: no trace header without a trace context`);
  }
}

function checkClientReport(report, where) {
  assert.equal(typeof report.timestamp, 'number', `${where}: timestamp`);
  assert.ok(Array.isArray(report.discarded_events) && report.discarded_events.length > 0,
    `${where}: discarded_events`);
  for (const line of report.discarded_events) {
    assert.deepEqual(Object.keys(line).sort(), ['category', 'quantity', 'reason'],
      `${where}: line`);
    assert.ok(Number.isInteger(line.quantity) && line.quantity > 0, `${where}: quantity`);
  }
  return report.discarded_events;
}

/** Parses one request with @sentry/core and checks it; returns what it held. */
function checkRequest(directory, name) {
  const { url, headers } = readHeaders(join(directory, name.replace(/\.envelope$/, '.headers')));
  const endpoint = getEnvelopeEndpointWithUrlEncodedAuth(makeDsn(DSN)).split('?')[0];
  assert.equal(url, endpoint, 'URL is the envelope endpoint @sentry/core derives from the DSN');
  assert.equal(headers.get('content-type'), 'application/x-sentry-envelope', 'Content-Type');
  assert.match(headers.get('x-sentry-auth') ?? '',
    new RegExp(`^Sentry sentry_version=7, sentry_client=[^,]+, sentry_key=${PUBLIC_KEY}$`),
    'X-Sentry-Auth');

  const sent = readFileSync(join(directory, name));
  const encoding = headers.get('content-encoding') ?? 'identity';
  assert.ok(['gzip', 'identity'].includes(encoding), `Content-Encoding ${encoding}`);
  if (encoding === 'gzip') assert.ok(sent[0] === 0x1f && sent[1] === 0x8b, 'gzip magic bytes');
  const bytes = new Uint8Array(encoding === 'gzip' ? gunzipSync(sent) : sent);
  assert.doesNotThrow(() => strictUtf8.decode(bytes), 'the envelope is valid UTF-8');

  let parsed;
  assert.doesNotThrow(() => {
    parsed = parseEnvelope(bytes);
  }, 'parseEnvelope accepts the envelope');
  const [header, items] = parsed;
  const [framedHeader, framedItems] = splitEnvelope(bytes);
  assert.deepEqual(header, framedHeader, 'parseEnvelope read the envelope header line');
  assert.equal(items.length, framedItems.length, 'parseEnvelope found every item');
  for (const [i, [itemHeader, payload]] of items.entries()) {
    assert.deepEqual(itemHeader, framedItems[i][0], `item ${i}: header`);
    assert.ok(payload instanceof Uint8Array, `item ${i}: payload read by its length`);
    assert.equal(payload.length, itemHeader.length, `item ${i}: payload length`);
    assert.equal(Buffer.compare(payload, framedItems[i][1]), 0, `item ${i}: payload bytes`);
  }

  assert.match(header.sent_at, RFC3339_MILLIS, 'sent_at is RFC 3339 with milliseconds');
  assert.ok(Math.abs(Date.parse(header.sent_at) - Date.now()) < 10 * 60_000, 'sent_at is recent');
  assert.equal(header.sdk?.name, 'warden.cpp', 'sdk.name');
  assert.match(header.sdk.version ?? '', /^\d+\.\d+\.\d+/, 'sdk.version');
  if ('dsn' in header) assert.equal(header.dsn, DSN, 'dsn');

  const found = { name, encoding, size: sent.length, events: [], discarded: [], types: [] };
  for (const [i, [itemHeader, payload]] of items.entries()) {
    const where = `item ${i} (${itemHeader.type})`;
    found.types.push(itemHeader.type);
    if (itemHeader.type === 'event') {
      assert.equal(i, 0, 'the event is the first item');
      const event = json(payload);
      checkEvent(event, header, where);
      found.events.push({ id: event.event_id, case: event.tags.case });
    } else if (itemHeader.type === 'client_report') {
      found.discarded.push(...checkClientReport(json(payload), where));
    } else {
      assert.fail(`${where}: unexpected item type`);
    }
  }
  if (found.events.length === 0) {
    assert.equal(header.event_id, undefined, 'no event_id without an event');
  }
  return found;
}

function main() {
  const directory = process.argv[2];
  if (!directory) {
    console.error('usage: node check_envelopes.mjs <directory>');
    process.exit(2);
  }
  const captured = readFileSync(join(directory, 'captured.txt'), 'utf8')
    .split('\n').filter((line) => line !== '').map((line) => line.split(' '));
  const names = readdirSync(directory).filter((name) => name.endsWith('.envelope')).sort();

  const failures = [];
  const requests = [];
  for (const name of names) {
    try {
      requests.push(checkRequest(directory, name));
    } catch (error) {
      const envelope = showBytes(readEnvelope(directory, name));
      failures.push(`${name}: ${error.message}\n  envelope: ${envelope}`);
    }
  }

  // Across requests: each kept case exactly once, with the id its capture returned;
  // the dropped ones never, but counted in client reports (one attached, one alone).
  try {
    const sent = requests.flatMap((request) => request.events);
    for (const [name, id] of captured) {
      const matches = sent.filter((event) => event.id === id);
      if (name === 'dropped') {
        assert.equal(matches.length, 0, `dropped event ${id} was not sent`);
      } else {
        assert.equal(matches.length, 1, `case ${name} (${id}) was sent once`);
        assert.equal(matches[0].case, name, `event ${id} is case ${name}`);
      }
    }
    assert.equal(sent.length, captured.filter(([name]) => name !== 'dropped').length,
      'no other events were sent');
    const dropped = requests.flatMap((request) => request.discarded)
      .filter((line) => line.reason === 'before_send' && line.category === 'error')
      .reduce((sum, line) => sum + line.quantity, 0);
    assert.equal(dropped, captured.filter(([name]) => name === 'dropped').length,
      'client reports count every event before_send dropped');
    assert.ok(requests.some((r) => r.events.length > 0 && r.types.includes('client_report')),
      'a client_report rode on an event envelope');
    assert.ok(requests.some((r) => r.events.length === 0 && r.types.includes('client_report')),
      'a client_report went out alone');
    assert.ok(requests.some((r) => r.encoding === 'gzip'), 'some requests were gzipped');
    assert.ok(requests.some((r) => r.encoding === 'identity'), 'some requests were not');
  } catch (error) {
    failures.push(`across requests: ${error.message}`);
  }

  for (const request of requests) {
    const items = request.types
      .map((type, i) => (type === 'event' ? `event(${request.events[i].case})` : type));
    console.log(`${request.name}  ${request.encoding.padEnd(8)} ` +
      `${String(request.size).padStart(5)} B  ${items.join(' + ')}`);
  }
  if (failures.length > 0) {
    console.error(`\nFAILED (@sentry/core ${sentryVersion} parseEnvelope): ` +
      `${failures.length} problem(s)`);
    for (const failure of failures) console.error(`- ${failure}`);
    process.exit(1);
  }
  const events = requests.reduce((sum, r) => sum + r.events.length, 0);
  console.log(`\nOK: ${requests.length} envelopes (${events} events) parsed by @sentry/core ` +
    `${sentryVersion} parseEnvelope match what warden::sdk was asked to send`);
}

main();
