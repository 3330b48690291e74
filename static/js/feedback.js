/* Cloud Store: telling the shopper what happened after an htmx action.
 *
 * - A failed action is never silent. The server answers a failed htmx action with an error
 *   toast (an out-of-band swap, marked `HX-Reswap: none`, see cloudstore/web/errors.py);
 *   htmx does not swap error answers by itself, so this lets it swap that one. Any other
 *   failure (a network error, a timeout, a proxy's 502) gets a toast made here from the
 *   server-rendered <template id="toast-template">; an expired form (403) and a conflict
 *   (409) offer to reload the page.
 * - Focus goes somewhere sensible after every swap: it stays where the shopper put it while
 *   that element is still on the page; otherwise it goes to what replaced it (the first new
 *   product after "Load more", the first field with an error in a form), else the updated
 *   region, else the message that came with it.
 * - Toasts have a close button and are removed once they have faded out.
 * - A quantity outside 1 to 99 is explained as soon as it is typed (the words come from the
 *   server: <body data-quantity-message>, see cloudstore/domain/field_messages.py).
 */
(function () {
  "use strict";

  var MESSAGES = {
    network: "We could not reach the shop. Check your connection and try again.",
    timeout: "The shop took too long to answer. Please try again.",
    expired: "This page has expired. Reload it and try again.",
    conflict: "That could not be done: something changed meanwhile. Reload the page and try again.",
    server: "Something went wrong on our side. Please try again in a moment.",
    other: "That did not work. Please try again."
  };
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea";

  /* ---- toasts ------------------------------------------------------------------------- */

  function showToast(text, offerReload) {
    var region = document.getElementById("toasts");
    var template = document.getElementById("toast-template");
    if (!region || !template) {
      return null;
    }
    var toast = template.content.firstElementChild.cloneNode(true);
    toast.querySelector(".toast-text").textContent = text;
    var reload = toast.querySelector(".toast-action");
    if (reload) {
      if (offerReload) {
        reload.setAttribute("href", window.location.href);
      } else {
        reload.remove();
      }
    }
    region.replaceChildren(toast);
    return toast;
  }

  function closeToast(toast) {
    var hadFocus = toast.contains(document.activeElement);
    toast.remove();
    if (hadFocus) {
      focusOn(document.getElementById("main"));
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toast-close]");
    if (button) {
      closeToast(button.closest(".toast"));
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var toast = document.activeElement && document.activeElement.closest(".toast");
      if (toast) {
        closeToast(toast);
      }
    }
  });

  document.addEventListener("animationend", function (event) {
    var name = event.animationName;
    if ((name === "toast-out" || name === "toast-gone") && event.target.classList.contains("toast")) {
      event.target.classList.add("is-gone");
      if (!event.target.contains(document.activeElement)) {
        event.target.remove();
      }
    }
  });

  /* ---- failed actions ----------------------------------------------------------------- */

  function serversOwnAnswer(xhr) {
    return xhr && xhr.status >= 400 && xhr.getResponseHeader("HX-Reswap") === "none";
  }

  function fromOurPages(xhr) {
    return (xhr.getResponseHeader("Vary") || "").indexOf("HX-Request") !== -1;
  }

  function failed(text, offerReload) {
    showToast(text, offerReload); /* focus: see htmx:afterRequest below */
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (serversOwnAnswer(xhr)) {
      event.detail.shouldSwap = true; /* its toast is an out-of-band swap; the target stays */
    } else if (xhr && xhr.status === 409 && !fromOurPages(xhr)) {
      /* htmx swaps a 409 (checkout answers one with the form that explains it); one that
       * is not our pages' HTML came from elsewhere: keep the page, say so. */
      event.detail.shouldSwap = false;
      failed(MESSAGES.conflict, true);
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (serversOwnAnswer(xhr)) {
      return;
    }
    var status = xhr ? xhr.status : 0;
    if (status === 403) {
      failed(MESSAGES.expired, true);
    } else if (status === 409) {
      failed(MESSAGES.conflict, true);
    } else if (status >= 500) {
      failed(MESSAGES.server, false);
    } else {
      failed(MESSAGES.other, false);
    }
  });

  document.addEventListener("htmx:sendError", function () {
    failed(MESSAGES.network, false);
  });

  document.addEventListener("htmx:timeout", function () {
    failed(MESSAGES.timeout, false);
  });

  /* ---- focus after a swap ------------------------------------------------------------- */

  var before = null;

  function focusIsKept() {
    var active = document.activeElement;
    return !!active && active !== document.body && active.isConnected;
  }

  function focusOn(element) {
    if (!element || !element.isConnected) {
      return false;
    }
    if (!element.matches(FOCUSABLE) && !element.hasAttribute("tabindex")) {
      element.setAttribute("tabindex", "-1");
      element.setAttribute("data-swap-focus", "");
    }
    element.focus({ preventScroll: true });
    return document.activeElement === element;
  }

  function bestIn(region) {
    if (!region) {
      return null;
    }
    return region.querySelector("[aria-invalid=true], [role=alert], .alert") ||
      (region.matches(FOCUSABLE) ? region : region.querySelector(FOCUSABLE)) || region;
  }

  /* Where focus was, noted before htmx disables anything (hx-disabled-elt). */
  document.addEventListener("htmx:configRequest", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    before = {
      xhr: null,
      active: active && active !== document.body ? active : null,
      target: target || null,
      targetId: target && target.id ? target.id : null,
      previous: target ? target.previousElementSibling : null
    };
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (before && !before.xhr) {
      before.xhr = event.detail.xhr;
    }
  });

  /* Once per request, when the swap is done and disabled buttons are enabled again: at
   * afterRequest, or (when the element that asked was swapped away, so that event never
   * reaches the document) at afterSettle. Only a request that took the shopper's focus away
   * moves it: the cart loaded after the page, with nothing focused, leaves focus alone. */
  document.addEventListener("htmx:afterRequest", restoreFocus);
  document.addEventListener("htmx:afterSettle", restoreFocus);

  function restoreFocus(event) {
    var state = before;
    if (!state || !state.xhr || state.xhr !== event.detail.xhr) {
      return;
    }
    before = null;
    if (!state.active || focusIsKept()) {
      return;
    }
    var candidates = [state.active];
    if (state.active.id) {
      candidates.push(document.getElementById(state.active.id)); /* swapped in again */
    }
    var label = state.active.getAttribute("aria-label");
    if (label && window.CSS && CSS.escape) {
      /* the same control in the new HTML ("Increase quantity of ..." in the drawer) */
      candidates.push(document.querySelector("[aria-label=\"" + CSS.escape(label) + "\"]"));
    }
    if (state.target && !state.target.isConnected && state.previous && state.previous.isConnected) {
      candidates.push(bestIn(state.previous.nextElementSibling)); /* what replaced the target */
    }
    if (state.target && state.target.isConnected && state.target !== document.body) {
      candidates.push(bestIn(state.target));
    } else if (state.targetId) {
      candidates.push(bestIn(document.getElementById(state.targetId)));
    }
    candidates.push(document.querySelector("#toasts .toast"));
    candidates.push(document.getElementById("main"));
    for (var i = 0; i < candidates.length; i += 1) {
      if (focusOn(candidates[i])) {
        return;
      }
    }
  }

  /* ---- quantities, explained as typed ------------------------------------------------- */

  var LOWEST = 1;
  var HIGHEST = 99;

  function messageFor(input) {
    var id = (input.id || "quantity") + "-message";
    var message = document.getElementById(id);
    if (!message) {
      message = document.createElement("p");
      message.id = id;
      message.className = "field-error qty-message";
      message.setAttribute("aria-live", "polite");
      message.hidden = true;
      input.form.appendChild(message);
    }
    return message;
  }

  function checkQuantity(input) {
    var text = input.value.trim();
    var number = Number(text);
    var fine = !input.validity.badInput && /^[0-9]+$/.test(text) &&
      number >= LOWEST && number <= HIGHEST;
    var message = messageFor(input);
    var words = document.body.getAttribute("data-quantity-message") ||
      "Quantity must be a whole number from 1 to 99.";
    message.textContent = fine ? "" : words;
    message.hidden = fine;
    input.setCustomValidity(fine ? "" : words);
    if (fine) {
      input.removeAttribute("aria-invalid");
    } else {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", message.id);
    }
    return fine;
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[type=number][name=quantity]") && input.form) {
      checkQuantity(input);
    }
  });
})();
