/* SafeClass lesson room: the WebSocket to the server.
 *
 * Reconnects with exponential backoff and jitter (1 s doubling to 15 s, ±30 %), except
 * after close codes 4403/4404 or a final message (removed, ended, refused). The server
 * decides everything; this only carries JSON both ways. */
(function () {
  "use strict";

  var FINAL_TYPES = { removed: true, ended: true, refused: true };
  var NO_RETRY_CODES = { 4403: true, 4404: true };

  function RoomSocket(path, handlers) {
    this.path = path;
    this.handlers = handlers; // onmessage(msg), onstatus(status, detail)
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
    this.pingTimer = null;
  }

  RoomSocket.prototype.url = function () {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + this.path;
  };

  RoomSocket.prototype.delay = function () {
    var base = Math.min(15000, 1000 * Math.pow(2, this.attempt));
    var jitter = base * 0.3 * (Math.random() * 2 - 1);
    return Math.max(250, Math.round(base + jitter));
  };

  RoomSocket.prototype.connect = function () {
    var self = this;
    if (self.stopped) { return; }
    self.handlers.onstatus(self.attempt ? "reconnecting" : "connecting");
    var ws;
    try {
      ws = new WebSocket(self.url());
    } catch (e) {
      self.retry();
      return;
    }
    self.ws = ws;
    ws.onopen = function () {
      self.attempt = 0;
      self.handlers.onstatus("connected");
      clearInterval(self.pingTimer);
      self.pingTimer = setInterval(function () { self.send({ intent: "ping" }); }, 25000);
    };
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (!msg || typeof msg.type !== "string") { return; }
      if (FINAL_TYPES[msg.type]) { self.stop(); }
      try {
        self.handlers.onmessage(msg);
      } catch (e) {
        // One message the page could not draw must not stop the next ones.
        if (window.console) { window.console.error("room: " + msg.type + ": " + e); }
      }
    };
    ws.onclose = function (event) {
      clearInterval(self.pingTimer);
      if (self.ws === ws) { self.ws = null; }
      if (NO_RETRY_CODES[event.code]) { self.stop(); }
      if (self.stopped) {
        self.handlers.onstatus("closed", event.code);
        return;
      }
      self.retry();
    };
    ws.onerror = function () { /* onclose follows */ };
  };

  RoomSocket.prototype.retry = function () {
    var self = this;
    if (self.stopped) { return; }
    var wait = self.delay();
    self.attempt += 1;
    self.handlers.onstatus("reconnecting", wait);
    clearTimeout(self.timer);
    self.timer = setTimeout(function () { self.connect(); }, wait);
  };

  RoomSocket.prototype.send = function (obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) { return false; }
    this.ws.send(JSON.stringify(obj));
    return true;
  };

  RoomSocket.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
  };

  RoomSocket.prototype.close = function () {
    this.stop();
    if (this.ws) { this.ws.close(1000); }
  };

  window.SafeClassRoom = window.SafeClassRoom || {};
  window.SafeClassRoom.RoomSocket = RoomSocket;
})();
