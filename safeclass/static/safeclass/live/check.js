/* SafeClass: the pupil's camera and microphone check before a live lesson.
 *
 * Shows a preview of the camera, a microphone level bar and plain messages; tells an
 * old browser it is out of date. "Next" is enabled only while a camera track is live.
 * The server cannot see any of this: the room page checks the camera again.
 * Written without newer syntax so that an old browser can still show its message.
 */
(function () {
  "use strict";

  var root = document.getElementById("check");
  if (!root) { return; }
  var startButton = document.getElementById("check-start");
  var nextButton = document.getElementById("check-next");
  var preview = document.getElementById("check-preview");
  var level = document.getElementById("check-level");
  var statusBox = document.getElementById("check-status");
  var browserBox = document.getElementById("check-browser");

  var stream = null;
  var audioContext = null;
  var frame = null;

  function message(key) {
    var item = document.querySelector('#check-messages [data-key="' + key + '"]');
    return item ? item.textContent : key;
  }

  function say(key) { statusBox.textContent = message(key); }

  function setNext(enabled) {
    nextButton.disabled = !enabled;
    nextButton.setAttribute("aria-disabled", enabled ? "false" : "true");
  }

  // --------------------------------------------------------------- the browser
  function majorVersion(pattern) {
    var found = navigator.userAgent.match(pattern);
    return found ? parseInt(found[1], 10) : null;
  }

  function browserOutOfDate() {
    var oldest = {
      chromium: parseInt(root.getAttribute("data-oldest-chromium"), 10),
      firefox: parseInt(root.getAttribute("data-oldest-firefox"), 10),
      safari: parseInt(root.getAttribute("data-oldest-safari"), 10)
    };
    var firefox = majorVersion(/Firefox\/(\d+)/);
    if (firefox !== null) { return firefox < oldest.firefox; }
    var chromium = majorVersion(/(?:Chrome|Chromium)\/(\d+)/);
    if (chromium !== null) { return chromium < oldest.chromium; }
    if (/Safari\//.test(navigator.userAgent)) {
      var safari = majorVersion(/Version\/(\d+)/);
      if (safari !== null) { return safari < oldest.safari; }
    }
    return false;  // a browser we do not know: its features decide
  }

  function browserProblem() {
    var media = navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
    if (!window.RTCPeerConnection || !window.WebSocket) { return "unsupported"; }
    if (!media) { return window.isSecureContext === false ? "insecure" : "unsupported"; }
    if (browserOutOfDate()) { return "outdated"; }
    return null;
  }

  // --------------------------------------------------------------- the devices
  function stopAll() {
    if (frame !== null) { window.cancelAnimationFrame(frame); frame = null; }
    if (audioContext) { audioContext.close(); audioContext = null; }
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    preview.srcObject = null;
    level.value = 0;
  }

  function cameraLive() {
    if (!stream) { return false; }
    return stream.getVideoTracks().some(function (t) { return t.readyState === "live"; });
  }

  function showLevel(audioStream) {
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext || audioStream.getAudioTracks().length === 0) { return; }
    audioContext = new AudioContext();
    var analyser = audioContext.createAnalyser();
    analyser.fftSize = 512;
    audioContext.createMediaStreamSource(audioStream).connect(analyser);
    var samples = new Uint8Array(analyser.fftSize);
    if (audioContext.state === "suspended") { audioContext.resume(); }
    function draw() {
      analyser.getByteTimeDomainData(samples);
      var sum = 0;
      for (var i = 0; i < samples.length; i++) {
        var x = (samples[i] - 128) / 128;
        sum += x * x;
      }
      var rms = Math.sqrt(sum / samples.length);
      level.value = Math.min(100, Math.round(rms * 300));
      frame = window.requestAnimationFrame(draw);
    }
    draw();
  }

  function watchTracks() {
    stream.getVideoTracks().forEach(function (track) {
      track.addEventListener("ended", function () {
        setNext(false);
        say("stopped");
        startButton.hidden = false;
      });
    });
  }

  function cameraWorks(gotStream, microphoneMissing) {
    stream = gotStream;
    preview.srcObject = stream;
    var played = preview.play();
    if (played && played.catch) { played.catch(function () { /* muted: autoplay allowed */ }); }
    watchTracks();
    showLevel(stream);
    if (cameraLive()) {
      setNext(true);
      say(microphoneMissing ? "no_microphone" : "ok");
      startButton.hidden = true;
    } else {
      say("failed");
    }
  }

  function failed(error) {
    setNext(false);
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError" ||
        name === "PermissionDeniedError") {
      say("refused");
    } else if (name === "NotFoundError" || name === "DevicesNotFoundError" ||
               name === "OverconstrainedError") {
      say("no_camera");
    } else if (name === "NotReadableError" || name === "TrackStartError" ||
               name === "AbortError") {
      say("busy");
    } else {
      say("failed");
    }
    startButton.textContent = message("retry");
    startButton.hidden = false;
  }

  function start() {
    stopAll();
    setNext(false);
    say("working");
    navigator.mediaDevices.getUserMedia({ video: true, audio: true })
      .then(function (got) { cameraWorks(got, false); })
      .catch(function (error) {
        if (error && (error.name === "NotFoundError" || error.name === "OverconstrainedError")) {
          // Which one is missing? A camera alone is enough to go on.
          return navigator.mediaDevices.getUserMedia({ video: true, audio: false })
            .then(function (got) { cameraWorks(got, true); })
            .catch(failed);
        }
        failed(error);
        return null;
      });
  }

  setNext(false);
  var problem = browserProblem();
  if (problem) {
    browserBox.textContent = message(problem);
    browserBox.hidden = false;
    if (problem !== "outdated") {
      startButton.hidden = true;
      return;
    }
  }
  startButton.addEventListener("click", start);
  nextButton.form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!cameraLive()) { setNext(false); say("stopped"); return; }
    window.location.assign(nextButton.form.action);  // without the empty "?" of a GET form
  });
  window.addEventListener("pagehide", stopAll);
  window.addEventListener("pageshow", function (event) {
    // Back from the next page: the camera was switched off when this page was left.
    if (event.persisted) { setNext(false); startButton.hidden = false; say("stopped"); }
  });
})();
