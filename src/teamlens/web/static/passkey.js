// teamlens: the browser side of a passkey step. The page carries the options as JSON in a data
// attribute (#passkey-options); a click asks the passkey to register or to sign, and the answer is posted
// back with the page's CSRF token. Nothing here runs on its own, and nothing loads from elsewhere.
"use strict";
const fromB64 = (text) => {
  const plain = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(plain + "===".slice((plain.length + 3) % 4)), (c) => c.charCodeAt(0));
};
const toB64 = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function passkeyStep() {
  const holder = document.getElementById("passkey-options");
  const status = document.getElementById("passkey-status");
  const options = JSON.parse(holder.dataset.options);
  options.challenge = fromB64(options.challenge);
  let answer;
  try {
    if (holder.dataset.mode === "register") {
      options.user.id = fromB64(options.user.id);
      (options.excludeCredentials || []).forEach((c) => { c.id = fromB64(c.id); });
      const made = await navigator.credentials.create({ publicKey: options });
      answer = { id: made.id, rawId: toB64(made.rawId), type: made.type, response: {
        clientDataJSON: toB64(made.response.clientDataJSON),
        attestationObject: toB64(made.response.attestationObject) } };
    } else {
      (options.allowCredentials || []).forEach((c) => { c.id = fromB64(c.id); });
      const signed = await navigator.credentials.get({ publicKey: options });
      answer = { id: signed.id, rawId: toB64(signed.rawId), type: signed.type, response: {
        clientDataJSON: toB64(signed.response.clientDataJSON),
        authenticatorData: toB64(signed.response.authenticatorData),
        signature: toB64(signed.response.signature) } };
    }
  } catch (error) {
    status.textContent = "The passkey step did not complete (" + error.name + "). Nothing was recorded.";
    return;
  }
  const form = new FormData();
  form.append("csrf", holder.dataset.csrf);
  form.append("credential", JSON.stringify(answer));
  const reply = await fetch(holder.dataset.action, { method: "POST", body: form, credentials: "same-origin" });
  if (reply.ok && reply.redirected) {
    window.location.href = reply.url;
  } else {
    status.textContent = "Refused (" + reply.status + "): " + (await reply.text()).replace(/<[^>]*>/g, " ").slice(0, 400);
  }
}

document.getElementById("passkey-start").addEventListener("click", passkeyStep);
