// A real OpenID Connect provider (panva's oidc-provider) for the staff sign-in tests, on loopback.
//
// Started by tests/support/oidc_provider.py; configured by one JSON object in OIDC_TEST_CONFIG:
//   {"port": 0, "clients": [{"client_id", "client_secret", "redirect_uris", ...}],
//    "users": {"anna": {"email": ..., "groups": [...]}}}
// stdout carries exactly one line, `READY <issuer>`, once the server listens; everything else goes
// to stderr. The provider exits when its stdin closes, so it cannot outlive the test process.
//
// Fault injection lets a test play a misbehaving provider: after `POST /__test/faults` with
// {"id_token": {"aud": "someone-else"}}, the next token response carries an ID token with those
// claims overridden (null removes a claim) and re-signed with the provider's own key, so only the
// claim is wrong, never the signature. `POST /__test/faults/clear` forgets a pending fault.
//
// It can also behave as some real providers do, with nothing re-signed: after
// `POST /__test/reauthentication` with {"honour": false} it ignores `prompt` and `max_age` on
// authorization requests and answers from the session it has ({"honour": true} undoes it);
// `POST /__test/sessions/age` with {"seconds": N} makes every sign-in so far count as made N
// seconds earlier (its auth_time and the provider's own max_age checks alike), as if that much
// time had passed at the provider.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

// oidc-provider announces its quick-start features (the dev login screens and in-memory storage,
// which are exactly what a test provider wants) and, on Node 20, that it prefers Node 22 LTS (it
// only needs crypto.hash and URL.parse, which Node 20.20 has). Those lines are expected noise;
// anything else it says goes to stderr, and stdout stays free for the READY line.
const expected = ['development-only', 'Unsupported runtime'];
for (const level of ['info', 'warn']) {
  console[level] = (...args) => {
    const text = args.join(' ');
    if (text.startsWith('oidc-provider ') && expected.some((part) => text.includes(part))) {
      return;
    }
    console.error(...args);
  };
}

// Imported after the console is patched: oidc-provider warns while it loads.
const { Provider } = await import('oidc-provider');

const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? '{}');
const users = config.users ?? {};
const TTL_SECONDS = 10 * 60; // short, yet longer than any test

// The issuer must be the URL clients use, so the port is fixed before the Provider exists: listen
// first (port 0 lets the kernel choose), then attach the provider's handler.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port ?? 0, '127.0.0.1', resolve);
});
const issuer = config.issuer ?? `http://127.0.0.1:${server.address().port}`;

// One RS256 key per run: the JWKS publishes it, and fault injection re-signs with it.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    // The portal checks auth_time against max_age, so every ID token carries it.
    require_auth_time: true,
    ...client,
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  responseTypes: ['code'],
  pkce: { required: () => true }, // S256 is the only method oidc-provider 9 accepts
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // Put the scopes' claims into the ID token itself, so the relying party needs no userinfo call.
  conformIdTokenClaims: false,
  findAccount(ctx, id) {
    const user = users[id];
    if (user === undefined) {
      return undefined;
    }
    return { accountId: id, claims: async () => ({ sub: id, ...user }) };
  },
  features: { devInteractions: { enabled: true } },
  ttl: {
    AccessToken: TTL_SECONDS,
    AuthorizationCode: 60,
    IdToken: TTL_SECONDS,
    Interaction: TTL_SECONDS,
    Session: TTL_SECONDS,
    Grant: TTL_SECONDS,
    RefreshToken: TTL_SECONDS,
  },
  // Plain text rather than the default page (which loads a web font): the Python helper puts it
  // in its error message when a login goes wrong.
  renderError(ctx, out) {
    ctx.type = 'text/plain';
    ctx.body = JSON.stringify(out);
  },
});

// Sessions signed in up to `agedUpTo` count as signed in `ageSeconds` earlier.
let ageSeconds = 0;
let agedUpTo = 0;
const epochNow = () => Math.floor(Date.now() / 1000);
function agedLogin(session) {
  const { loginTs } = session;
  return loginTs !== undefined && loginTs <= agedUpTo ? loginTs - ageSeconds : loginTs;
}
provider.Session.prototype.authTime = function authTime() {
  return agedLogin(this);
};
provider.Session.prototype.past = function past(age) {
  const loginTs = agedLogin(this);
  return loginTs ? epochNow() - loginTs > +age : true;
};

provider.on('server_error', (ctx, error) => console.error('oidc-provider server_error:', error));

let idTokenFault = null;
let honourReauthentication = true;

function base64urlJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function resign(idToken, overrides) {
  const [header, payload] = idToken.split('.');
  const claims = { ...base64urlJson(payload) };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === null) {
      delete claims[name];
    } else {
      claims[name] = value;
    }
  }
  const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = crypto.sign('sha256', Buffer.from(signingInput), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/faults' && ctx.method === 'POST') {
    const body = await readJson(ctx.req);
    idTokenFault = body.id_token ?? null;
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/__test/faults/clear' && ctx.method === 'POST') {
    idTokenFault = null;
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/__test/reauthentication' && ctx.method === 'POST') {
    honourReauthentication = (await readJson(ctx.req)).honour !== false;
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/__test/sessions/age' && ctx.method === 'POST') {
    ageSeconds = Number((await readJson(ctx.req)).seconds ?? 0);
    agedUpTo = epochNow();
    ctx.status = 204;
    return;
  }
  if (!honourReauthentication && ctx.path === '/auth' && ctx.method === 'GET') {
    const query = { ...ctx.query };
    delete query.prompt;
    delete query.max_age;
    ctx.query = query;
  }
  await next();
  if (idTokenFault && ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: resign(ctx.body.id_token, idTokenFault) };
    idTokenFault = null;
  }
});

server.on('request', provider.callback());

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));

process.stdout.write(`READY ${issuer}\n`);
