// A YouTrack on-change workflow rule that tells warden-sink when a ticket it created is
// resolved or reopened, so that the Warden issue follows (docs/SINK.md, "Two-way
// state"). YouTrack has no outbound webhooks of its own; this rule is the webhook.
//
// Install: Administration > Workflows > New workflow > add an on-change rule, paste
// this file, set WARDEN_HOOK_URL and WARDEN_HOOK_SECRET below (the secret is the
// tracker's `inbound_secret` in sink.yaml), and attach the workflow to the projects
// that escalation.owners names. Only tickets Warden created are looked up; the sink
// answers 200 "unknown_ticket" for the others and changes nothing.
const entities = require('@jetbrains/youtrack-scripting-api/entities');
const http = require('@jetbrains/youtrack-scripting-api/http');

// POST /api/0/hooks/youtrack/<tracker name in sink.yaml>
const WARDEN_HOOK_URL = 'https://warden.example.internal/api/0/hooks/youtrack/youtrack';
const WARDEN_HOOK_SECRET = 'replace-with-the-inbound_secret';

exports.rule = entities.Issue.onChange({
  title: 'Tell Warden when a ticket is resolved or reopened',
  guard: (ctx) => ctx.issue.isReported && (ctx.issue.becomesResolved || ctx.issue.becomesUnresolved),
  action: (ctx) => {
    const issue = ctx.issue;
    const state = issue.fields.State;
    const report = {
      idReadable: issue.id,
      resolved: issue.becomesResolved,
      state: state ? state.name : '',
      updatedBy: ctx.currentUser ? ctx.currentUser.login : '',
      timestamp: Date.now(),
    };
    const connection = new http.Connection(WARDEN_HOOK_URL, null, 5000);
    connection.addHeader('Content-Type', 'application/json');
    connection.addHeader('Authorization', 'Bearer ' + WARDEN_HOOK_SECRET);
    const response = connection.postSync('', [], JSON.stringify(report));
    if (!response || !response.isSuccess) {
      // The change stays in YouTrack; Warden's issue can be changed by hand (PUT
      // /api/0/issues/<id>) and its log (GET /api/0/hooks/deliveries) shows what came.
      console.warn('warden-sink did not take the report for ' + issue.id + ': ' +
                   (response ? response.code + ' ' + response.response : 'no answer'));
    }
  },
  requirements: {},
});
