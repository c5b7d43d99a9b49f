/* SafeClass: the warning before a signed-in staff session times out (WCAG 2.2.1).
 *
 * The server ends a session SESSION_COOKIE_AGE seconds (data-session-seconds on <body>)
 * after the last request it answered; every request moves that end on. Two minutes before
 * the end (half-way for a session shorter than four minutes: tests), a warning appears
 * first in the main content with a "Stay signed in" button, which POSTs to the keep-alive
 * address and so starts the time again. Focus stays where it is: the warning is
 * role="alert", so a screen reader says it, and it is the first thing in <main> (one Tab
 * after "Skip to main content"). If nobody answers, the warning becomes "You have been
 * signed out" with a link to sign in again; the page is not left, so what was typed on it
 * can still be copied.
 *
 * The words are in base.html (<template id="session-strings">, translated); this script
 * has none of its own. Other tabs of the same browser share one session: each page
 * records when it last reached the server (localStorage), so a page opened in another
 * tab moves this tab's warning on too. A script on the page that asks the server for
 * something in the background (recordings/progress.js) moves it on as well, by sending a
 * "safeclass:server-answered" event with {sent, received} times.
 */
(function () {
  "use strict";

  var seconds = parseInt(document.body.getAttribute("data-session-seconds") || "", 10);
  var strings = document.getElementById("session-strings");
  var main = document.getElementById("main");
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!(seconds > 0) || !strings || !main || !meta || !window.fetch) { return; }

  var S = {};
  var box = strings.content || strings;
  box.querySelectorAll("[data-s]").forEach(function (el) {
    S[el.getAttribute("data-s")] = el.textContent.trim();
  });
  var signInLink = box.querySelector('[data-s="sign_in"]');
  var keepAliveUrl = strings.getAttribute("data-keep-alive");
  var token = meta.getAttribute("content");

  // Signing in again in another tab gives a new CSRF token; the cookie has the newest.
  function csrfToken() {
    var found = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return found ? decodeURIComponent(found[1]) : token;
  }

  var AGE = seconds * 1000;
  var LEAD = AGE < 4 * 60 * 1000 ? AGE / 2 : 2 * 60 * 1000;
  var STORE = "safeclass.session";
  var STATUS_MS = 10000;

  // The last request the server answered. Its session ends AGE after the server handled
  // it, which was after the request was `sent` and before the answer was `received`:
  // warn counting from the first, say "signed out" only counting from the second.
  var last = {sent: 0, received: 0};

  var state = "quiet";  // "warning" while the warning shows, "out" once signed out
  var warning = null;
  var focusBefore = null;
  var statusTimer = null;

  var status = document.createElement("div");
  status.className = "session-status";
  status.setAttribute("role", "status");
  main.insertBefore(status, main.firstChild);

  function remember(sent, received) {
    if (received <= last.received) { return; }
    last = {sent: sent, received: received};
    try { window.localStorage.setItem(STORE, JSON.stringify(last)); } catch (e) { /* private mode */ }
  }

  function fromOtherTabs() {
    var other = null;
    try { other = JSON.parse(window.localStorage.getItem(STORE) || "null"); } catch (e) { return; }
    if (other && typeof other.sent === "number" && typeof other.received === "number"
        && other.received > last.received && other.received <= Date.now()) {
      last = {sent: other.sent, received: other.received};
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function say(text) {
    window.clearTimeout(statusTimer);
    status.textContent = text;
    if (text) {
      statusTimer = window.setTimeout(function () { status.textContent = ""; }, STATUS_MS);
    }
  }

  // Takes the warning away; if it held focus, gives focus back to where it was before the
  // warning appeared (the field being filled in, say), or else to the main content.
  function removeWarning() {
    var hadFocus = warning !== null && warning.contains(document.activeElement);
    if (warning) { warning.remove(); }
    warning = null;
    if (!hadFocus) { return false; }
    var back = focusBefore;
    if (back && back !== document.body && document.contains(back)) { back.focus(); }
    else { main.focus(); }
    return true;
  }

  function showWarning(msLeft) {
    var minutes = Math.max(1, Math.ceil(msLeft / 60000));
    var text = minutes > 1 ? S.warning.split("{n}").join(String(minutes)) : S.warning_one;
    state = "warning";
    focusBefore = document.activeElement;
    say("");
    warning = el("div", "session-warning");
    warning.setAttribute("role", "alert");
    warning.appendChild(el("p", "session-warning-text", text));
    var button = el("button", "button", S.stay);
    button.type = "button";
    button.addEventListener("click", stay);
    warning.appendChild(button);
    main.insertBefore(warning, main.firstChild);
  }

  function signedOut() {
    var hadFocus = warning !== null && warning.contains(document.activeElement);
    state = "out";
    say("");
    if (warning) { warning.remove(); }
    warning = el("div", "session-warning session-signed-out");
    warning.setAttribute("role", "alert");
    warning.appendChild(el("p", "session-warning-text", S.signed_out));
    var para = el("p");
    var link = signInLink.cloneNode(true);
    link.removeAttribute("data-s");
    para.appendChild(link);
    warning.appendChild(para);
    main.insertBefore(warning, main.firstChild);
    if (hadFocus) { link.focus(); }
  }

  function failed() {
    if (!warning || state !== "warning") { return; }
    var old = warning.querySelector(".session-warning-error");
    if (old) { old.remove(); }
    // Added inside the alert, so it is announced too.
    warning.appendChild(el("p", "session-warning-error", S.failed));
  }

  var busy = false;
  function stay() {
    if (busy || state !== "warning") { return; }
    busy = true;
    var sent = Date.now();
    window.fetch(keepAliveUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"},
    }).then(function (response) {
      if (response.ok) {
        remember(sent, Date.now());
        state = "quiet";
        removeWarning();
        say(S.still);
        return null;
      }
      // 403 with {"signed_in": false}: the session had already ended. Anything else (a
      // refused CSRF token, the server restarting) may work when tried again.
      return response.json().then(function (data) {
        if (data && data.signed_in === false) { signedOut(); } else { failed(); }
      });
    }).catch(failed).then(function () { busy = false; });
  }

  function check() {
    if (state === "out") { return; }
    fromOtherTabs();
    var now = Date.now();
    if (now >= last.received + AGE) {
      signedOut();
    } else if (now >= last.sent + AGE - LEAD) {
      if (state !== "warning") { showWarning(last.sent + AGE - now); }
    } else if (state === "warning") {
      // Another tab reached the server: the session goes on.
      state = "quiet";
      removeWarning();
    }
  }

  // This page's own request: it left when the navigation started.
  var loaded = Date.now();
  var navigationStart = (window.performance && performance.timeOrigin) || loaded;
  fromOtherTabs();
  remember(Math.min(navigationStart, loaded), loaded);
  // Every second, and at once when the tab is shown again (hidden tabs' timers are slowed)
  // or another tab records a request.
  window.setInterval(check, 1000);
  document.addEventListener("visibilitychange", check);
  window.addEventListener("pageshow", check);
  window.addEventListener("storage", function (event) {
    if (event.key === STORE) { check(); }
  });
  window.addEventListener("safeclass:server-answered", function (event) {
    var at = event.detail || {};
    if (typeof at.sent === "number" && typeof at.received === "number") {
      remember(at.sent, at.received);
      check();
    }
  });
}());
