// bullring: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Live filter of the overview table as you type (the form still works without JS).
  document.querySelectorAll("input[data-filter-rows]").forEach(function (input) {
    var rows = document.querySelectorAll(input.getAttribute("data-filter-rows"));
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      rows.forEach(function (row) {
        var name = (row.getAttribute("data-name") || "").toLowerCase();
        row.hidden = needle !== "" && name.indexOf(needle) === -1;
      });
    });
  });
  // htmx leaves 4xx / 5xx answers out by default. Ours are pages too (the add form shown again
  // with its error, "not possible now", "not found"): swap their <main> in like any other page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (xhr.status >= 400 && type.indexOf("text/html") === 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
