/* Bench probe, added to every bench page before its own scripts (Playwright init script,
 * so the page's Content Security Policy does not apply). It keeps every RTCPeerConnection
 * the page makes and polls getStats every 20 ms:
 *   window.__bench.firstVideoFrame  time (ms, wall clock) of the first decoded video frame
 *                                   of any inbound video stream;
 *   window.__bench.audio[ssrc]      {packets, lastIncrease}: inbound audio packets received
 *                                   and when that count last grew;
 *   window.__bench.sent             [{at, intent}] every JSON intent sent on a WebSocket;
 *   window.__bench.received         [{at, msg}] every JSON message received on one;
 *   window.__bench.pairs()          Promise of the selected ICE pairs' addresses.
 * Times are performance.timeOrigin + performance.now(), comparable across pages. */
(function () {
  "use strict";
  var now = function () { return performance.timeOrigin + performance.now(); };
  var bench = window.__bench = { firstVideoFrame: null, audio: {}, sent: [], received: [],
                                 sockets: [], trace: [], now: now };
  var pcs = [];
  var Native = window.RTCPeerConnection;
  if (Native) {
    var Wrapped = function (config, constraints) {
      var pc = new Native(config, constraints);
      pcs.push(pc);
      return pc;
    };
    Wrapped.prototype = Native.prototype;
    Object.setPrototypeOf(Wrapped, Native);
    window.RTCPeerConnection = Wrapped;
  }
  var NativeWs = window.WebSocket;
  if (NativeWs) {
    var nativeSend = NativeWs.prototype.send;
    NativeWs.prototype.send = function (data) {
      try {
        var parsed = JSON.parse(data);
        if (parsed && parsed.intent) { bench.sent.push({ at: now(), intent: parsed.intent }); }
      } catch (e) { /* not JSON */ }
      return nativeSend.call(this, data);
    };
    var WrappedWs = function (url, protocols) {
      var ws = protocols === undefined ? new NativeWs(url) : new NativeWs(url, protocols);
      bench.sockets.push(ws);
      ws.addEventListener("message", function (event) {
        try { bench.received.push({ at: now(), msg: JSON.parse(event.data) }); } catch (e) { /* */ }
      });
      return ws;
    };
    WrappedWs.prototype = NativeWs.prototype;
    Object.setPrototypeOf(WrappedWs, NativeWs);
    window.WebSocket = WrappedWs;
  }
  /* [local address, remote address] of each connection's selected ICE pair. */
  bench.pairs = function () {
    return Promise.all(pcs.map(function (pc) { return pc.getStats(); })).then(function (all) {
      var found = [];
      all.forEach(function (stats) {
        stats.forEach(function (s) {
          if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
            var local = stats.get(s.localCandidateId), remote = stats.get(s.remoteCandidateId);
            found.push([local && local.address, remote && remote.address]);
          }
        });
      });
      return found;
    });
  };
  var busy = false;
  setInterval(function () {
    if (busy) { return; }
    busy = true;
    var live = pcs.filter(function (pc) { return pc.connectionState !== "closed"; });
    Promise.all(live.map(function (pc) { return pc.getStats(); })).then(function (all) {
      var t = now();
      all.forEach(function (stats) {
        stats.forEach(function (s) {
          if (s.type !== "inbound-rtp") { return; }
          if (s.kind === "video" && s.framesDecoded > 0 && bench.firstVideoFrame === null) {
            bench.firstVideoFrame = t;
          }
          if (s.kind === "audio") {
            var prev = bench.audio[s.ssrc];
            if (!prev || s.packetsReceived > prev.packets) {
              bench.audio[s.ssrc] = { packets: s.packetsReceived, lastIncrease: t,
                                      lastPacket: s.lastPacketReceivedTimestamp,
                                      statsTime: s.timestamp };
              bench.trace.push([t, s.ssrc, s.packetsReceived, s.lastPacketReceivedTimestamp]);
              if (bench.trace.length > 400) { bench.trace.shift(); }
            }
          }
        });
      });
    }).catch(function () { /* a connection closed meanwhile */ }).then(function () {
      busy = false;
    });
  }, 20);
})();
