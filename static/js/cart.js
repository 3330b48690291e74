/* Cloud Store: the browser's copy of an anonymous cart, and the cart drawer.
 *
 * Contract with the server (cloudstore/web/pages/cartview.py):
 * - <body data-cart-mode="local"> (not logged in): every htmx request carries the cart kept in
 *   localStorage as the X-Cart header, JSON [{"product_id": "...", "quantity": n}, ...].
 *   The server validates it, applies the change and renders the result.
 * - After a change the server answers with the HX-Trigger event "cs:cart-store"
 *   {"items": [...]}: the cart as the server accepted it, which is stored here as is.
 * - <body data-cart-mode="server"> (logged in): the Cart table holds the cart; the server
 *   merged the browser's copy at login, so the copy here is removed.
 * Everything else (counts, drawer contents, toasts) is HTML the server swaps in.
 */
(function () {
  "use strict";

  var KEY = "cloudstore.cart.v1";
  var MAX_LINES = 50;
  var PRODUCT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

  function isLine(item) {
    return item !== null && typeof item === "object" &&
      typeof item.product_id === "string" && PRODUCT_ID.test(item.product_id) &&
      Number.isInteger(item.quantity) && item.quantity >= 1 && item.quantity <= 99;
  }

  function read() {
    try {
      var items = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(items) ? items.filter(isLine).slice(0, MAX_LINES) : [];
    } catch (error) {
      return [];
    }
  }

  function write(items) {
    try {
      var lines = Array.isArray(items) ? items.filter(isLine).slice(0, MAX_LINES) : [];
      if (lines.length) {
        window.localStorage.setItem(KEY, JSON.stringify(lines.map(function (line) {
          return { product_id: line.product_id, quantity: line.quantity };
        })));
      } else {
        window.localStorage.removeItem(KEY);
      }
    } catch (error) {
      /* storage full or disabled: the cart lasts for this page only */
    }
  }

  function mode() {
    return document.body ? document.body.getAttribute("data-cart-mode") : null;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (mode() !== "local") {
      return;
    }
    var items = read();
    if (items.length) {
      event.detail.headers["X-Cart"] = JSON.stringify(items);
    } else if (event.detail.elt && event.detail.elt.hasAttribute("data-cart-loader")) {
      event.preventDefault(); /* nothing to fetch: the server already rendered an empty cart */
    }
  });

  document.addEventListener("cs:cart-store", function (event) {
    if (mode() === "local" && event.detail) {
      write(event.detail.items);
    }
  });

  if (mode() === "server") {
    write([]);
  }

  /* The drawer is a native <dialog>: showModal() traps focus, Esc closes it, and the
   * close button is a <form method="dialog">. Without JavaScript the cart link goes to /cart. */
  var drawer = document.getElementById("cart-drawer");
  var opener = null;
  if (drawer && typeof drawer.showModal === "function") {
    document.addEventListener("click", function (event) {
      var trigger = event.target.closest("[data-drawer-open]");
      if (trigger) {
        event.preventDefault();
        opener = trigger;
        drawer.showModal();
      } else if (event.target === drawer) {
        drawer.close(); /* a click on the backdrop */
      }
    });
    drawer.addEventListener("close", function () {
      if (opener && document.body.contains(opener)) {
        opener.focus();
      }
      opener = null;
    });
  }
})();
