// Test fixture: the official MCP TypeScript SDK (`@modelcontextprotocol/sdk`) as an MCP client
// with its own OAuth support, unmodified, against an MCP server protected by Tessera tokens.
// The SDK does everything an MCP client does on first contact: it gets 401, reads the
// protected-resource metadata (RFC 9728) the challenge names, discovers the authorization
// server (RFC 8414), registers itself (RFC 7591) or names its metadata document, and starts
// code + PKCE with `resource` (RFC 8707). Only the user's part, signing in at the
// authorization URL, is left to the caller, as a browser would do it.
//
// Get its path next to the relying-party fixture (scripts/openid-client-rp installs both):
//
//   node "$(dirname "$(scripts/openid-client-rp)")/mcp-client.mjs"
//
// One conversation per process, a JSON object per line both ways:
//   stdin  1: {"server_url": "<the MCP endpoint>", "redirect_url": "<loopback callback>",
//              "tool": "<name>", "arguments": {...}, "client_metadata_url": "<optional https
//              URL: offer a client ID metadata document instead of registering>"}
//   stdout 1: {"authorization_url": "..."}        (the SDK asked to send the user there)
//   stdin  2: {"callback_url": "..."}             (where the authorization server sent them)
//   stdout 2: {"client_id", "tokens", "tools": [names], "result": <the tool's CallToolResult>}
// and exits 0. On any error it writes {"error": "<name>", "message": "..."} and exits 1.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function nextMessage() {
  const { value, done } = await lines.next();
  if (done) throw new Error('stdin closed before the expected message');
  return JSON.parse(value);
}

function say(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

// The SDK's OAuthClientProvider, kept in memory: what a desktop MCP client stores on disk.
class MemoryProvider {
  constructor(redirectUrl, clientMetadataUrl) {
    this.redirect = redirectUrl;
    this.clientMetadataUrl = clientMetadataUrl;
    this.expectedState = randomBytes(16).toString('base64url');
  }
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: 'Tessera MCP test client',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    return this.expectedState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(information) {
    this.client = information;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens) {
    this.savedTokens = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

async function main() {
  const input = await nextMessage();
  const serverUrl = new URL(input.server_url);
  const provider = new MemoryProvider(input.redirect_url, input.client_metadata_url);

  // First contact: no token, so the SDK runs discovery and registration and asks for a login.
  const first = new Client({ name: 'tessera-test', version: '1.0.0' });
  const firstTransport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
  try {
    await first.connect(firstTransport);
    throw new Error('the MCP server let the client in without a token');
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  if (!provider.authorizationUrl) throw new Error('the SDK did not ask for a login');
  say({ authorization_url: provider.authorizationUrl.href });

  const { callback_url } = await nextMessage();
  const callback = new URL(callback_url);
  if (callback.searchParams.get('error')) {
    throw new Error(`authorization failed: ${callback.searchParams.get('error')}`);
  }
  if (callback.searchParams.get('state') !== provider.expectedState) {
    throw new Error('the callback carries another state');
  }
  // The transport that met the 401 knows the metadata URL and scope from the challenge.
  await firstTransport.finishAuth(callback.searchParams.get('code'));

  const client = new Client({ name: 'tessera-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }));
  const tools = await client.listTools();
  const result = await client.callTool({ name: input.tool, arguments: input.arguments ?? {} });
  await client.close();
  say({
    client_id: provider.client?.client_id,
    tokens: provider.savedTokens,
    tools: tools.tools.map((tool) => tool.name),
    result,
  });
}

main().then(
  () => process.exit(0),
  (error) => {
    say({ error: error?.name ?? 'Error', message: String(error?.message ?? error) });
    process.exit(1);
  },
);
