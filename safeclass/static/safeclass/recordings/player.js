/* SafeClass: the recording player.
 *
 * Keeps the overlay clock (the viewer's name and the current date and time, drawn over
 * the video so any screen capture carries them) ticking every second, and gives the
 * player plain buttons that work with the keyboard: play or pause, back and forward ten
 * seconds, and full screen for the player *with* its overlay (the video's own full screen
 * is turned off, as it would hide the overlay). The overlay is aria-hidden: a clock read
 * out every second would drown everything else.
 */
(function () {
  "use strict";

  var player = document.getElementById("recording-player");
  var video = document.getElementById("recording-video");
  var clock = document.getElementById("recording-clock");
  var controls = document.getElementById("recording-controls");
  if (!player || !video || !clock) { return; }

  var lang = document.documentElement.lang || undefined;
  function tick() {
    var now = new Date();
    var text;
    try {
      text = now.toLocaleString(lang, {
        day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
    } catch (e) {
      text = now.toLocaleString();
    }
    clock.textContent = text;
  }
  tick();
  window.setInterval(tick, 1000);

  if (!controls) { return; }
  controls.hidden = false;
  var playButton = controls.querySelector('[data-action="play"]');

  function showPlaying() {
    playButton.textContent = video.paused ? playButton.getAttribute("data-play-label")
                                          : playButton.getAttribute("data-pause-label");
  }

  function seek(by) {
    var to = video.currentTime + by;
    if (isFinite(video.duration)) { to = Math.min(to, video.duration); }
    video.currentTime = Math.max(0, to);
  }

  controls.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button") : null;
    if (!button) { return; }
    var action = button.getAttribute("data-action");
    if (action === "play") {
      if (video.paused) {
        var started = video.play();
        if (started && started.catch) { started.catch(function () {}); }
      } else {
        video.pause();
      }
    } else if (action === "back") {
      seek(-10);
    } else if (action === "forward") {
      seek(10);
    } else if (action === "fullscreen") {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else if (player.requestFullscreen) {
        player.requestFullscreen();
      }
    }
  });
  video.addEventListener("play", showPlaying);
  video.addEventListener("pause", showPlaying);
  video.addEventListener("ended", showPlaying);
  showPlaying();
}());
