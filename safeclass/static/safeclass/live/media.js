/* SafeClass lesson room: audio and video through Janus (janus.js).
 *
 * The server sends this browser its own Janus credentials ("media" message) and, in each
 * "state" snapshot, the only feeds it may watch. This module joins the room as a
 * publisher with exactly those credentials, publishes camera and microphone, tells the
 * server the stream ids ("published"), and subscribes to the named feeds only. */
(function () {
  "use strict";

  var PLUGIN = "janus.plugin.videoroom";
  var initPromise = null;

  function initJanus() {
    if (!initPromise) {
      initPromise = new Promise(function (resolve, reject) {
        if (typeof window.Janus === "undefined") {
          reject(new Error("janus.js did not load"));
          return;
        }
        window.Janus.init({
          debug: false,
          dependencies: window.Janus.useDefaultDependencies(),
          callback: function () { resolve(); }
        });
      });
    }
    return initPromise;
  }

  function midsFrom(streams, pc) {
    var mids = { audio_mid: null, video_mid: null };
    (streams || []).forEach(function (s) {
      if (s.type === "audio" && mids.audio_mid === null) { mids.audio_mid = String(s.mid); }
      if (s.type === "video" && mids.video_mid === null) { mids.video_mid = String(s.mid); }
    });
    if (pc && (mids.audio_mid === null || mids.video_mid === null)) {
      pc.getTransceivers().forEach(function (t) {
        var track = t.sender && t.sender.track;
        if (!track || t.mid === null) { return; }
        if (track.kind === "audio" && mids.audio_mid === null) { mids.audio_mid = t.mid; }
        if (track.kind === "video" && mids.video_mid === null) { mids.video_mid = t.mid; }
      });
    }
    return mids;
  }

  /* handlers: status(key, detail), localTrack(track, on), localEnded(),
   * published(mids), remoteTrack(feed, track, on), feedGone(feed), screen(on) */
  function Media(handlers) {
    this.h = handlers;
    this.janus = null;
    this.creds = null;
    this.pub = null;
    this.screen = null;
    this.privateId = null;
    this.subs = {};          // feed id -> plugin handle (or "pending")
    this.wanted = [];        // feed ids the latest state names
    this.failed = {};        // feed id -> time a subscription failed (retried later)
    this.generation = 0;     // bumps on stop(): late callbacks of an old session do nothing
    this.watchTimer = null;
  }

  Media.prototype.active = function () { return this.janus !== null; };

  Media.prototype.start = function (creds) {
    var self = this;
    if (self.creds && self.janus && creds.publisher_id === self.creds.publisher_id &&
        creds.token === self.creds.token) {
      return; // the same credentials again (e.g. after a reconnect): already in
    }
    self.stop();
    self.creds = creds;
    var gen = self.generation;
    self.h.status("video_starting");
    initJanus().then(function () {
      if (gen !== self.generation) { return; }
      self.janus = new window.Janus({
        server: creds.janus_url,
        token: creds.token,
        success: function () {
          if (gen !== self.generation) { return; }
          self.attachPublisher(gen);
        },
        error: function (err) {
          if (gen !== self.generation) { return; }
          self.h.status("video_failed", String(err));
        },
        destroyed: function () {}
      });
    }, function (err) {
      self.h.status("video_failed", String(err));
    });
  };

  Media.prototype.attachPublisher = function (gen) {
    var self = this;
    var creds = self.creds;
    self.janus.attach({
      plugin: PLUGIN,
      success: function (handle) {
        if (gen !== self.generation) { handle.detach(); return; }
        self.pub = handle;
        handle.send({ message: {
          request: "join", ptype: "publisher", room: creds.room,
          id: creds.publisher_id, display: creds.display, token: creds.token } });
      },
      error: function (err) { self.h.status("video_failed", String(err)); },
      onmessage: function (msg, jsep) {
        if (gen !== self.generation) { return; }
        self.onPublisherMessage(msg, jsep);
      },
      onlocaltrack: function (track, on) {
        if (gen !== self.generation) { return; }
        if (on && track && track.kind === "video") { self.watchLocal(track); }
        self.h.localTrack(track, on);
      },
      onremotetrack: function () {},
      oncleanup: function () {}
    });
  };

  Media.prototype.onPublisherMessage = function (msg, jsep) {
    var self = this;
    if (jsep) { self.pub.handleRemoteJsep({ jsep: jsep }); }
    if (msg.error) {
      self.h.status("video_failed", msg.error);
      return;
    }
    if (msg.videoroom === "joined") {
      self.privateId = msg.private_id;
      self.publish();
    } else if (msg.videoroom === "event" && msg.configured === "ok") {
      var pc = self.pub.webrtcStuff && self.pub.webrtcStuff.pc;
      var mids = midsFrom(msg.streams, pc);
      self.h.status("video_on");
      self.h.published(mids);
      self.syncFeeds();
    }
  };

  Media.prototype.publish = function () {
    var self = this;
    self.pub.createOffer({
      tracks: [
        { type: "audio", capture: true, recv: false },
        { type: "video", capture: true, recv: false }
      ],
      success: function (jsep) {
        self.pub.send({ message: { request: "publish", audio: true, video: true }, jsep: jsep });
      },
      error: function (err) {
        self.h.status("video_failed", err && err.name ? err.name : String(err));
        self.h.localEnded();
      }
    });
  };

  Media.prototype.watchLocal = function (track) {
    var self = this;
    track.addEventListener("ended", function () { self.h.localEnded(); });
    clearInterval(self.watchTimer);
    self.watchTimer = setInterval(function () {
      if (track.readyState === "ended") {
        clearInterval(self.watchTimer);
        self.h.localEnded();
      }
    }, 2000);
  };

  /* Subscribe to exactly the feeds the server names; drop the others. */
  Media.prototype.setFeeds = function (feeds) {
    this.wanted = (feeds || []).map(String);
    this.syncFeeds();
  };

  Media.prototype.syncFeeds = function () {
    var self = this;
    var own = self.creds ? [String(self.creds.publisher_id),
                            String(self.creds.screen_publisher_id)] : [];
    Object.keys(self.subs).forEach(function (feed) {
      if (self.wanted.indexOf(feed) === -1) { self.unsubscribe(feed); }
    });
    if (!self.janus || self.privateId === null) { return; } // not joined yet
    var now = Date.now();
    self.wanted.forEach(function (feed) {
      if (own.indexOf(feed) !== -1 || self.subs[feed]) { return; }
      if (self.failed[feed] && now - self.failed[feed] < 5000) { return; }
      self.subscribe(feed);
    });
  };

  Media.prototype.subscribe = function (feed) {
    var self = this;
    var gen = self.generation;
    var creds = self.creds;
    self.subs[feed] = "pending";
    self.janus.attach({
      plugin: PLUGIN,
      success: function (handle) {
        if (gen !== self.generation || self.subs[feed] !== "pending") {
          handle.detach();
          return;
        }
        self.subs[feed] = handle;
        handle.send({ message: {
          request: "join", ptype: "subscriber", room: creds.room,
          streams: [{ feed: feed }], private_id: self.privateId, token: creds.token } });
      },
      error: function () { delete self.subs[feed]; },
      onmessage: function (msg, jsep) {
        var handle = self.subs[feed];
        if (gen !== self.generation || !handle || handle === "pending") { return; }
        if (msg.error) {
          // Not published (yet) or gone: try again a little later while it is named.
          handle.detach();
          delete self.subs[feed];
          self.failed[feed] = Date.now();
          setTimeout(function () {
            if (gen === self.generation) { self.syncFeeds(); }
          }, 5500);
          return;
        }
        if (jsep) {
          handle.createAnswer({
            jsep: jsep,
            success: function (answer) {
              handle.send({ message: { request: "start" }, jsep: answer });
            },
            error: function () {}
          });
        }
      },
      onremotetrack: function (track, mid, on) {
        if (gen !== self.generation || self.wanted.indexOf(feed) === -1) { return; }
        // "off" may only mean muted at the server: the page keeps the element.
        self.h.remoteTrack(feed, track, on);
      },
      oncleanup: function () {}
    });
  };

  Media.prototype.unsubscribe = function (feed) {
    var handle = this.subs[feed];
    delete this.subs[feed];
    if (handle && handle !== "pending") {
      try { handle.send({ message: { request: "leave" } }); } catch (e) { /* gone */ }
      try { handle.detach(); } catch (e) { /* gone */ }
    }
    this.h.feedGone(feed);
  };

  /* The host's screen, on a second publisher handle with its own id. */
  Media.prototype.startScreen = function () {
    var self = this;
    var creds = self.creds;
    if (!self.janus || !creds || !creds.screen_publisher_id || self.screen) { return; }
    var gen = self.generation;
    self.janus.attach({
      plugin: PLUGIN,
      success: function (handle) {
        if (gen !== self.generation) { handle.detach(); return; }
        self.screen = handle;
        handle.send({ message: {
          request: "join", ptype: "publisher", room: creds.room,
          id: creds.screen_publisher_id, display: creds.display, token: creds.token } });
      },
      error: function () { self.h.screen(false, "failed"); },
      onmessage: function (msg, jsep) {
        var handle = self.screen;
        if (gen !== self.generation || !handle) { return; }
        if (jsep) { handle.handleRemoteJsep({ jsep: jsep }); }
        if (msg.error) { self.stopScreen("failed"); return; }
        if (msg.videoroom === "joined") {
          handle.createOffer({
            tracks: [{ type: "screen", capture: true, recv: false }],
            success: function (offer) {
              handle.send({ message: { request: "publish", audio: false, video: true },
                            jsep: offer });
            },
            error: function () { self.stopScreen("failed"); }
          });
        } else if (msg.videoroom === "event" && msg.configured === "ok") {
          self.h.screen(true);
        }
      },
      onlocaltrack: function (track, on) {
        if (on && track && track.kind === "video") {
          track.addEventListener("ended", function () { self.stopScreen(); });
        }
      },
      onremotetrack: function () {},
      oncleanup: function () {}
    });
  };

  Media.prototype.stopScreen = function (why) {
    var handle = this.screen;
    this.screen = null;
    if (handle) {
      try { handle.send({ message: { request: "unpublish" } }); } catch (e) { /* gone */ }
      try { handle.hangup(); handle.detach(); } catch (e) { /* gone */ }
    }
    this.h.screen(false, why);
  };

  /* Hang up everything and destroy the Janus session (media_revoked, removed, ended). */
  Media.prototype.stop = function () {
    var self = this;
    self.generation += 1;
    clearInterval(self.watchTimer);
    Object.keys(self.subs).forEach(function (feed) { self.unsubscribe(feed); });
    if (self.screen) { self.stopScreen(); }
    if (self.pub) {
      try { self.pub.hangup(); self.pub.detach(); } catch (e) { /* gone */ }
    }
    if (self.janus) {
      try { self.janus.destroy({ cleanupHandles: true }); } catch (e) { /* gone */ }
    }
    self.pub = null;
    self.janus = null;
    self.creds = null;
    self.privateId = null;
    self.h.localTrack(null, false);
  };

  window.SafeClassRoom = window.SafeClassRoom || {};
  window.SafeClassRoom.Media = Media;
})();
