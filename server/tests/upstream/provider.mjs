// Test fixture: panva's `oidc-provider` as an *upstream* OpenID provider on loopback, for
// Tessera's federation tests (Tessera is the relying party / broker).
//
// Start it through scripts/oidc-provider-upstream, which installs the locked dependencies and
// prints this file's path:
//
//   node "$(scripts/oidc-provider-upstream)"
//
// It listens on 127.0.0.1 on a port the OS chooses, with the issuer `http://127.0.0.1:<port>`
// (no trailing slash; discovery at `<issuer>/.well-known/openid-configuration`), and prints
// exactly one line to stdout once it accepts connections:
//
//   listening http://127.0.0.1:<port>
//
// Everything else (the library's notices and warnings, errors) goes to stderr: a caller that
// pipes stderr must keep reading it (or inherit it / send it to a file), or the process blocks
// once the pipe is full. oidc-provider 9 warns "Unsupported runtime" on Node.js 20 (it asks for
// 22 LTS); the flows used here run on 20.20.
//
// Environment:
//   UPSTREAM_CLIENT_ID       (required) the one registered client's id
//   UPSTREAM_CLIENT_SECRET   (required) its secret; it authenticates at the token endpoint with
//                            client_secret_basic or client_secret_post (the library accepts either
//                            for a client registered with one of the two)
//   UPSTREAM_REDIRECT_URI    (required) its one redirect URI (http on loopback is fine)
//   UPSTREAM_SKIP_CONSENT    (optional) `1` grants the requested scopes without the consent page,
//                            so that the sign-in is one form (the login) instead of two
//
// Sign-in uses the library's development interactions (features.devInteractions): a login form
// (fields `prompt=login`, `login`, `password`; any login is accepted and becomes the account id,
// the password is not checked) and a consent form (field `prompt=consent`), both POSTed to
// `/interaction/<uid>`. A plain HTTP client with a cookie jar (not following redirects, or
// following them: every step is a 303 with a GET to follow) signs in like this:
//
//   1. GET  /auth?response_type=code&client_id=..&redirect_uri=..&scope=openid%20email%20profile
//           &state=..&nonce=..&code_challenge=..&code_challenge_method=S256
//        -> 303, Location: /interaction/<uid1> (relative); sets _interaction(.sig) with
//           path=/interaction/<uid1> and _interaction_resume(.sig) with path=/auth/<uid1>
//   2. GET  /interaction/<uid1>        -> 200 HTML login form, action <issuer>/interaction/<uid1>
//   3. POST /interaction/<uid1>  (application/x-www-form-urlencoded)
//           prompt=login&login=<account id>&password=<anything>
//        -> 303, Location: <issuer>/auth/<uid1> (absolute)
//   4. GET  /auth/<uid1>
//        -> 303, Location: /interaction/<uid2>; sets _session(.sig) (path=/) and new
//           _interaction/_interaction_resume cookies for <uid2>
//           (with UPSTREAM_SKIP_CONSENT=1: 303 straight to the redirect URI, go to 7)
//   5. GET  /interaction/<uid2>        -> 200 HTML consent form, action <issuer>/interaction/<uid2>
//   6. POST /interaction/<uid2>        prompt=consent
//        -> 303, Location: <issuer>/auth/<uid2>
//   7. GET  /auth/<uid2>
//        -> 303, Location: <redirect_uri>?code=..&state=..&iss=<issuer url-encoded>
//
// Once signed in (the _session cookie), a new /auth request answers the redirect URI at once,
// unless prompt=login or prompt=consent asks again. Errors after the client and redirect URI
// are known (e.g. missing PKCE) go back to the redirect URI as ?error=invalid_request&...
//
// Denial: GET /interaction/<uid>/abort -> 303 <issuer>/auth/<uid> -> 303
// <redirect_uri>?error=access_denied&error_description=End-User+aborted+interaction&state=..
//
// PKCE with S256 is required on every authorization request (`plain` is not supported).
//
// Accounts: any account id exists, with the claims sub=<id>, email=<id>@upstream.test,
// email_verified=true, name="Upstream <id>", preferred_username=<id>. Scopes: openid, email,
// profile. The email and profile claims are released both in the ID token
// (conformIdTokenClaims: false) and at the userinfo endpoint (`/me`).
//
// Lifetime: exits on SIGTERM / SIGINT, and when its stdin is a pipe (or socket) that closes, so
// a test that spawns it with a piped stdin and dies does not leave it running. A stdin that is
// a terminal or /dev/null is not watched.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

// The library prints its notices with console.info (stdout); stdout carries only the
// `listening` line, so route everything else to stderr.
console.log = console.error;
console.info = console.error;

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}

const clientId = required('UPSTREAM_CLIENT_ID');
const clientSecret = required('UPSTREAM_CLIENT_SECRET');
const redirectUri = required('UPSTREAM_REDIRECT_URI');
const skipConsent = process.env.UPSTREAM_SKIP_CONSENT === '1';

let server;
let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  console.error(`provider.mjs: stopping (${reason})`);
  if (server) {
    server.close();
    server.closeAllConnections?.();
  }
  // Don't wait for lingering keep-alive sockets.
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

let stdinStat;
try {
  stdinStat = fstatSync(0);
} catch {
  stdinStat = undefined;
}
if (stdinStat && (stdinStat.isFIFO() || stdinStat.isSocket())) {
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume(); // read and discard, so that 'end' fires
}

// A signing key of our own, made at startup, instead of the library's shared development key.
const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: `upstream-${randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

function accountClaims(id) {
  return {
    sub: id,
    email: `${id}@upstream.test`,
    email_verified: true,
    name: `Upstream ${id}`,
    preferred_username: id,
  };
}

server = createServer();
server.on('error', (err) => {
  console.error('provider.mjs: server error', err);
  process.exit(1);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const configuration = {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [signingKey] },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // No `secure` flag: the cookies are only marked Secure when the request came over https,
      // which it never does here.
    },
    scopes: ['openid', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    // PKCE (S256 only) on every authorization request, not only for public clients: a relying
    // party that forgets it fails here.
    pkce: { required: () => true },
    // Release the scope-requested claims in the ID token as well, not only at userinfo.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
    },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return accountClaims(id);
        },
      };
    },
    ...(skipConsent ? {
      // Grant every requested scope/claim at once, so that no consent prompt is shown.
      async loadExistingGrant(ctx) {
        const grantId = ctx.oidc.result?.consent?.grantId
          || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
        let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
        if (!grant) {
          grant = new ctx.oidc.provider.Grant({
            accountId: ctx.oidc.session.accountId,
            clientId: ctx.oidc.client.clientId,
          });
        }
        grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
        const claims = ctx.oidc.requestParamClaims;
        if (claims?.size) grant.addOIDCClaims([...claims]);
        await grant.save();
        return grant;
      },
    } : {}),
  };

  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (ctx, err) => console.error('provider.mjs: server_error', err));
  server.on('request', provider.callback());

  process.stdout.write(`listening ${issuer}\n`);
});
