// Test fixture: panva's `openid-client` (v6) as a *relying party* that drives Tessera, for
// Tessera's integration tests (Tessera is the OpenID provider / authorization server).
//
// Get its path through scripts/openid-client-rp, which installs the locked dependencies and
// prints this file's path:
//
//   node "$(scripts/openid-client-rp)" <command> < input.json > output.json
//
// One command per process. The first argument is the command; the process reads ONE JSON object
// from stdin (the command's input) and writes ONE JSON object (the result) followed by a newline
// to stdout, then exits 0. On any error it writes
//
//   {"error": "<JS error name, e.g. ResponseBodyError>", "message": "...",
//    "code": "<openid-client / oauth4webapi error code, when present>",
//    "oauth_error": "<OAuth `error` code, when present>",
//    "error_description": "<OAuth `error_description`, when present>",
//    "status": <HTTP status of the failing response, when known>,
//    "body": <the failing response's body: parsed JSON when it is JSON, else text; for an
//             error in the authorization response (callback URL), its parameters>,
//    "www_authenticate": [{"scheme": "...", "parameters": {...}}, ...]   (when present),
//    "cause": <JSON-safe description of the underlying cause, for debugging>}
//
// to stdout and exits 1 (fields that don't apply are left out). Usage errors (unknown command,
// unparseable input) exit 2 with the same shape. Everything else (library warnings) goes to
// stderr.
//
// The server is plain http on loopback, so every Configuration gets
// `allowInsecureRequests`. Discovery is OpenID Connect discovery:
// `<issuer>/.well-known/openid-configuration`, and the document's `issuer` must equal `issuer`.
//
// Client authentication, in every command that talks to the server (chosen from the input):
//   - `private_jwk` (object) given:       private_key_jwt, signed with that key (its `kid` goes
//                                         into the JWS header, its `alg` is the JWS alg)
//   - else `client_secret` (string) given: `token_endpoint_auth_method` picks
//                                         "client_secret_basic" (default), "client_secret_post"
//                                         or "client_secret_jwt"
//   - else:                               none (public client, only `client_id` is sent)
// Optional `client_metadata` (object) is merged into the client metadata given to discovery
// (e.g. {"id_token_signed_response_alg": "ES256"} to pin the ID token alg; by default the alg
// must be one the discovery document lists in id_token_signing_alg_values_supported).
//
// Private JWKs (client keys and DPoP keys) are imported with WebCrypto; the algorithm comes from
// the JWK's `alg` (ES256/ES384/ES512, PS256/PS384/PS512, RS256/RS384/RS512, EdDSA, Ed25519), or
// when absent from kty/crv (EC -> ES*, OKP Ed25519 -> EdDSA, RSA -> RS256). The JWS `alg` header
// of everything signed with the key (client assertion, request object, DPoP proof) is set to the
// JWK's `alg` (openid-client would write "Ed25519" for an Ed25519 key; an "EdDSA" key keeps
// "EdDSA").
//
// Commands
// --------
//
// keygen
//   in:  {"alg": "ES256" | "ES384" | "ES512" | "PS256" | "PS384" | "PS512" | "RS256" | "RS384"
//                | "RS512" | "EdDSA" | "Ed25519",          (default "ES256")
//         "kid": "..."}                                    (optional; default: the RFC 7638
//                                                           thumbprint of the public key)
//   out: {"private_jwk": {kty, crv/n/e, x, y, d, ..., "kid", "alg", "use": "sig"},
//         "public_jwk":  {the same without the private members}}
//
// begin  (start an authorization code flow; PKCE S256, state and nonce always)
//   in:  {"issuer": "http://127.0.0.1:PORT/realms/r", "client_id": "...",
//         "private_jwk": {...} | null, "client_secret": "..." | null,
//         "token_endpoint_auth_method": "..." (optional, see above),
//         "client_metadata": {...} (optional),
//         "redirect_uri": "...", "scope": "openid profile",
//         "resource": ["https://api.example", ...] | null   (each sent as its own `resource`),
//         "extra_params": {"prompt": "login", "acr_values": ["a", "b"] -> repeated, ...}
//                                                           (optional; `max_age` here is also
//                                                            checked against auth_time in finish),
//         "par": bool,   pushed authorization request; the authorization URL carries client_id
//                        and request_uri only
//         "jar": bool,   signed request object (needs private_jwk; typ oauth-authz-req+jwt,
//                        aud = issuer); the URL carries client_id and request only. With par as
//                        well, the request object is pushed (PAR body: client_id, request and the
//                        client authentication) and the URL carries client_id and request_uri.
//         "dpop": bool,  make a DPoP key pair (ES256 unless "dpop_alg" says otherwise); with par
//                        the PAR request carries a DPoP proof (binding the code to the key); the
//                        key is used again by finish at the token and userinfo endpoints
//         "dpop_alg": "ES256" (optional),
//         "dpop_jkt_param": bool (optional, default false: also send `dpop_jkt=<thumbprint>` as
//                        an authorization request parameter, RFC 9449 section 10),
//         "state_file": "/tmp/.../x.json"}                  (written, mode 0600)
//   out: {"authorization_url": "...", "state": "...", "nonce": "...",
//         "code_challenge": "...", "dpop_jkt": "..." | null}
//
// finish  (complete the flow from the redirect URI the server sent the browser to)
//   in:  {"state_file": "...", "callback_url": "http://.../cb?code=...&state=...&iss=...",
//         "token_resource": [...] | null,   (optional: the `resource` values to send at the token
//                                            endpoint with the code; when the member is absent,
//                                            begin's `resource` is sent again; null or [] sends
//                                            none)
//         "userinfo": bool,                 (optional, default true: false skips the userinfo
//                                            call, e.g. when the access token's audience is only
//                                            a resource server; the output's userinfo is null)
//         "refresh": bool}                  (optional, default true: false skips the refresh
//                                            token grant; the output's refresh is null)
//   The callback URL without its query must equal begin's redirect_uri. Checks state, iss (when
//   the server advertises authorization_response_iss_parameter_supported), the ID token
//   (signature, iss, aud, exp, nonce), then calls userinfo (sub must equal the ID token's sub)
//   and, when a refresh token was issued, the refresh token grant (no extra parameters). With
//   dpop every one of these requests carries a proof made with begin's key.
//   out: {"token_type": "bearer" | "dpop"   (openid-client lowercases it),
//         "access_token": "...", "expires_in": n | null, "scope": "..." | null,
//         "id_token": "...", "id_token_claims": {...}, "refresh_token": "..." | null,
//         "userinfo": {...} | null,
//         "refresh": {"token_type", "access_token", "expires_in", "scope", "refresh_token",
//                     "id_token_claims": {...} | null} | null,
//         "dpop_jkt": "<RFC 7638 thumbprint of the DPoP public key>" | null}
//
// client_credentials
//   in:  {"issuer", "client_id", "private_jwk" | null, "client_secret" | null,
//         "token_endpoint_auth_method" (optional), "client_metadata" (optional),
//         "scope": "..." | null, "resource": [...] | null, "dpop": bool, "dpop_alg" (optional)}
//   out: {"token_type": "bearer" | "dpop", "access_token": "...", "expires_in": n | null,
//         "scope": "..." | null, "dpop_jkt": "..." | null}
//
// A DPoP nonce demanded by the server (`use_dpop_nonce`) is handled by openid-client: it retries
// the request once with the nonce.

