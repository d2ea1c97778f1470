// The console's one script (an ES module; the Content-Security-Policy
// allows no inline script). It runs the OAuth sign-in popup:
//
// - On the connect form of an OAuth driver (form[data-oauth]) it opens the
//   sign-in window at once (so no popup blocker objects), asks the console
//   for the provider's authorize URL, and sends the window there. A
//   blocked window is explained and the form falls back to a full-page
//   redirect; a window closed before the sign-in finished is detected and
//   explained.
// - On the page the sign-in comes back to (#oauth-done in the popup) it
//   posts the outcome to the opener, for this origin only, and closes.
// The opener accepts a message only from this origin and from the window
// it opened, then shows the tenant as the host stored it.

const MESSAGE = "crmhost-oauth";

function say(box, text, bad) {
  if (!box) return;
  box.className = bad ? "alert bad" : "alert info";
  box.textContent = text;
  box.focus?.();
}

function popupForm(form) {
  const box = document.getElementById("oauth-status");
  let popup = null;
  let finished = false;
  let timer = 0;

  window.addEventListener("message", (ev) => {
    if (ev.origin !== window.location.origin || ev.source !== popup) return;
    const d = ev.data || {};
    if (d.type !== MESSAGE) return;
    finished = true;
    clearInterval(timer);
    if (d.status === "connected" && d.next) {
      window.location.assign(d.next);
      return;
    }
    say(box, "The CRM was not connected: " + (d.reason || "the sign-in did not finish") + ".", true);
    if (d.next) {
      const a = document.createElement("a");
      a.href = d.next;
      a.textContent = " See the tenant.";
      box.appendChild(a);
    }
  });

  form.addEventListener("submit", async (ev) => {
    if (form.dataset.fallback === "1") return; // full-page redirect
    ev.preventDefault();
    finished = false;
    popup = window.open("about:blank", "crmhost-oauth", "popup,width=560,height=720");
    if (!popup) {
      say(box, "The browser blocked the sign-in window. Allow pop-ups for this site, or continue in this tab:", true);
      const b = document.createElement("button");
      b.type = "button";
      b.id = "oauth-fallback";
      b.textContent = "Continue the sign-in in this tab";
      b.addEventListener("click", () => { form.dataset.fallback = "1"; form.requestSubmit(); });
      box.appendChild(document.createTextNode(" "));
      box.appendChild(b);
      return;
    }
    say(box, "Waiting for the sign-in in the other window…", false);
    const body = new URLSearchParams(new FormData(form));
    body.set("popup", "1");
    let answer;
    try {
      const res = await fetch(form.action, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" });
      answer = await res.json();
    } catch (e) {
      answer = { error: { message: "The console could not start the sign-in." } };
    }
    if (!answer.authorize_url) {
      popup.close();
      say(box, (answer.error && answer.error.message) || "The sign-in could not start.", true);
      return;
    }
    popup.location.href = answer.authorize_url;
    timer = setInterval(() => {
      if (popup.closed && !finished) {
        clearInterval(timer);
        say(box, "The sign-in window was closed before the sign-in finished; nothing was changed. Start again when the customer is ready.", true);
      }
    }, 400);
  });
}

function done(el) {
  if (el.dataset.popup !== "1" || !window.opener) return;
  window.opener.postMessage({ type: MESSAGE, status: el.dataset.status, tenant: el.dataset.tenant,
    reason: el.dataset.reason, next: el.dataset.next }, window.location.origin);
  window.close();
}

for (const f of document.querySelectorAll("form[data-oauth]")) popupForm(f);
const d = document.getElementById("oauth-done");
if (d) done(d);
