/* SafeClass: the recording block on a lesson's page.
 *
 * While the recording is being made or prepared, asks the server every few seconds how
 * far along it is (a small JSON view) and updates the status, the progress bar and the
 * link. Stops asking once the recording is ready, empty, failed or deleted. The status
 * text is a polite live region: it is rewritten only when the status changes, so screen
 * readers are not told the same thing every few seconds.
 */
(function () {
  "use strict";

  var block = document.getElementById("recording-block");
  if (!block || !block.getAttribute("data-poll") || !window.fetch) { return; }
  var url = block.getAttribute("data-poll");
  var statusText = document.getElementById("recording-status");
  var progress = document.getElementById("recording-progress");
  var bar = document.getElementById("recording-progress-bar");
  var percent = document.getElementById("recording-percent");
  var step = document.getElementById("recording-step");
  var link = document.getElementById("recording-link");
  var EVERY_MS = 4000;
  var timer = null;

  function show(data) {
    if (data.label && statusText.textContent !== data.label) {
      statusText.textContent = data.label;
    }
    var preparing = data.status === "queued" || data.status === "processing";
    progress.hidden = !preparing;
    if (preparing) {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
      percent.textContent = String(data.percent);
      step.textContent = data.step || "";
    }
    if (link) {
      var anchor = link.querySelector("a");
      if (data.url && anchor) { anchor.href = data.url; }
      link.hidden = !data.url;
    }
  }

  function poll() {
    timer = null;
    var sent = Date.now();
    window.fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        // The server answered, so the staff session goes on: tell session.js.
        window.dispatchEvent(new CustomEvent("safeclass:server-answered",
                                             {detail: {sent: sent, received: Date.now()}}));
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.busy) { timer = window.setTimeout(poll, EVERY_MS); }
      })
      .catch(function () {
        // Signed out, or the server restarting: try again a little later.
        timer = window.setTimeout(poll, EVERY_MS * 3);
      });
  }

  timer = window.setTimeout(poll, EVERY_MS);
}());