import { readFileSync, writeFileSync } from 'node:fs';

import * as client from 'openid-client';

// stdout carries only the one result object.
console.log = console.error;
console.info = console.error;

// ---------------------------------------------------------------------------------------------
// Keys

const encoder = new TextEncoder();

function b64u(bytes) {
  return Buffer.from(bytes).toString('base64url');
}

// RFC 7638 JWK thumbprint (SHA-256, base64url).
async function thumbprint(jwk) {
  let members;
  switch (jwk.kty) {
    case 'EC':
      members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
      break;
    case 'RSA':
      members = { e: jwk.e, kty: jwk.kty, n: jwk.n };
      break;
    case 'OKP':
      members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
      break;
    default:
      throw new TypeError(`thumbprint: unsupported kty ${jwk.kty}`);
  }
  // The members are in lexicographic order already; JSON.stringify keeps insertion order.
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(JSON.stringify(members)));
  return b64u(new Uint8Array(digest));
}

// WebCrypto algorithm parameters (for generateKey and importKey) of a JWS alg.
function webCryptoParams(alg) {
  switch (alg) {
    case 'ES256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ES384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'ES512':
      return { name: 'ECDSA', namedCurve: 'P-521' };
    case 'PS256':
    case 'PS384':
    case 'PS512':
      return { name: 'RSA-PSS', hash: `SHA-${alg.slice(2)}` };
    case 'RS256':
    case 'RS384':
    case 'RS512':
      return { name: 'RSASSA-PKCS1-v1_5', hash: `SHA-${alg.slice(2)}` };
    case 'EdDSA':
    case 'Ed25519':
      return { name: 'Ed25519' };
    default:
      throw new TypeError(`unsupported alg ${JSON.stringify(alg)}`);
  }
}

