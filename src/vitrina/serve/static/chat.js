/* The storefront's assistant panel: a multi-turn chat streamed from POST /v1/{tenant}/chat. Every product it shows
   is a catalog product with its catalog price; "Add to cart" is attributed to the search the assistant ran. */
(function () {
  "use strict";
  var config = window.VITRINA_CONFIG || {};
  var store = window.vitrinaStorefront;
  var pixel = store.pixel;
  var messages = [];  // {role, content, products}: the conversation, sent whole each turn (the API is stateless)
  var busy = false;
  var origin = {};  // product id -> {search_id, position}: the search that showed it, for attributing a cart
  var $ = function (id) { return document.getElementById(id); };
  var el = store.el;

  function say(kind, text, testid) {
    var item = el("li", {"class": kind, text: text, "data-testid": testid || "chat-" + kind});
    $("chat-log").appendChild(item);
    $("chat-log").scrollTop = $("chat-log").scrollHeight;
    return item;
  }

  function card(product, position, searchId, recommended) {
    var first = (product.images || [])[0];
    var src = first ? (/^(https?:)?\/\//.test(first) ? first : "/images/" + encodeURIComponent(first)) : "";
    var price = product.price == null ? "price on request" : product.price.toFixed(2) + " " + (product.currency || "");
    var from = origin[String(product.id)] || {search_id: searchId, position: position};
    var context = {search_id: from.search_id, product_id: String(product.id), position: from.position};
    return el("div", {"class": "chat-card" + (recommended ? " recommended" : ""), "data-testid": "chat-product",
                      "data-product-id": String(product.id)}, [
      src ? el("img", {src: src, alt: ""}) : null,
      el("span", {"class": "chat-title", text: position + ". " + product.title}),
      el("span", {"class": "chat-price", "data-testid": "chat-price", text: price}),
      el("button", {text: "Add to cart", "data-testid": "chat-add-to-cart", onclick: function () {
        pixel.track("add_to_cart", Object.assign({quantity: 1, price: product.price, currency: product.currency},
                                                 context));
        pixel.flush();
        store.state.cart += 1;
        $("cart").textContent = "Cart: " + store.state.cart;
      }})
    ]);
  }

  function handle(event, turn) {
    if (event.type === "tool") {
      say("tool", (event.tool === "search" ? "searching: " + (event.query || turn.content) : event.tool + "…"));
    } else if (event.type === "products") {
      turn.products = event.products;
      turn.searchId = event.search_id;
      if (event.search_id) event.products.forEach(function (p, i) {
        origin[String(p.id)] = {search_id: event.search_id, position: i + 1};
      });
    } else if (event.type === "reply") {
      var recommended = event.product_ids || [];
      var shown = recommended.length ? turn.products.filter(function (p) {
        return recommended.indexOf(String(p.id)) >= 0;
      }) : turn.products;
      shown.sort(function (a, b) { return recommended.indexOf(String(a.id)) - recommended.indexOf(String(b.id)); });
      var item = say("assistant", event.text, "chat-reply");
      item.setAttribute("data-source", event.source || "");
      shown.forEach(function (p, i) { item.appendChild(card(p, i + 1, turn.searchId || event.search_id, true)); });
      messages.push({role: "assistant", content: event.text, products: shown.map(function (p) { return String(p.id); })});
    } else if (event.type === "error") {
      say("tool", "error: " + event.text);
    }
  }

  function send(text) {
    if (busy) return;
    busy = true;
    messages.push({role: "user", content: text});
    say("user", text);
    $("chat-status").textContent = "thinking…";
    var turn = {content: text, products: [], searchId: null};
    fetch((config.endpoint || "") + "/v1/" + config.tenant + "/chat", {
      method: "POST", headers: {"Content-Type": "application/json", "Authorization": "Bearer " + config.key},
      body: JSON.stringify({messages: messages.slice(-20), session_id: pixel.sessionId})
    }).then(function (response) {
      if (!response.ok) return response.json().then(function (e) { throw new Error(e.error || response.statusText); });
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer += decoder.decode(chunk.value, {stream: true});
          var parts = buffer.split("\n\n");
          buffer = parts.pop();
          parts.forEach(function (part) {
            if (part.indexOf("data: ") === 0) handle(JSON.parse(part.slice(6)), turn);
          });
          return pump();
        });
      }
      return pump();
    }).catch(function (error) {
      say("tool", "the assistant failed: " + error.message);
    }).then(function () {
      busy = false;
      $("chat-status").textContent = "";
      $("chat-status").setAttribute("data-turns", String(messages.filter(function (m) {
        return m.role === "assistant"; }).length));
    });
  }

  $("chat-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("chat-input").value.trim();
    if (!text) return;
    $("chat-input").value = "";
    send(text);
  });
  window.vitrinaChat = {send: send, messages: messages};
})();
