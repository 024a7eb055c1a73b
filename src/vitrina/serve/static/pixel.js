/* Vitrina pixel: sends shopper events (click, add_to_cart, purchase, view) attributed to the search and position
 * the page rendered. Dependency-free. Events are queued in localStorage, sent in batches, retried with the same
 * event ids (the service stores each id once), and flushed with navigator.sendBeacon when the page goes away.
 *
 *   var pixel = VitrinaPixel.create({tenant: "default", key: "<public key>", endpoint: ""});
 *   pixel.track("click", {search_id: id, product_id: "123", position: 3});
 */
(function (global) {
  "use strict";

  function uuid() {
    if (global.crypto && global.crypto.randomUUID) return global.crypto.randomUUID();
    var s = "";
    for (var i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  }

  function storage(kind) {
    try { var s = global[kind]; s.setItem("vitrina:probe", "1"); s.removeItem("vitrina:probe"); return s; }
    catch (e) { return null; }  // private mode or disabled storage: keep the queue in memory only
  }

  function Pixel(options) {
    this.endpoint = (options.endpoint || "").replace(/\/$/, "");
    this.tenant = options.tenant;
    this.key = options.key;
    this.userId = options.userId || null;
    this.batchSize = options.batchSize || 20;
    this.flushDelay = options.flushDelay == null ? 1000 : options.flushDelay;
    this.maxDelay = options.maxDelay || 30000;
    this.storeKey = "vitrina:queue:" + this.tenant;
    this.local = storage("localStorage");
    this.attempts = 0;
    this.inFlight = false;
    this.timer = null;
    this.listeners = [];
    this.queue = this.load();
    var session = storage("sessionStorage");
    this.sessionId = (session && session.getItem("vitrina:session")) || uuid();
    if (session) session.setItem("vitrina:session", this.sessionId);
    var self = this;
    global.addEventListener("pagehide", function () { self.beacon(); });
    global.document && global.document.addEventListener("visibilitychange", function () {
      if (global.document.visibilityState === "hidden") self.beacon();
    });
    if (this.queue.length) this.schedule(0);  // left over from an earlier page: send them now
  }

  Pixel.prototype.url = function (withKey) {
    var url = this.endpoint + "/v1/" + encodeURIComponent(this.tenant) + "/events";
    return withKey ? url + "?key=" + encodeURIComponent(this.key) : url;
  };

  Pixel.prototype.load = function () {
    if (!this.local) return [];
    try { return JSON.parse(this.local.getItem(this.storeKey) || "[]"); } catch (e) { return []; }
  };

  Pixel.prototype.save = function () {
    if (this.local) this.local.setItem(this.storeKey, JSON.stringify(this.queue));
  };

  /* Queue one event; returns its event_id. */
  Pixel.prototype.track = function (type, fields) {
    var event = {event_id: uuid(), type: type, timestamp: new Date().toISOString(), session_id: this.sessionId};
    if (this.userId) event.user_id = this.userId;
    for (var name in fields) if (fields[name] !== undefined && fields[name] !== null) event[name] = fields[name];
    this.queue.push(event);
    this.save();
    this.schedule(this.queue.length >= this.batchSize ? 0 : this.flushDelay);
    return event.event_id;
  };

  Pixel.prototype.schedule = function (delay) {
    if (this.timer) return;
    var self = this;
    this.timer = setTimeout(function () { self.timer = null; self.flush(); }, delay);
  };

  Pixel.prototype.forget = function (ids) {
    var gone = {};
    ids.forEach(function (id) { gone[id] = true; });
    this.queue = this.queue.filter(function (e) { return !gone[e.event_id]; });
    this.save();
  };

  /* Send the oldest batch. Acknowledged (or permanently rejected) events leave the queue; on a network error,
   * a 429 or a 5xx the batch stays and is retried with backoff, with the same event ids. */
  Pixel.prototype.flush = function () {
    if (this.inFlight || !this.queue.length) return Promise.resolve();
    var self = this, batch = this.queue.slice(0, this.batchSize);
    var ids = batch.map(function (e) { return e.event_id; });
    this.inFlight = true;
    return fetch(this.url(false), {
      method: "POST", keepalive: true,
      headers: {"Content-Type": "application/json", "Authorization": "Bearer " + this.key},
      body: JSON.stringify({events: batch})
    }).then(function (response) {
      if (response.status === 429 || response.status >= 500) throw new Error("HTTP " + response.status);
      return response.json().catch(function () { return {}; }).then(function (result) {
        self.inFlight = false;
        self.attempts = 0;
        self.forget(ids);
        self.listeners.forEach(function (fn) { fn(result, batch); });
        if (self.queue.length) self.schedule(0);
      });
    }).catch(function () {
      self.inFlight = false;
      self.attempts += 1;
      self.schedule(Math.min(self.maxDelay, 500 * Math.pow(2, self.attempts)));
    });
  };

  /* Page exit: hand everything queued to the browser. The queue stays in storage until a later page load's
   * fetch is acknowledged; the service drops the repeats by event id. */
  Pixel.prototype.beacon = function () {
    if (!this.queue.length || !global.navigator || !global.navigator.sendBeacon) return false;
    var body = new Blob([JSON.stringify({events: this.queue.slice(0, 500)})], {type: "application/json"});
    return global.navigator.sendBeacon(this.url(true), body);
  };

  Pixel.prototype.onAcknowledged = function (fn) { this.listeners.push(fn); };
  Pixel.prototype.pending = function () { return this.queue.length; };

  global.VitrinaPixel = {create: function (options) { return new Pixel(options); }};
})(typeof window !== "undefined" ? window : this);