function algOfJwk(jwk) {
  if (typeof jwk.alg === 'string' && jwk.alg) return jwk.alg;
  if (jwk.kty === 'EC') {
    const alg = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv];
    if (alg) return alg;
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'RS256';
  throw new TypeError(`cannot tell the alg of a JWK with kty ${jwk.kty} and crv ${jwk.crv}`);
}

// Only the key material: WebCrypto is picky about alg/use/key_ops (and Node 20 about
// alg "EdDSA" vs "Ed25519").
function keyMaterial(jwk) {
  const { alg, kid, use, key_ops, ext, ...material } = jwk;
  return material;
}

async function generateJwkPair(alg, kid) {
  const params = webCryptoParams(alg);
  if (params.name === 'RSA-PSS' || params.name === 'RSASSA-PKCS1-v1_5') {
    params.modulusLength = 2048;
    params.publicExponent = new Uint8Array([1, 0, 1]);
  }
  const pair = await crypto.subtle.generateKey(params, true, ['sign', 'verify']);
  const privateMaterial = keyMaterial(await crypto.subtle.exportKey('jwk', pair.privateKey));
  const publicMaterial = keyMaterial(await crypto.subtle.exportKey('jwk', pair.publicKey));
  const keyId = kid ?? await thumbprint(publicMaterial);
  return {
    private_jwk: { ...privateMaterial, kid: keyId, alg, use: 'sig' },
    public_jwk: { ...publicMaterial, kid: keyId, alg, use: 'sig' },
  };
}

async function importPrivateJwk(jwk) {
  if (!jwk || typeof jwk !== 'object') throw new TypeError('private_jwk must be a JWK object');
  const alg = algOfJwk(jwk);
  const key = await crypto.subtle.importKey('jwk', keyMaterial(jwk), webCryptoParams(alg), false, ['sign']);
  return { key, kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg };
}

async function importPublicJwk(jwk) {
  const alg = algOfJwk(jwk);
  // DPoP needs an extractable public key (it goes into the proof's header).
  return crypto.subtle.importKey('jwk', keyMaterial(jwk), webCryptoParams(alg), true, ['verify']);
}

