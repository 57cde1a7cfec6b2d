// Sends what a real @sentry/node application sends to a sink: an exception thrown and
// caught, a message, and a transaction with child spans, each event tagged with the owner
// (team, function, product) warden-sink groups by. Run by node_to_sink_test.cpp against a
// real warden-sink, once per trace lifecycle:
//
//   node node_to_sink.mjs <dsn> static   # the transaction as a `transaction` item
//   node node_to_sink.mjs <dsn> stream   # the default: spans as `span` (v2) items
//
// Prints one JSON line on stdout: the SDK's version, the ids of the two events, whether
// flush and close finished, and every request the transport made (item types and the
// HTTP status the sink answered). Exits 1 when the SDK reports a failure itself.
import { createRequire } from 'node:module';
import * as Sentry from '@sentry/node';

const [dsn, lifecycle] = process.argv.slice(2);
if (!dsn || !['static', 'stream'].includes(lifecycle)) {
  console.error('usage: node node_to_sink.mjs <dsn> static|stream');
  process.exit(2);
}
const sdkVersion = createRequire(import.meta.url)('@sentry/node/package.json').version;

// What node_to_sink_test.cpp expects; keep the two in sync.
const RELEASE = 'node-interop@2.0.0';
const ENVIRONMENT = 'interop';
const PAYMENTS = { team: 'payments', function: 'backend', product: 'checkout' };
const STOREFRONT = { team: 'storefront', function: 'frontend', product: 'shop' };

// Every request the SDK's own transport made: what it carried and how it was answered.
const requests = [];
function recordingTransport(options) {
  const transport = Sentry.makeNodeTransport(options);
  return {
    ...transport,
    async send(envelope) {
      const items = envelope[1].map(([header]) => header.type);
      try {
        const response = await transport.send(envelope);
        requests.push({ items, status: response.statusCode ?? 0 });
        return response;
      } catch (error) {
        requests.push({ items, status: 0, error: String(error) });
        throw error;
      }
    },
  };
}

Sentry.init({
  dsn,
  release: RELEASE,
  environment: ENVIRONMENT,
  tracesSampleRate: 1.0,
  traceLifecycle: lifecycle,
  transport: recordingTransport,
  debug: !!process.env.WARDEN_INTEROP_DEBUG,
});

// Thrown from a named function so the event has an application frame to group by.
function chargeCard(card) {
  throw new TypeError(`card ${card} declined`);
}

let exceptionId = '';
Sentry.withScope((scope) => {
  scope.setTags(PAYMENTS);
  try {
    chargeCard('4242');
  } catch (error) {
    exceptionId = Sentry.captureException(error);
  }
});

let messageId = '';
Sentry.withScope((scope) => {
  scope.setTags(STOREFRONT);
  messageId = Sentry.captureMessage('cart service answered slowly', 'warning');
});

await Sentry.startSpan({ name: 'POST /checkout', op: 'http.server' }, async () => {
  Sentry.getActiveSpan()?.setAttributes({ team: PAYMENTS.team, function: PAYMENTS.function });
  await Sentry.startSpan({ name: 'SELECT cart', op: 'db.query' }, () =>
    new Promise((resolve) => setTimeout(resolve, 5)));
  await Sentry.startSpan({ name: 'authorize card', op: 'http.client' }, () =>
    new Promise((resolve) => setTimeout(resolve, 5)));
});

const flushed = await Sentry.flush(10000);
const closed = await Sentry.close(10000);
console.log(JSON.stringify({
  sdk_version: sdkVersion,
  lifecycle,
  exception_id: exceptionId,
  message_id: messageId,
  flushed,
  closed,
  requests,
}));
process.exit(flushed && closed ? 0 : 1);
