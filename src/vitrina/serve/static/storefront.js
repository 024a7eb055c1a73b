/* The storefront demo: search, facets, "why this result", and cart/buy events through the pixel. */
(function () {
  "use strict";
  var config = window.VITRINA_CONFIG || {};
  var pixel = VitrinaPixel.create({tenant: config.tenant, key: config.key, endpoint: config.endpoint});
  // A signed-in demo shopper: their events carry a user id, and their searches are ranked for them.
  var SHOPPER_KEY = "vitrina-demo-shopper";
  var state = {query: "", filters: {}, history: [], last: null, cart: 0};
  var $ = function (id) { return document.getElementById(id); };
  var PLACEHOLDER = "data:image/svg+xml;utf8," + encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160"><rect width="160" height="160" fill="#eee"/>' +
    '<text x="80" y="86" font-family="sans-serif" font-size="14" text-anchor="middle" fill="#999">no image</text></svg>');

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.indexOf("on") === 0) node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function imageOf(product) {
    var first = (product.images || [])[0];
    if (!first) return PLACEHOLDER;
    return /^(https?:)?\/\//.test(first) ? first : "/images/" + encodeURIComponent(first);
  }

  function money(product) {
    return product.price == null ? "price on request" : product.price.toFixed(2) + " " + (product.currency || "");
  }

  function search(query, asRefinement) {
    var body = {query: query, filters: state.filters, size: 24, session_id: pixel.sessionId,
                history: asRefinement && state.last ? state.history : []};
    if (pixel.userId) body.user_id = pixel.userId;
    $("status").textContent = "Searching…";
    return fetch((config.endpoint || "") + "/v1/" + config.tenant + "/search", {
      method: "POST", headers: {"Content-Type": "application/json", "Authorization": "Bearer " + config.key},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) throw new Error(data.error || r.statusText); return data; });
    }).then(function (response) {
      state.query = query;
      state.last = response;
      var shown = response.hits.map(function (h) { return String(h.product.id); });
      state.history = (asRefinement ? state.history : []).concat([{query: query, shown: shown}]).slice(-5);
      keepInUrl(query);
      render(response);
    }).catch(function (error) {
      $("status").textContent = "Search failed: " + error.message;
    });
  }

  // The search lives in the URL (/?q=...&filters=...), so it can be shared and reloaded.
  function keepInUrl(query) {
    var params = new URLSearchParams({q: query});
    if (Object.keys(state.filters).length) params.set("filters", JSON.stringify(state.filters));
    var url = "?" + params.toString();
    if (url !== location.search) history.pushState(null, "", url);
  }

  function fromUrl() {
    var params = new URLSearchParams(location.search);
    var query = (params.get("q") || "").trim();
    if (!query) return;
    try { state.filters = JSON.parse(params.get("filters") || "{}") || {}; } catch (e) { state.filters = {}; }
    $("q").value = query;
    search(query, false);
  }

  // Search by photo (a file picked or dropped) and "similar": hits without a text understanding.
  function photoSearch(url, init, label) {
    $("status").textContent = "Looking…";
    init.headers = Object.assign({"Authorization": "Bearer " + config.key}, init.headers || {});
    return fetch((config.endpoint || "") + url, init).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) throw new Error(data.error || r.statusText); return data; });
    }).then(function (response) {
      state.last = null;
      state.history = [];
      var read = response.read_as || {};
      $("understood").textContent = label + Object.keys(read).map(function (field) {
        return " · " + field + ": " + read[field].label + " (" + Math.round(read[field].probability * 100) + "% sure)";
      }).join("");
      $("status").textContent = response.hits.length + " results · " + Math.round(response.timings.total) + " ms";
      $("status").setAttribute("data-search-id", response.search_id);
      $("status").setAttribute("data-mode", response.query);
      $("facets").innerHTML = "";
      $("filters").innerHTML = "";
      renderLook(null);
      var list = $("results");
      list.innerHTML = "";
      response.hits.forEach(function (hit, i) { list.appendChild(renderHit(hit, i + 1, response.search_id)); });
    }).catch(function (error) {
      $("status").textContent = "Search failed: " + error.message;
    });
  }

  function searchByPhoto(file) {
    if (!file) return;
    photoSearch("/v1/" + config.tenant + "/search/image?size=24",
                {method: "POST", headers: {"Content-Type": "application/octet-stream"}, body: file},
                "Products that look like your photo (" + file.name + ")");
  }

  function similarTo(product) {
    photoSearch("/v1/" + config.tenant + "/products/" + encodeURIComponent(product.id) + "/similar?size=24",
                {method: "GET"}, "Similar to " + (product.title || product.id));
  }

  // Complete the look: an outfit for an outfit request, or built around one product.
  function renderLook(outfit, title) {
    var box = $("look");
    box.innerHTML = "";
    if (!outfit || !outfit.items.length) { box.setAttribute("hidden", ""); return; }
    box.appendChild(el("h3", {text: title + (outfit.total != null ? " · " + outfit.total.toFixed(2) : "") +
                                    (outfit.budget ? " of " + outfit.budget : "")}));
    var row = el("ol", {"class": "look-items"});
    outfit.items.forEach(function (item) {
      var p = item.product, img = el("img", {src: imageOf(p), alt: p.title || "", loading: "lazy"});
      img.addEventListener("error", function () { img.src = PLACEHOLDER; }, {once: true});
      row.appendChild(el("li", {"class": "look-item", "data-testid": "look-item", "data-slot": item.slot,
                                "data-product-id": String(p.id)}, [
        img, el("div", {"class": "meta", text: item.slot.replace("_", "-") + (item.given ? " (yours)" : "")}),
        el("div", {"class": "title", text: p.title}), el("div", {"class": "price", text: money(p)}),
        el("div", {"class": "why-look", text: item.reasons.join("; ")})]));
    });
    box.appendChild(row);
    if (outfit.missing && outfit.missing.length) box.appendChild(el("div", {"class": "meta", text: "nothing fits: " + outfit.missing.join(", ")}));
    box.removeAttribute("hidden");
  }

  function completeTheLook(product) {
    fetch((config.endpoint || "") + "/v1/" + config.tenant + "/outfit", {
      method: "POST", headers: {"Content-Type": "application/json", "Authorization": "Bearer " + config.key},
      body: JSON.stringify({product_id: String(product.id)})
    }).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) throw new Error(data.error || r.statusText); return data; });
    }).then(function (outfit) {
      renderLook(outfit, "Complete the look with " + (product.title || product.id));
      $("look").scrollIntoView({block: "nearest"});
    }).catch(function (error) { $("status").textContent = "Complete the look failed: " + error.message; });
  }

  function render(response) {
    var u = response.understanding, said = ["intent " + u.intent];
    (u.constraints || []).forEach(function (c) { said.push((c.negated ? "not " : "") + c.vocabulary + ": " + c.term); });
    (u.excluded || []).forEach(function (w) { said.push("not \u201c" + w + "\u201d"); });
    if (u.price && (u.price.catalog_max || u.price.catalog_min)) {
      said.push("price " + (u.price.catalog_min || "") + "–" + (u.price.catalog_max || ""));
    }
    $("understood").textContent = "Understood: " + said.join(" · ");
    $("status").textContent = response.total + (response.total_relation === "gte" ? "+" : "") + " results · " +
      Math.round(response.timings.total) + " ms" + (response.message ? " · " + response.message : "") +
      (response.experiment ? " · " + response.experiment.experiment + ": " + response.experiment.variant : "");
    $("status").setAttribute("data-variant", response.experiment ? response.experiment.variant : "");
    $("status").setAttribute("data-search-id", response.search_id);
    renderFilters();
    renderFacets(response.facets || []);
    renderLook(response.outfit, "Complete the look");
    var list = $("results");
    list.innerHTML = "";
    response.hits.forEach(function (hit, i) { list.appendChild(renderHit(hit, i + 1, response.search_id)); });
  }

  function renderHit(hit, position, searchId) {
    var p = hit.product, why = el("div", {"class": "why", hidden: "", "data-testid": "why"});
    var context = {search_id: searchId, product_id: String(p.id), position: position};
    var click = function () { pixel.track("click", context); };
    var whyButton = el("button", {text: "Why this result?", "data-testid": "why-button", onclick: function () {
      if (why.hasAttribute("hidden")) { why.innerHTML = ""; why.appendChild(explain(hit)); why.removeAttribute("hidden"); }
      else why.setAttribute("hidden", "");
    }});
    var cart = el("button", {text: "Add to cart", "data-testid": "add-to-cart", onclick: function () {
      pixel.track("add_to_cart", Object.assign({quantity: 1, price: p.price, currency: p.currency}, context));
      state.cart += 1;
      $("cart").textContent = "Cart: " + state.cart;
    }});
    var buy = el("button", {text: "Buy now", "class": "primary", "data-testid": "buy", onclick: function () {
      var sale = {quantity: 1, price: p.price, revenue: p.price, currency: p.currency};
      var cost = p.attributes && parseFloat(p.attributes.cost);
      if (!isNaN(cost) && p.price != null) sale.margin = Math.round((p.price - cost) * 100) / 100;
      pixel.track("purchase", Object.assign(sale, context));
      pixel.flush();
      buy.textContent = "Bought ✓";
    }});
    var img = el("img", {src: imageOf(p), alt: p.title || "", loading: "lazy", onclick: click});
    img.addEventListener("error", function () { img.src = PLACEHOLDER; }, {once: true});
    var reasons = hit.explanation.personal_reasons || [];
    var forYou = reasons.length ? el("div", {"class": "for-you", "data-testid": "for-you",
                                             text: "For you: " + reasons.join("; ")}) : null;
    return el("li", {"class": "hit", "data-testid": "hit", "data-product-id": String(p.id), "data-position": position}, [
      img, forYou,
      el("div", {"class": "title", text: p.title, onclick: click, "data-testid": "hit-title"}),
      el("div", {"class": "meta", text: [p.brand, p.product_type, p.primary_color].filter(Boolean).join(" · ")}),
      el("div", {"class": "price", text: money(p)}),
      el("div", {"class": "actions"}, [whyButton, el("button", {text: "Similar", "data-testid": "similar",
                                                          onclick: function () { similarTo(p); }}),
                                       el("button", {text: "Complete the look", "data-testid": "complete-look",
                                                     onclick: function () { completeTheLook(p); }}), cart, buy]),
      why
    ]);
  }

  function explain(hit) {
    var e = hit.explanation, box = el("div"), table = el("table");
    Object.keys(e.signals || {}).forEach(function (name) {
      var score = e.signals[name], weight = (e.weights || {})[name];
      var bar = el("div", {"class": "bar", style: "width:" + Math.round(score * 100) + "%"});
      table.appendChild(el("tr", {"data-testid": "signal"}, [
        el("td", {text: name}), el("td", {text: score.toFixed(2)}),
        el("td", {text: weight == null ? "" : "× " + weight}), el("td", {style: "width:40%"}, [bar])]));
    });
    box.appendChild(el("div", {text: "score " + hit.score.toFixed(3)}));
    box.appendChild(table);
    (e.matches || []).forEach(function (m) { box.appendChild(el("div", {"class": "good", text: "✓ " + m})); });
    (e.penalties || []).forEach(function (m) { box.appendChild(el("div", {"class": "bad", text: "✗ " + m})); });
    if (e.learned != null) {
      box.appendChild(el("div", {"class": e.learned > 0 ? "good" : "bad", "data-testid": "learned",
                                 text: "learned " + (e.learned > 0 ? "+" : "") + e.learned.toFixed(2) + ": " + e.learned_from}));
    }
    if (e.personal != null) {
      box.appendChild(el("div", {"class": e.personal > 0 ? "good" : "bad", "data-testid": "personal",
                                 text: "for you " + (e.personal > 0 ? "+" : "") + e.personal.toFixed(2) + ": " +
                                       (e.personal_reasons || []).join("; ")}));
    }
    var ranks = Object.keys(e.retrievers || {}).map(function (r) { return r + " #" + e.retrievers[r]; });
    if (ranks.length) box.appendChild(el("div", {"class": "meta", text: "retrieved by " + ranks.join(", ")}));
    return box;
  }

  function renderFacets(facets) {
    var aside = $("facets");
    aside.innerHTML = "";
    facets.forEach(function (facet) {
      aside.appendChild(el("h3", {text: facet.label}));
      facet.values.forEach(function (v) {
        aside.appendChild(el("button", {text: v.value + " (" + v.count + ")", "data-testid": "facet-value",
                                        "data-field": facet.field, onclick: function () {
          Object.assign(state.filters, v.filter);
          search(state.query, false);
        }}));
      });
    });
  }

  function renderFilters() {
    var box = $("filters");
    box.innerHTML = "";
    Object.keys(state.filters).forEach(function (name) {
      var value = state.filters[name];
      var label = typeof value === "object" && !Array.isArray(value)
        ? name + " " + (value.gte == null ? "" : value.gte) + "–" + (value.lte == null ? "" : value.lte)
        : name + ": " + value;
      box.appendChild(el("button", {text: label + " ✕", "data-testid": "active-filter", onclick: function () {
        delete state.filters[name];
        search(state.query, false);
      }}));
    });
  }

  $("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var query = $("q").value.trim();
    if (!query) return;
    var refine = $("refine").checked;
    if (!refine) state.filters = {};
    search(query, refine);
  });
  window.addEventListener("popstate", fromUrl);
  $("photo").addEventListener("change", function (event) { searchByPhoto(event.target.files[0]); });
  var drop = $("search-form");
  drop.addEventListener("dragover", function (event) { event.preventDefault(); drop.classList.add("dropping"); });
  drop.addEventListener("dragleave", function () { drop.classList.remove("dropping"); });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    drop.classList.remove("dropping");
    searchByPhoto(event.dataTransfer.files[0]);
  });
  function remembered(user) {  // the sign-in survives a reload; private mode keeps it for this page only
    try {
      if (user === undefined) return localStorage.getItem(SHOPPER_KEY) || "";
      if (user) localStorage.setItem(SHOPPER_KEY, user); else localStorage.removeItem(SHOPPER_KEY);
    } catch (e) { return ""; }
    return user;
  }
  function signIn(user) {
    pixel.userId = user || null;
    remembered(user);
    $("shopper").value = user || "";
  }
  signIn(remembered());
  $("shopper").addEventListener("change", function () {
    signIn($("shopper").value);
    if (state.query) search(state.query, false);
  });
  window.vitrinaStorefront = {pixel: pixel, state: state, search: search, el: el};
  fromUrl();
})();