// Options for openid-client functions that sign (client assertion, request object, DPoP proof):
// write the JWK's own alg into the JWS header.
function signingOptions(alg) {
  return {
    [client.modifyAssertion]: (header) => {
      header.alg = alg;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Configuration

async function clientAuthOf(input) {
  if (input.private_jwk) {
    const { key, kid, alg } = await importPrivateJwk(input.private_jwk);
    return {
      auth: client.PrivateKeyJwt({ key, kid }, signingOptions(alg)),
      signing: { key, kid, alg },
    };
  }
  if (typeof input.client_secret === 'string') {
    const method = input.token_endpoint_auth_method ?? 'client_secret_basic';
    switch (method) {
      case 'client_secret_basic':
        return { auth: client.ClientSecretBasic(input.client_secret) };
      case 'client_secret_post':
        return { auth: client.ClientSecretPost(input.client_secret) };
      case 'client_secret_jwt':
        return { auth: client.ClientSecretJwt(input.client_secret) };
      default:
        throw new TypeError(`unsupported token_endpoint_auth_method ${JSON.stringify(method)} with a client_secret`);
    }
  }
  return { auth: client.None() };
}

async function configure(input) {
  required(input, 'issuer');
  required(input, 'client_id');
  const { auth, signing } = await clientAuthOf(input);
  const metadata = { ...(input.client_metadata ?? {}) };
  const config = await client.discovery(new URL(input.issuer), input.client_id, metadata, auth, {
    execute: [client.allowInsecureRequests],
  });
  return { config, signing };
}

async function newDPoPKey(alg) {
  const { private_jwk, public_jwk } = await generateJwkPair(alg ?? 'ES256', undefined);
  return { private_jwk, public_jwk };
}

async function dpopHandle(config, dpopKey) {
  const privateKey = (await importPrivateJwk(dpopKey.private_jwk)).key;
  const publicKey = await importPublicJwk(dpopKey.public_jwk);
  const alg = algOfJwk(dpopKey.public_jwk);
  return client.getDPoPHandle(config, { privateKey, publicKey }, signingOptions(alg));
}

function required(input, name) {
  if (input[name] === undefined || input[name] === null || input[name] === '') {
    throw new UsageError(`input member ${JSON.stringify(name)} is required`);
  }
}

function resourceList(value) {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value;
  throw new TypeError('resource must be null, a string or an array of strings');
}

function appendParam(params, name, value) {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) params.append(name, String(v));
  } else if (typeof value === 'object') {
    params.append(name, JSON.stringify(value));
  } else {
    params.append(name, String(value));
  }
}

function tokenSummary(tokens) {
  return {
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    expires_in: tokens.expires_in ?? null,
    scope: tokens.scope ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Commands

async function keygen(input) {
  return generateJwkPair(input.alg ?? 'ES256', input.kid ?? undefined);
}

async function begin(input) {
  required(input, 'redirect_uri');
  required(input, 'state_file');
  if (input.jar && !input.private_jwk) throw new UsageError('jar needs private_jwk');

  const { config, signing } = await configure(input);

  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();

  const params = new URLSearchParams();
  params.set('redirect_uri', input.redirect_uri);
  if (input.scope !== undefined && input.scope !== null) params.set('scope', input.scope);
  params.set('code_challenge', codeChallenge);
  params.set('code_challenge_method', 'S256');
  params.set('state', state);
  params.set('nonce', nonce);
  for (const r of resourceList(input.resource)) params.append('resource', r);
  for (const [name, value] of Object.entries(input.extra_params ?? {})) {
    params.delete(name);
    appendParam(params, name, value);
  }

  let dpopKey = null;
  let dpop;
  let dpopJkt = null;
  if (input.dpop) {
    dpopKey = await newDPoPKey(input.dpop_alg);
    dpop = await dpopHandle(config, dpopKey);
    dpopJkt = await thumbprint(dpopKey.public_jwk);
    if (input.dpop_jkt_param) params.set('dpop_jkt', dpopJkt);
  }

  let url;
  if (input.jar) {
    // The request object carries every parameter (and client_id, iss, aud, exp, ...); the URL
    // carries client_id and request.
    const jarUrl = await client.buildAuthorizationUrlWithJAR(
      config,
      params,
      { key: signing.key, kid: signing.kid },
      signingOptions(signing.alg),
    );
    url = input.par
      // Push client_id + request (the pattern of openid-client's documentation for JAR + PAR).
      ? await client.buildAuthorizationUrlWithPAR(config, jarUrl.searchParams, { DPoP: dpop })
      : jarUrl;
  } else if (input.par) {
    url = await client.buildAuthorizationUrlWithPAR(config, params, { DPoP: dpop });
  } else {
    url = client.buildAuthorizationUrl(config, params);
  }

  const maxAge = input.extra_params?.max_age;
  const saved = {
    input,
    code_verifier: codeVerifier,
    state,
    nonce,
    max_age: maxAge === undefined || maxAge === null ? null : Number(maxAge),
    dpop_key: dpopKey,
  };
  writeFileSync(input.state_file, JSON.stringify(saved, null, 2), { mode: 0o600 });

  return {
    authorization_url: url.href,
    state,
    nonce,
    code_challenge: codeChallenge,
    dpop_jkt: dpopJkt,
  };
}

async function finish(input) {
  required(input, 'state_file');
  required(input, 'callback_url');
  const saved = JSON.parse(readFileSync(input.state_file, 'utf8'));
  const begun = saved.input;

  const { config } = await configure(begun);
  const dpop = saved.dpop_key ? await dpopHandle(config, saved.dpop_key) : undefined;
  const dpopJkt = saved.dpop_key ? await thumbprint(saved.dpop_key.public_jwk) : null;

  const tokenParams = new URLSearchParams();
  const tokenResource = 'token_resource' in input ? input.token_resource : begun.resource;
  for (const r of resourceList(tokenResource)) tokenParams.append('resource', r);

  const checks = {
    pkceCodeVerifier: saved.code_verifier,
    expectedState: saved.state,
    expectedNonce: saved.nonce,
    idTokenExpected: true,
  };
  if (saved.max_age !== null && saved.max_age !== undefined) checks.maxAge = saved.max_age;

  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(input.callback_url),
    checks,
    tokenParams,
    { DPoP: dpop },
  );
  const idTokenClaims = tokens.claims();
  if (!idTokenClaims) throw new Error('the token response has no ID token');

  let userinfo = null;
  if (input.userinfo !== false) {
    userinfo = await client.fetchUserInfo(config, tokens.access_token, idTokenClaims.sub, { DPoP: dpop });
  }

  let refresh = null;
  if (tokens.refresh_token && input.refresh !== false) {
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop });
    refresh = {
      ...tokenSummary(refreshed),
      refresh_token: refreshed.refresh_token ?? null,
      id_token_claims: refreshed.claims() ?? null,
    };
  }

  return {
    ...tokenSummary(tokens),
    id_token: tokens.id_token,
    id_token_claims: idTokenClaims,
    refresh_token: tokens.refresh_token ?? null,
    userinfo,
    refresh,
    dpop_jkt: dpopJkt,
  };
}

