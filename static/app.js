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
})();
