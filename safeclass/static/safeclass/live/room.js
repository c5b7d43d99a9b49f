/* SafeClass lesson room: draws every "state" snapshot from the server and sends the
 * person's intents back. Used by the staff room and the pupil room (data-role).
 * No chat, file or annotation features exist here, by design. */
(function () {
  "use strict";

  var NS = window.SafeClassRoom;
  var root = document.getElementById("room");
  if (!root || !NS) { return; }
  var isStaff = root.dataset.role === "staff";

  // ------------------------------------------------------------------ strings, helpers
  var S = {};
  ["room-strings", "pupil-strings"].forEach(function (id) {
    var box = document.getElementById(id);
    if (!box) { return; }
    (box.content || box).querySelectorAll("[data-s]").forEach(function (el) {
      S[el.dataset.s] = el.textContent.trim();
    });
  });

  function t(key, vars) {
    var text = S[key] || key;
    Object.keys(vars || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(vars[name]));
    });
    return text;
  }

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "className") { node.className = attrs[name]; }
      else if (name.indexOf("data-") === 0) { node.setAttribute(name, attrs[name]); }
      else { node[name] = attrs[name]; }
    });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function show(node, visible) { if (node) { node.hidden = !visible; } }

  /* Keep one child per key in container, in order; create or update each. */
  function reconcile(container, items, keyOf, create, update) {
    if (!container) { return; }
    var existing = {};
    Array.prototype.forEach.call(container.children, function (child) {
      if (child.dataset.key !== undefined) { existing[child.dataset.key] = child; }
    });
    var keep = {};
    items.forEach(function (item, index) {
      var key = String(keyOf(item));
      keep[key] = true;
      var node = existing[key];
      if (!node) {
        node = create(item);
        node.dataset.key = key;
      }
      update(node, item);
      var at = container.children[index];
      if (at !== node) { container.insertBefore(node, at || null); }
    });
    Object.keys(existing).forEach(function (key) {
      if (!keep[key]) { container.removeChild(existing[key]); }
    });
  }

  // ------------------------------------------------------------------ live region
  // #room-live is a role="log": screen readers say each new line, and the last few stay
  // as a short history of what happened (so after the end, "1 minute left." is still
  // there to read back, in order, before "The lesson has ended.").
  var liveRegion = $("room-live");
  var announceBox = $("room-announce");

  function announce(text, visible) {
    if (!text) { return; }
    var line = el("p", {}, text);
    liveRegion.appendChild(line);
    while (liveRegion.children.length > 5) { liveRegion.removeChild(liveRegion.firstChild); }
    if (visible !== false && announceBox) {
      announceBox.textContent = text;
      show(announceBox, true);
      // A banner is news, not state: it goes after a while, so it never contradicts what
      // the page shows later ("You may speak now." after a mute).
      clearTimeout(announce.timer);
      announce.timer = setTimeout(function () { show(announceBox, false); }, 8000);
    }
  }

  function showError(text) {
    var box = $("room-error");
    box.textContent = t("error") + " " + text;
    show(box, true);
    clearTimeout(showError.timer);
    showError.timer = setTimeout(function () { show(box, false); }, 15000);
  }

  // ------------------------------------------------------------------ dialogs
  var rulesDialog = $("rules-dialog");
  var lastFocus = null;

  function openDialog(dialog) {
    if (!dialog || dialog.open) { return; }
    lastFocus = document.activeElement;
    if (typeof dialog.showModal === "function") { dialog.showModal(); }
    else { dialog.setAttribute("open", ""); }
    var heading = dialog.querySelector("h2");
    if (heading) { heading.tabIndex = -1; heading.focus(); }
  }

  function restoreFocus() {
    if (lastFocus && document.body.contains(lastFocus)) { lastFocus.focus(); }
    else if (lastFocus) {
      // The button that opened the dialog is gone (its pupil was removed): focus the
      // list's heading rather than letting focus fall to the page.
      var heading = $("pupils-title") || root.querySelector("h1");
      if (heading) { heading.tabIndex = -1; heading.focus(); }
    }
    lastFocus = null;
  }

  if (rulesDialog) { rulesDialog.addEventListener("close", restoreFocus); }

  var confirmDialog = $("confirm-dialog");
  var confirmResolve = null;

  function confirmAction(text) {
    return new Promise(function (resolve) {
      if (!confirmDialog) { resolve(window.confirm(text)); return; }
      $("confirm-text").textContent = text;
      confirmResolve = resolve;
      openDialog(confirmDialog);
      $("confirm-no").focus();
    });
  }

  function settleConfirm(answer) {
    var resolve = confirmResolve;
    confirmResolve = null;
    if (confirmDialog.open) { confirmDialog.close(); }
    if (resolve) { resolve(answer); }
  }

  if (confirmDialog) {
    $("confirm-yes").addEventListener("click", function () { settleConfirm(true); });
    $("confirm-no").addEventListener("click", function () { settleConfirm(false); });
    confirmDialog.addEventListener("close", function () {
      restoreFocus();
      if (confirmResolve) { settleConfirm(false); }
    });
  }

  // ------------------------------------------------------------------ media
  var remote = {};   // feed id -> {video: MediaStream|null, audio: MediaStream|null, off: bool}
  var latest = null; // the latest state snapshot
  var creds = null;
  var cameraEnded = false;
  var selfVideo = $("self-video");

  function setMediaStatus(key, detail) {
    var box = $("media-status");
    if (!box) { return; }
    if (key === "video_on") { box.textContent = ""; return; }
    box.textContent = t(key) + (key === "video_failed" && detail && isStaff ? " (" + detail + ")" : "");
  }

  function onLocalEnded() {
    if (cameraEnded) { return; }
    cameraEnded = true;
    var box = $("camera-problem");
    if (box) {
      box.textContent = t("camera_ended");
      show(box, true);
    } else {
      setMediaStatus("camera_ended");
    }
    announce(t("camera_ended"), false);
  }

  function bindFeed(feed) {
    var entry = remote[feed];
    document.querySelectorAll("[data-feed]").forEach(function (tile) {
      if (tile.getAttribute("data-feed") !== feed) { return; }
      var video = tile.querySelector("video");
      var audio = tile.querySelector("audio");
      var placeholder = tile.querySelector(".room-no-video");
      // Stopped or paused by staff: the server stops forwarding, but the browser may keep
      // the last frame on screen, so the tile says so itself.
      var stopped = tile.getAttribute("data-stopped") === "1";
      var hasVideo = !!(entry && entry.video && !entry.off) && !stopped;
      if (video && entry && entry.video && video.srcObject !== entry.video) {
        video.srcObject = entry.video;
        video.play().catch(function () {});
      }
      if (audio && entry && entry.audio && audio.srcObject !== entry.audio) {
        audio.srcObject = entry.audio;
        audio.play().catch(function () {});
      }
      if (placeholder) {
        // A picture that stopped (muted or stopped at the server) says so; the element stays.
        placeholder.textContent = stopped || (entry && entry.off) ? t("video_paused")
                                                                  : t("no_video");
        show(placeholder, !hasVideo);
      }
      tile.classList.toggle("room-tile-off", !hasVideo);
    });
  }

  var media = new NS.Media({
    status: setMediaStatus,
    localTrack: function (track, on) {
      if (!selfVideo) { return; }
      if (on && track && track.kind === "video") {
        selfVideo.srcObject = new MediaStream([track]);
        selfVideo.play().catch(function () {});
      } else if (!track) {
        selfVideo.srcObject = null;
      }
    },
    localEnded: onLocalEnded,
    published: function (mids) {
      socket.send({ intent: "published", audio_mid: mids.audio_mid, video_mid: mids.video_mid });
    },
    remoteTrack: function (feed, track, on) {
      var entry = remote[feed] || (remote[feed] = { video: null, audio: null, off: false });
      if (on) {
        entry[track.kind] = new MediaStream([track]);
        if (track.kind === "video") { entry.off = false; }
      } else if (track.kind === "video") {
        entry.off = true; // muted at the server or paused: keep the element, say so
      }
      bindFeed(feed);
      if (on && latest) { render(latest); } // e.g. a shared screen just started
    },
    feedGone: function (feed) {
      delete remote[feed];
      bindFeed(feed);
    },
    screen: function (on, why) {
      var button = $("share-screen");
      if (button) {
        // The words change ("Stop sharing the screen"), so no aria-pressed as well: a
        // screen reader would say "Stop sharing the screen, pressed".
        button.setAttribute("data-on", on ? "true" : "false");
        button.textContent = on ? t("stop_sharing") : t("share_screen");
      }
      if (why === "failed") { showError(t("share_failed")); }
    }
  });

  // ------------------------------------------------------------------ tiles
  function makeTile(withControls) {
    var fig = el("figure", { className: "room-tile" });
    var frame = el("div", { className: "room-video" });
    frame.appendChild(el("video", { autoplay: true, playsInline: true, muted: true }));
    frame.appendChild(el("audio", { autoplay: true }));
    frame.appendChild(el("p", { className: "room-no-video" }, t("no_video")));
    fig.appendChild(frame);
    var cap = el("figcaption");
    cap.appendChild(el("span", { className: "room-name" }));
    cap.appendChild(el("ul", { className: "room-badges" }));
    fig.appendChild(cap);
    if (withControls) { fig.appendChild(el("div", { className: "room-controls" })); }
    return fig;
  }

  function setBadges(list, words) {
    reconcile(list, words, function (w) { return w.key; }, function (w) {
      return el("li", { className: "room-badge room-badge-" + w.key });
    }, function (node, w) { node.textContent = w.text; });
  }

  function setTileFeed(tile, feed, feeds) {
    var usable = feed && feeds.indexOf(String(feed)) !== -1 ? String(feed) : "";
    if (tile.getAttribute("data-feed") !== usable) {
      tile.setAttribute("data-feed", usable);
      var video = tile.querySelector("video");
      var audio = tile.querySelector("audio");
      if (video) { video.srcObject = null; }
      if (audio) { audio.srcObject = null; }
    }
    var placeholder = tile.querySelector(".room-no-video");
    if (!usable) {
      if (placeholder) { placeholder.textContent = t("no_video"); show(placeholder, true); }
      tile.classList.add("room-tile-off");
    } else {
      bindFeed(usable);
    }
  }

  function pupilBadges(p) {
    var words = [];
    if (p.state === "waiting") { words.push({ key: "waiting", text: t("waiting_state") }); }
    if (p.may_speak) { words.push({ key: "may-speak", text: t("may_speak") }); }
    else if (p.muted) { words.push({ key: "muted", text: t("muted") }); }
    if (p.hand_raised) { words.push({ key: "hand", text: t("hand_raised") }); }
    if (p.video_stopped) { words.push({ key: "video-stopped", text: t("video_stopped") }); }
    if (p.camera_ok === false) { words.push({ key: "camera", text: t("camera_stopped") }); }
    if (p.second_device) { words.push({ key: "second-device", text: t("second_device") }); }
    if (p.parent_seen) { words.push({ key: "parent-seen", text: t("parent_seen") }); }
    if (p.warnings) { words.push({ key: "warnings", text: t("warnings", { n: p.warnings }) }); }
    return words;
  }

  function button(label, intent, presence, extra) {
    var b = el("button", { type: "button", className: "button button-secondary room-action" }, label);
    b.setAttribute("data-intent", intent);
    b.setAttribute("data-presence", String(presence));
    Object.keys(extra || {}).forEach(function (k) { b.setAttribute(k, extra[k]); });
    return b;
  }

  function staffControls(box, p) {
    var name = p.name;
    var wanted = [];
    if (p.may_speak || !p.muted) { wanted.push(button(t("mute", { name: name }), "mute", p.presence)); }
    else { wanted.push(button(t("allow_speak", { name: name }), "allow_speak", p.presence)); }
    if (p.video_stopped) { wanted.push(button(t("allow_video", { name: name }), "allow_video", p.presence)); }
    else { wanted.push(button(t("stop_video", { name: name }), "stop_video", p.presence)); }
    if (p.hand_raised) { wanted.push(button(t("lower_hand", { name: name }), "lower_hand", p.presence)); }
    wanted.push(button(t("warn", { name: name }), "warn", p.presence));
    wanted.push(button(t("remove", { name: name }), "remove", p.presence,
                       { "data-confirm": t("confirm_remove", { name: name }) }));
    wanted.push(button(t("remove_and_end", { name: name }), "remove_and_end", p.presence,
                       { "data-confirm": t("confirm_remove_and_end", { name: name }) }));
    // Replace buttons only when the set changes, so keyboard focus survives updates.
    var signature = wanted.map(function (b) { return b.textContent; }).join("|") + "|" + p.parent_seen;
    if (box.dataset.signature === signature) { return; }
    var focusedIntent = document.activeElement && box.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-intent") : null;
    box.dataset.signature = signature;
    box.textContent = "";
    wanted.forEach(function (b) {
      b.className = "button room-action" + (b.dataset.intent.indexOf("remove") === 0 ? " button-warning" : " button-secondary");
      box.appendChild(b);
    });
    var id = "parent-seen-" + p.presence;
    var wrap = el("div", { className: "checkbox room-parent-seen" });
    var input = el("input", { type: "checkbox", id: id, checked: !!p.parent_seen });
    input.setAttribute("data-intent", "parent_seen");
    input.setAttribute("data-presence", String(p.presence));
    wrap.appendChild(input);
    wrap.appendChild(el("label", { htmlFor: id }, t("parent_seen_label", { name: name })));
    box.appendChild(wrap);
    if (focusedIntent) {
      var again = box.querySelector("[data-intent]");
      Array.prototype.forEach.call(box.querySelectorAll("[data-intent]"), function (b) {
        if (b.getAttribute("data-intent") === focusedIntent) { again = b; }
      });
      if (again) { again.focus(); }
    }
  }

  // ------------------------------------------------------------------ rendering
  function minutesLeft(endsAt) {
    var ms = Date.parse(endsAt) - Date.now();
    return Math.max(0, Math.ceil(ms / 60000));
  }

  function renderTime() {
    var box = $("time-left");
    if (!box || !latest || !latest.lesson || !latest.lesson.ends_at) { return; }
    box.textContent = t("time_left", { n: minutesLeft(latest.lesson.ends_at) });
  }
  var timeTimer = setInterval(renderTime, 15000);

  function renderNotices(notices) {
    var list = $("notices");
    var before = list.children.length;
    reconcile(list, notices || [], function (n) { return n.at + "|" + n.text; }, function () {
      var li = el("li");
      li.appendChild(el("p", { className: "room-notice-text" }));
      li.appendChild(el("p", { className: "hint" }));
      return li;
    }, function (node, n) {
      node.children[0].textContent = n.text;
      var when = new Date(n.at);
      node.children[1].textContent = n.by + (isNaN(when) ? "" : " · " +
        when.toLocaleTimeString(document.documentElement.lang || [],
                                { hour: "2-digit", minute: "2-digit" }));
    });
    // The pupil's page shows the notices only once there is one (an empty list is
    // just noise to a screen reader).
    show($("notices-area"), (notices || []).length > 0);
    if (renderNotices.seen && (notices || []).length > before) {
      // Shown as a banner too: on a phone the notices list may be far below the videos.
      announce(t("new_notice") + " " + notices[notices.length - 1].text, !isStaff);
    }
    renderNotices.seen = true;
  }

  function renderStaffTiles(state, feeds, me) {
    var others = (state.staff || []).filter(function (s) { return s.presence !== me.presence; });
    var container = $("staff-tiles");
    if (isStaff) {
      // The own preview stays first; the others follow.
      var holder = $("other-staff") || (function () {
        var div = el("div", { id: "other-staff", className: "room-tiles-inner" });
        container.appendChild(div);
        return div;
      })();
      container = holder;
    }
    reconcile(container, others, function (s) { return s.presence; }, function () {
      return makeTile(false);
    }, function (tile, s) {
      tile.querySelector(".room-name").textContent = s.name;
      setBadges(tile.querySelector(".room-badges"),
                [{ key: "role", text: s.is_host ? t("host") : t("staff") }]);
      setTileFeed(tile, s.feed, feeds);
    });
    var screens = (state.staff || []).filter(function (s) {
      var feed = s.screen_feed ? String(s.screen_feed) : "";
      return feed && feeds.indexOf(feed) !== -1 && remote[feed] && remote[feed].video;
    });
    show($("screen-area"), screens.length > 0);
    reconcile($("screen-tiles"), screens, function (s) { return "screen-" + s.presence; },
      function () { return makeTile(false); },
      function (tile, s) {
        tile.querySelector(".room-name").textContent = t("shared_screen") + " – " + s.name;
        setTileFeed(tile, s.screen_feed, feeds);
      });
  }

  // Said to staff when a hand goes up or someone starts waiting, so a screen-reader user
  // need not keep reading the lists.
  var handsBefore = null;
  var waitingBefore = null;

  function announceStaffNews(pupils) {
    var hands = {};
    var waiting = {};
    pupils.forEach(function (p) {
      if (p.hand_raised) { hands[p.presence] = true; }
      if (p.state === "waiting") { waiting[p.presence] = true; }
    });
    if (handsBefore !== null) {
      pupils.forEach(function (p) {
        if (hands[p.presence] && !handsBefore[p.presence]) {
          announce(t("news_hand", { name: p.name }), false);
        }
        if (waiting[p.presence] && !waitingBefore[p.presence]) {
          announce(t("news_waiting", { name: p.name }), false);
        }
      });
    }
    handsBefore = hands;
    waitingBefore = waiting;
  }

  // When the element with focus disappears with its pupil (admitted, removed, left),
  // focus goes to that list's heading instead of falling to the page.
  function keepFocusIn(listId, headingId, change) {
    var list = $(listId);
    var had = list.contains(document.activeElement);
    change();
    if (had && !list.contains(document.activeElement) && !document.querySelector("dialog[open]")) {
      var heading = $(headingId);
      heading.tabIndex = -1;
      heading.focus();
    }
  }

  function renderStaff(state, feeds, me) {
    var pupils = state.pupils || [];
    announceStaffNews(pupils);
    var waiting = pupils.filter(function (p) { return p.state === "waiting"; });
    var admitted = pupils.filter(function (p) { return p.state === "admitted"; });
    $("waiting-count").textContent = String(waiting.length);
    $("admitted-count").textContent = String(admitted.length);
    $("admit-all").disabled = waiting.length === 0;
    keepFocusIn("waiting-list", "waiting-title", function () {
    reconcile($("waiting-list"), waiting, function (p) { return p.presence; }, function () {
      var li = el("li", { className: "room-waiting-item" });
      li.appendChild(el("span", { className: "room-name" }));
      li.appendChild(el("ul", { className: "room-badges" }));
      li.appendChild(el("span", { className: "room-waiting-buttons" }));
      return li;
    }, function (li, p) {
      li.querySelector(".room-name").textContent = p.name;
      var badges = [];
      if (p.second_device) { badges.push({ key: "second-device", text: t("second_device") }); }
      // Sent back because the camera stopped (camera-required): say so beside the name.
      if (p.camera_ok === false) { badges.push({ key: "camera", text: t("camera_stopped") }); }
      setBadges(li.querySelector(".room-badges"), badges);
      var box = li.querySelector(".room-waiting-buttons");
      var sig = p.name;
      if (box.dataset.signature !== sig) {
        box.dataset.signature = sig;
        box.textContent = "";
        var admit = button(t("admit", { name: p.name }), "admit", p.presence);
        admit.className = "button room-action";
        box.appendChild(admit);
        var remove = button(t("remove", { name: p.name }), "remove", p.presence,
                            { "data-confirm": t("confirm_remove", { name: p.name }) });
        remove.className = "button button-warning room-action";
        box.appendChild(remove);
      }
    });
    if (!waiting.length) {
      reconcile($("waiting-list"), [{}], function () { return "none"; }, function () {
        return el("li", { className: "hint" }, t("nobody_waiting"));
      }, function () {});
    }
    });
    keepFocusIn("pupil-tiles", "pupils-title", function () {
    reconcile($("pupil-tiles"), admitted, function (p) { return p.presence; }, function () {
      return makeTile(true);
    }, function (tile, p) {
      tile.querySelector(".room-name").textContent = p.name;
      tile.classList.toggle("room-tile-hand", !!p.hand_raised);
      setBadges(tile.querySelector(".room-badges"), pupilBadges(p));
      staffControls(tile.querySelector(".room-controls"), p);
      var paused = !!(state.lesson && state.lesson.paused);
      tile.setAttribute("data-stopped", p.video_stopped || paused ? "1" : "0");
      setTileFeed(tile, p.feed, feeds);
    });
    });
    renderStaffTiles(state, feeds, me);

    var lesson = state.lesson || {};
    show($("room-paused"), !!lesson.paused);
    show($("pause-all"), !lesson.paused);
    show($("resume-all"), !!lesson.paused);
    $("role-label").textContent = me.is_host ? t("role_host") : t("role_second");
    show($("share-wrap"), !!(me.is_host && creds && creds.screen_publisher_id));
    if (!me.is_host && media.screen) { media.stopScreen(); }

    var others = (state.staff || []).filter(function (s) { return s.presence !== me.presence; });
    var hand = $("hand-over-wrap");
    show(hand, !!me.is_host && others.length > 0);
    reconcile(hand, me.is_host ? others : [], function (s) { return s.presence; }, function () {
      return el("p");
    }, function (p, s) {
      var label = t("hand_over", { name: s.name });
      if (p.dataset.label !== label) {
        p.dataset.label = label;
        p.textContent = "";
        p.appendChild(button(label, "hand_over", s.presence,
                             { "data-confirm": t("confirm_hand_over", { name: s.name }) }));
      }
    });

    var alerts = state.alerts || [];
    show($("no-alerts"), alerts.length === 0);
    reconcile($("alerts"), alerts, function (a) { return a.kind + "|" + a.text; }, function () {
      return el("li", { className: "notice notice-error" });
    }, function (li, a) { li.textContent = a.text; });
  }

  function renderPupil(state, feeds, me) {
    var admitted = me.state === "admitted";
    show($("room-waiting"), me.state === "waiting");
    show($("room-in"), admitted);
    var lesson = state.lesson || {};
    show($("room-paused"), admitted && !!lesson.paused);
    // The pupil's own status: one line each, an icon and words (never colour alone).
    var status = [];
    if (me.may_speak) { status.push({ key: "may-speak", text: t("self_may_speak") }); }
    else { status.push({ key: "muted", text: t("self_muted") }); }
    if (me.video_stopped) { status.push({ key: "video-stopped", text: t("self_video_stopped") }); }
    if (me.hand_raised) { status.push({ key: "hand", text: t("self_hand") }); }
    reconcile($("self-status"), status, function (w) { return w.key; }, function (w) {
      return el("span", { className: "room-status room-status-" + w.key });
    }, function (node, w) { node.textContent = w.text; });
    var hand = $("raise-hand");
    // Its words say what it will do ("Lower hand"); no aria-pressed as well, or a screen
    // reader says "Lower hand, pressed".
    hand.setAttribute("data-on", me.hand_raised ? "true" : "false");
    hand.textContent = me.hand_raised ? t("lower_hand_self") : t("raise_hand");
    renderStaffTiles(state, feeds, me);
    var classmates = (state.pupils || []).filter(function (p) {
      return p.presence !== me.presence && p.state === "admitted";
    });
    show($("pupils-area"), classmates.length > 0);
    reconcile($("pupil-tiles"), classmates, function (p) { return p.presence; }, function () {
      return makeTile(false);
    }, function (tile, p) {
      tile.querySelector(".room-name").textContent = p.name;
      setBadges(tile.querySelector(".room-badges"), p.hand_raised
        ? [{ key: "hand", text: t("hand_raised") }] : []);
      setTileFeed(tile, p.feed, feeds);
    });
  }

  // Recording (second-adult-or-recording): the indicator is words with a dot, shown to
  // everyone; a change is said in the live region. Staff also see why, and the host a
  // Start / Stop button only when the server says it may be used.
  var recordingBefore = null;
  var alertsBefore = {};

  function renderRecording(state) {
    var rec = state.recording || {};
    var on = !!rec.on;
    show($("recording-indicator"), on);
    if (recordingBefore === null) {
      if (on) { announce(t("recording_now"), false); }
    } else if (recordingBefore !== on) {
      announce(on ? t("recording_started") : t("recording_stopped"));
    }
    recordingBefore = on;
    if (!isStaff) { return; }
    var status = $("recording-status");
    status.textContent = on ? t("recording_on") : t("recording_off");
    status.classList.toggle("room-recording-status-on", on);
    $("recording-why").textContent = rec.why || "";
    var toggle = $("recording-toggle");
    var may = !!(rec.can_start || rec.can_stop);
    show($("recording-toggle-wrap"), may);
    toggle.textContent = rec.can_stop ? t("stop_recording") : t("start_recording");
    toggle.setAttribute("data-on", rec.can_stop ? "false" : "true");
  }

  function announceNewAlerts(state) {
    // A recording problem is said out loud at once, not only listed.
    var now = {};
    (state.alerts || []).forEach(function (a) {
      var key = a.kind + "|" + a.text;
      now[key] = true;
      if (a.kind === "recording_problem" && !alertsBefore[key]) { announce(a.text); }
    });
    alertsBefore = now;
  }

  var admittedBefore = false;
  var RULES_SEEN_KEY = "safeclass.rules." + root.dataset.wsPath;

  function render(state) {
    latest = state;
    var me = state.me || {};
    var feeds = (state.feeds || []).map(String);
    media.setFeeds(feeds);
    if (isStaff) { renderStaff(state, feeds, me); } else { renderPupil(state, feeds, me); }
    renderRecording(state);
    if (isStaff) { announceNewAlerts(state); }
    renderNotices(state.notices);
    renderTime();
    if (!isStaff && me.state === "admitted" && !admittedBefore) {
      admittedBefore = true;
      var seen = false;
      try { seen = window.sessionStorage.getItem(RULES_SEEN_KEY) === "1"; } catch (e) { /* off */ }
      if (!seen) {
        try { window.sessionStorage.setItem(RULES_SEEN_KEY, "1"); } catch (e) { /* off */ }
        openDialog(rulesDialog);
      }
    }
    if (me.state === "waiting") { admittedBefore = false; }
  }

  function finish(text) {
    // A dialog left open would sit over the "lesson over" message and keep focus there.
    [rulesDialog, confirmDialog].forEach(function (d) { if (d && d.open) { d.close(); } });
    lastFocus = null;
    media.stop();
    socket.close();
    show($("room-waiting"), false);
    show($("room-in"), false);
    var columns = root.querySelector(".room-columns");
    if (isStaff && columns) { show(columns, false); }
    show(root.querySelector(".room-alerts"), false);
    show($("recording-indicator"), false);
    show($("room-paused"), false);
    show($("room-warning"), false);
    if (announceBox) { clearTimeout(announce.timer); show(announceBox, false); }
    clearInterval(timeTimer);
    if ($("time-left")) { show($("time-left"), false); }
    $("over-text").textContent = text;
    var over = $("room-over");
    show(over, true);
    over.focus();
    announce(text, false);
  }

  // ------------------------------------------------------------------ messages
  function onMessage(msg) {
    switch (msg.type) {
      case "state": render(msg); break;
      case "media":
        creds = msg;
        cameraEnded = false;
        show($("camera-problem"), false);
        media.start(msg);
        if (latest) { render(latest); }
        break;
      case "media_revoked":
        media.stop();
        remote = {};
        if (msg.reason === "replaced") {
          // Another window or device took over: do not reconnect and take it back.
          finish(t("replaced"));
          break;
        }
        setMediaStatus("video_off");
        if (msg.reason === "camera") { onLocalEnded(); }
        break;
      // The server sends keys for what pupils are told, and the page says them in its own
      // language (a Welsh parent's page in Welsh, whatever the teacher's language).
      case "announce": announce(msg.say ? t(msg.say) : msg.text); break;
      case "host_changed":
        if (isStaff) { announce(t("host_changed", { name: msg.name })); }
        break;
      case "warning":
        var box = $("room-warning");
        if (box) {
          box.textContent = "";
          box.appendChild(el("strong", {}, t("warned")));
          box.appendChild(el("p", {}, msg.text || t("follow_rules")));
          show(box, true);
        } else {
          announce(msg.text || t("follow_rules"));
        }
        break;
      case "rules":
        // Staff asked for it: they are told, pupils see the dialog.
        if (isStaff) { announce(t("rules_shown")); } else { openDialog(rulesDialog); }
        break;
      case "time":
        announce(msg.minutes_left === 1 ? t("minute_left")
                                        : t("minutes_left", { n: msg.minutes_left }));
        break;
      case "removed": finish(t("removed")); break;
      case "ended": finish(t("ended")); break;
      case "refused": finish(msg.message || t("closed")); break;
      case "error":
        showError((msg.message || msg.code || "") + (msg.rule ? " (" + msg.rule + ")" : ""));
        break;
      default: break;
    }
  }

  function onStatus(status) {
    var box = $("connection");
    if (box) { box.textContent = t(status); }
  }

  var socket = new NS.RoomSocket(root.dataset.wsPath, { onmessage: onMessage, onstatus: onStatus });

  // ------------------------------------------------------------------ controls
  function sendIntent(node) {
    var intent = node.getAttribute("data-intent");
    var body = { intent: intent };
    var presence = node.getAttribute("data-presence");
    if (presence) { body.presence = Number(presence); }
    if (intent === "parent_seen") { body.seen = !!node.checked; }
    var ask = node.getAttribute("data-confirm");
    if (ask) {
      confirmAction(ask).then(function (yes) { if (yes) { socket.send(body); } });
    } else {
      socket.send(body);
    }
  }

  root.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button[data-intent]") : null;
    if (target && root.contains(target)) { sendIntent(target); }
  });
  root.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("input[data-intent]")) { sendIntent(target); }
  });

  function on(id, handler) {
    var node = $(id);
    if (node) { node.addEventListener("click", handler); }
  }

  if (isStaff) {
    on("admit-all", function () { socket.send({ intent: "admit_all" }); });
    on("pause-all", function () { socket.send({ intent: "pause_all" }); });
    on("resume-all", function () { socket.send({ intent: "resume_all" }); });
    on("show-rules", function () { socket.send({ intent: "show_rules" }); });
    on("end-lesson", function () {
      confirmAction(t("confirm_end")).then(function (yes) {
        if (yes) { socket.send({ intent: "end" }); }
      });
    });
    on("recording-toggle", function () {
      // No confirmation either way: stopping can be undone with one press.
      var start = $("recording-toggle").getAttribute("data-on") === "true";
      socket.send({ intent: "recording", on: start });
    });
    on("share-screen", function () {
      if (media.screen) { media.stopScreen(); } else { media.startScreen(); }
    });
    $("notice-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var area = $("notice-text");
      var text = area.value.trim();
      if (!text) { area.focus(); return; }
      if (socket.send({ intent: "notice", text: text.slice(0, 500) })) { area.value = ""; }
    });
  } else {
    on("raise-hand", function () {
      var up = $("raise-hand").getAttribute("data-on") === "true";
      socket.send({ intent: up ? "lower_hand" : "raise_hand" });
    });
  }

  window.addEventListener("pagehide", function () { media.stop(); socket.close(); });
  socket.connect();
})();