async function clientCredentials(input) {
  const { config } = await configure(input);
  let dpop;
  let dpopJkt = null;
  if (input.dpop) {
    const dpopKey = await newDPoPKey(input.dpop_alg);
    dpop = await dpopHandle(config, dpopKey);
    dpopJkt = await thumbprint(dpopKey.public_jwk);
  }
  const params = new URLSearchParams();
  if (input.scope !== undefined && input.scope !== null) params.set('scope', input.scope);
  for (const r of resourceList(input.resource)) params.append('resource', r);
  const tokens = await client.clientCredentialsGrant(config, params, { DPoP: dpop });
  return { ...tokenSummary(tokens), dpop_jkt: dpopJkt };
}

const commands = {
  keygen,
  begin,
  finish,
  client_credentials: clientCredentials,
};

// ---------------------------------------------------------------------------------------------
// Errors and I/O

class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

// A JSON-safe rendering of an error's cause (which may be a Response, URLSearchParams, an
// OperationProcessingError with a nested cause, a plain object ...).
function jsonSafe(value, depth = 0) {
  if (depth > 4) return '[…]';
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return typeof value === 'function' ? `[function ${value.name}]` : value;
  if (value instanceof URLSearchParams) return Object.fromEntries(value.entries());
  if (value instanceof URL) return value.href;
  if (typeof Response !== 'undefined' && value instanceof Response) {
    return { response_status: value.status, response_url: value.url };
  }
  if (typeof CryptoKey !== 'undefined' && value instanceof CryptoKey) return '[CryptoKey]';
  if (value instanceof Error) {
    const out = { name: value.name, message: value.message };
    if (value.code !== undefined) out.code = value.code;
    if (value.cause !== undefined) out.cause = jsonSafe(value.cause, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => jsonSafe(v, depth + 1));
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v, depth + 1);
  return out;
}

async function responseBody(response) {
  if (!response || response.bodyUsed) return undefined;
  try {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  } catch {
    return undefined;
  }
}

async function describeError(err) {
  if (!(err instanceof Error)) return { error: 'Error', message: String(err) };
  const out = { error: err.name, message: err.message };
  if (err.code !== undefined) out.code = err.code;
  if (typeof err.error === 'string') out.oauth_error = err.error;
  if (typeof err.error_description === 'string') out.error_description = err.error_description;
  if (typeof err.status === 'number') out.status = err.status;

  if (err instanceof client.ResponseBodyError) {
    // cause: the parsed JSON error response body.
    out.body = jsonSafe(err.cause);
  } else if (err instanceof client.AuthorizationResponseError) {
    // cause: the authorization response's parameters (error, error_description, state, iss...).
    out.body = jsonSafe(err.cause);
  } else if (err instanceof client.WWWAuthenticateChallengeError) {
    out.www_authenticate = jsonSafe(err.cause);
    const body = await responseBody(err.response);
    if (body !== undefined && body !== '') out.body = body;
  } else if (typeof Response !== 'undefined' && err.cause instanceof Response) {
    // e.g. "unexpected HTTP response status code": the cause is the response itself.
    out.status = err.cause.status;
    const body = await responseBody(err.cause);
    if (body !== undefined) out.body = body;
  } else if (err.cause !== undefined) {
    out.cause = jsonSafe(err.cause);
    // An invalid response's cause usually carries the offending body.
    const body = err.cause?.cause?.body ?? err.cause?.body;
    if (body !== undefined) out.body = jsonSafe(body);
  }
  return out;
}

function emit(object, exitCode) {
  process.stdout.write(`${JSON.stringify(object)}\n`, () => process.exit(exitCode));
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  const name = process.argv[2];
  const command = commands[name];
  if (!command) {
    throw new UsageError(`usage: rp.mjs <${Object.keys(commands).join('|')}> < input.json (got ${JSON.stringify(name ?? null)})`);
  }
  const text = await readStdin();
  let input;
  try {
    input = JSON.parse(text);
  } catch (cause) {
    throw new UsageError(`stdin is not JSON: ${cause.message}`);
  }
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new UsageError('stdin must hold one JSON object');
  }
  return command(input);
}

process.on('unhandledRejection', (err) => {
  console.error('rp.mjs: unhandled rejection', err);
});

main().then(
  (result) => emit(result, 0),
  async (err) => {
    console.error('rp.mjs:', err);
    let described;
    try {
      described = await describeError(err);
    } catch (inner) {
      described = { error: err?.name ?? 'Error', message: String(err?.message ?? err) };
    }
    emit(described, err instanceof UsageError ? 2 : 1);
  },
);
