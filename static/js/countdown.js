// The time left to pay, kept current on the order page. The server renders the same text
// ("23 h 12 min"); this only recounts it each half-minute, for elements swapped in by htmx
// too. At zero it says so; the page explains the expired order on the next load.
(function () {
  "use strict";

  function left(ms) {
    var minutes = Math.floor(ms / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + " d " + hours + " h";
    if (hours) return hours + " h " + mins + " min";
    if (mins) return mins + " min";
    return "less than a minute";
  }

  function tick() {
    var nodes = document.querySelectorAll("[data-countdown][data-expires-at]");
    for (var i = 0; i < nodes.length; i++) {
      var until = Date.parse(nodes[i].getAttribute("data-expires-at"));
      var text = nodes[i].querySelector("[data-countdown-text]");
      if (isNaN(until) || !text) continue;
      var remaining = until - Date.now();
      if (remaining <= 0) {
        nodes[i].textContent = "The time to pay has run out.";
        nodes[i].removeAttribute("data-countdown");
      } else {
        text.textContent = left(remaining);
      }
    }
  }

  setInterval(tick, 30000);
})();
