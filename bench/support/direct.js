/* A bare janus.js VideoRoom client for the direct baseline: the same steps as SafeClass'
 * media.js (join as publisher with a given id and token, publish camera and microphone,
 * and once Janus has configured the publisher, subscribe to the wanted feeds), with no
 * SafeClass server in between.
 *
 * window.benchDirect.start(creds) -> Promise of {audio_mid, video_mid, started}
 *   creds: {server, token, room, id, display, subscribe: [feed ids]}
 * window.benchDirect.subscribe(feed) / .unsubscribe(feed) */
(function () {
  "use strict";
  var PLUGIN = "janus.plugin.videoroom";
  var janus = null, pub = null, privateId = null, creds = null;
  var subs = {};

  function init() {
    return new Promise(function (resolve) {
      window.Janus.init({ debug: false, dependencies: window.Janus.useDefaultDependencies(),
                          callback: resolve });
    });
  }

  function show(track) {
    var video = document.createElement("video");
    video.autoplay = true;
    video.muted = true;
    video.playsInline = true;
    video.srcObject = new MediaStream([track]);
    document.getElementById("videos").appendChild(video);
  }

  function subscribe(feed) {
    return new Promise(function (resolve, reject) {
      janus.attach({
        plugin: PLUGIN,
        success: function (handle) {
          subs[feed] = handle;
          handle.send({ message: { request: "join", ptype: "subscriber", room: creds.room,
                                   streams: [{ feed: feed }], private_id: privateId,
                                   token: creds.token } });
        },
        error: reject,
        onmessage: function (msg, jsep) {
          var handle = subs[feed];
          if (msg.error) { reject(new Error(msg.error)); return; }
          if (jsep) {
            handle.createAnswer({
              jsep: jsep,
              success: function (answer) {
                handle.send({ message: { request: "start" }, jsep: answer });
                resolve();
              },
              error: reject
            });
          }
        },
        onremotetrack: function (track, mid, on) {
          if (on && track.kind === "video") { show(track); }
        },
        oncleanup: function () {}
      });
    });
  }

  function start(c) {
    creds = c;
    var started = window.__bench.now();
    return init().then(function () {
      return new Promise(function (resolve, reject) {
        janus = new window.Janus({
          server: creds.server, token: creds.token, error: reject,
          success: function () {
            janus.attach({
              plugin: PLUGIN,
              error: reject,
              success: function (handle) {
                pub = handle;
                handle.send({ message: { request: "join", ptype: "publisher", room: creds.room,
                                         id: creds.id, display: creds.display,
                                         token: creds.token } });
              },
              onmessage: function (msg, jsep) {
                if (jsep) { pub.handleRemoteJsep({ jsep: jsep }); }
                if (msg.error) { reject(new Error(msg.error)); return; }
                if (msg.videoroom === "joined") {
                  privateId = msg.private_id;
                  pub.createOffer({
                    tracks: [{ type: "audio", capture: true, recv: false },
                             { type: "video", capture: true, recv: false }],
                    success: function (offer) {
                      pub.send({ message: { request: "publish", audio: true, video: true },
                                 jsep: offer });
                    },
                    error: reject
                  });
                } else if (msg.videoroom === "event" && msg.configured === "ok") {
                  var mids = { audio_mid: null, video_mid: null, started: started };
                  (msg.streams || []).forEach(function (s) {
                    if (s.type === "audio" && mids.audio_mid === null) { mids.audio_mid = String(s.mid); }
                    if (s.type === "video" && mids.video_mid === null) { mids.video_mid = String(s.mid); }
                  });
                  (creds.subscribe || []).forEach(function (feed) { subscribe(feed); });
                  resolve(mids);
                }
              },
              onlocaltrack: function () {},
              onremotetrack: function () {},
              oncleanup: function () {}
            });
          }
        });
      });
    });
  }

  function unsubscribe(feed) {
    var handle = subs[feed];
    delete subs[feed];
    if (handle) {
      handle.send({ message: { request: "leave" } });
      handle.detach();
    }
  }

  window.benchDirect = { start: start, subscribe: subscribe, unsubscribe: unsubscribe };
})();
