// The post form's "publish at" is typed in the writer's local time; the
// server stores UTC. This fills the hidden `utc_offset` field with the
// browser's offset (minutes east of UTC) *for the chosen date*, so a time
// across a daylight-saving change is still right. Without JavaScript the
// field stays empty and the server reads the time as UTC (the form says so).
(function () {
  "use strict";
  document.querySelectorAll("input[data-local-time]").forEach(function (input) {
    var offset = input.form && input.form.elements.namedItem(input.dataset.localTime);
    if (!offset) return;
    var note = document.getElementById(input.id + "-zone");
    // A stored time comes in UTC: show it in local time.
    if (input.dataset.utcValue) {
      var stored = new Date(input.dataset.utcValue + ":00Z");
      if (!isNaN(stored.getTime())) {
        var pad = function (n) { return String(n).padStart(2, "0"); };
        input.value = stored.getFullYear() + "-" + pad(stored.getMonth() + 1) + "-" + pad(stored.getDate()) +
          "T" + pad(stored.getHours()) + ":" + pad(stored.getMinutes());
      }
    }
    function update() {
      var when = input.value ? new Date(input.value) : new Date();
      if (isNaN(when.getTime())) when = new Date();
      offset.value = String(-when.getTimezoneOffset());
      if (note) {
        var zone = "";
        try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* old browsers */ }
        note.textContent = "Your local time" + (zone ? " (" + zone + ")" : "") + ".";
      }
    }
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    update();
  });
})();
