// Passkeys on Tessera's pages: registering one in the account console and signing in with one
// on the login page. The server sends WebAuthn options as JSON with base64url byte strings; the
// browser API wants ArrayBuffers, and its answers go back as base64url again.
(function () {
  "use strict";

  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function toText(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function show(form, message) {
    let line = form.querySelector(".passkey-error");
    if (!line) {
      line = document.createElement("p");
      line.className = "error passkey-error";
      line.setAttribute("role", "alert");
      form.prepend(line);
    }
    line.textContent = message;
  }

  async function postForm(url, fields) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || "The server refused the request.");
    return body;
  }

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.message || "The passkey was not accepted.");
    return answer;
  }

  async function register(form) {
    const csrf = form.querySelector("input[name=csrf]").value;
    const name = form.querySelector("input[name=name]").value;
    const options = await postForm(form.dataset.options, { csrf });
    const publicKey = options.publicKey;
    publicKey.challenge = toBytes(publicKey.challenge);
    publicKey.user.id = toBytes(publicKey.user.id);
    (publicKey.excludeCredentials || []).forEach((c) => (c.id = toBytes(c.id)));
    const credential = await navigator.credentials.create({ publicKey });
    const answer = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      extensions: credential.getClientExtensionResults(),
      response: {
        attestationObject: toText(credential.response.attestationObject),
        clientDataJSON: toText(credential.response.clientDataJSON),
        transports: credential.response.getTransports ? credential.response.getTransports() : [],
      },
    };
    const done = await postJson(form.action, { csrf, name, credential: answer });
    window.location.assign(done.location);
  }

  async function signIn(form) {
    const fields = { csrf: form.querySelector("input[name=csrf]").value };
    const interaction = form.querySelector("input[name=interaction]");
    if (interaction) fields.interaction = interaction.value;
    const options = await postForm(form.dataset.options, fields);
    const publicKey = options.publicKey;
    publicKey.challenge = toBytes(publicKey.challenge);
    (publicKey.allowCredentials || []).forEach((c) => (c.id = toBytes(c.id)));
    const credential = await navigator.credentials.get({ publicKey });
    const answer = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      extensions: credential.getClientExtensionResults(),
      response: {
        authenticatorData: toText(credential.response.authenticatorData),
        clientDataJSON: toText(credential.response.clientDataJSON),
        signature: toText(credential.response.signature),
        userHandle: credential.response.userHandle ? toText(credential.response.userHandle) : null,
      },
    };
    const done = await postJson(form.action, Object.assign(fields, { credential: answer }));
    window.location.assign(done.location);
  }

  function wire(selector, ceremony) {
    document.querySelectorAll(selector).forEach((form) => {
      if (!window.PublicKeyCredential) {
        form.hidden = true;
        return;
      }
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        ceremony(form).catch((error) => show(form, error.message || String(error)));
      });
    });
  }

  wire("form.passkey-register", register);
  wire("form.passkey-sign-in", signIn);
})();
