// bullring: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Live filter of the overview table as you type (the form still works without JS).
  function bindFilters() {
    document.querySelectorAll("input[data-filter-rows]").forEach(function (input) {
      if (input.dataset.bound) return;
      input.dataset.bound = "1";
      input.addEventListener("input", function () {
        var rows = document.querySelectorAll(input.getAttribute("data-filter-rows"));
        var needle = input.value.trim().toLowerCase();
        rows.forEach(function (row) {
          var name = (row.getAttribute("data-name") || "").toLowerCase();
          row.hidden = needle !== "" && name.indexOf(needle) === -1;
        });
      });
    });
  }
  bindFilters();
  document.body.addEventListener("htmx:afterSettle", bindFilters);

  // The theme switch: without JavaScript it is a plain GET form that sets the cookie and comes
  // back (a full page load). Here the page changes at once and the cookie is set in the
  // background.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (!form.matches || !form.matches("form.theme") || !button || button.name !== "theme") return;
    event.preventDefault();
    document.documentElement.setAttribute("data-theme", button.value);
    form.querySelectorAll("button[name=theme]").forEach(function (other) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    });
    var url = form.action + "?theme=" + encodeURIComponent(button.value);
    fetch(url, { credentials: "same-origin", redirect: "manual" }).catch(function () {});
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

  // Live counts: one EventSource per tab on {base}/events (the server samples Redis once for
  // every tab). Elements with data-live="prefix|queue|state" get the new count.
  var url = document.body.getAttribute("data-events");
  var toggle = document.getElementById("live-toggle");
  var status = document.getElementById("live-status");
  if (!url || !toggle || !window.EventSource) return;
  var source = null;
  var KEY = "bullring-live";
  function say(text) { if (status) status.textContent = text; }
  var lastCounts = null;
  function apply(data) {
    var counts = {};
    lastCounts = counts;
    data.queues.forEach(function (q) {
      Object.keys(q.counts).forEach(function (state) {
        counts[q.prefix + "|" + q.name + "|" + state] = q.counts[state];
      });
    });
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var value = counts[el.getAttribute("data-live")];
      if (value === undefined || String(value) === el.textContent) return;
      el.textContent = String(value);
      var cell = el.closest("td");
      if (cell) cell.classList.toggle("zero", value === 0);
      el.classList.remove("changed");
      void el.offsetWidth;
      el.classList.add("changed");
    });
    liveList(counts);
    say("updated " + new Date(data.at_ms).toLocaleTimeString());
  }

  // The job list of a queue page follows its state's count: page 1 is read again and swapped
  // in place (only the list; ticked boxes, the table's scroll and focus kept), later pages say
  // how many jobs came or went instead of moving rows under the reader. Nothing is read while
  // the count stays the same.
  var reading = false;
  function liveList(counts) {
    var list = document.getElementById("job-list");
    if (!list || reading) return;
    var value = counts[list.getAttribute("data-live-list")];
    var shown = Number(list.getAttribute("data-count"));
    if (value === undefined || value === shown) return;
    if (list.getAttribute("data-page") !== "1") {
      var news = list.querySelector(".news");
      var delta = value - shown;
      news.querySelector("span").textContent = delta > 0
        ? delta + (delta === 1 ? " new job" : " new jobs")
        : -delta + (delta === -1 ? " job left this list" : " jobs left this list");
      news.hidden = false;
      return;
    }
    reading = true;
    fetch(list.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html) swapList(list, html);
      })
      .catch(function () { /* the next change tries again */ })
      .then(function () {
        reading = false;
        // The count moved again while the list was read: read it once more.
        var now = document.getElementById("job-list");
        if (now && lastCounts && lastCounts[now.getAttribute("data-live-list")] !== value) {
          liveList(lastCounts);
        }
      });
  }
  function swapList(list, html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("job-list");
    if (!fresh || !document.body.contains(list)) return;
    // A confirmation or the help overlay is open: leave the list alone until it is closed.
    if (document.querySelector("dialog[open]")) return;
    var ticked = {};
    list.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) { ticked[box.value] = true; });
    var box = list.querySelector(".scroll");
    var left = box ? box.scrollLeft : 0;
    var focused = document.activeElement && list.contains(document.activeElement) ? focusKey(document.activeElement) : null;
    list.replaceWith(fresh);
    fresh.querySelectorAll("input[type=checkbox]").forEach(function (b) { if (ticked[b.value]) b.checked = true; });
    var newBox = fresh.querySelector(".scroll");
    if (newBox) newBox.scrollLeft = left;
    if (focused) {
      var again = fresh.querySelector(focused);
      if (again) again.focus({ preventScroll: true });
    }
    if (window.htmx) window.htmx.process(fresh);
    document.dispatchEvent(new CustomEvent("bullring:list-swapped"));
  }
  // A selector finding the same control in the fresh list.
  function focusKey(element) {
    var row = element.closest("tr[data-id]");
    var inRow = row ? "tr[data-id=\"" + CSS.escape(row.getAttribute("data-id")) + "\"] " : "";
    if (element.matches("input[type=checkbox]")) return inRow + "input[type=checkbox]";
    if (element.closest("form[action]")) return inRow + "form[action=\"" + CSS.escape(element.closest("form").getAttribute("action")) + "\"] button";
    if (element.matches("a[href]")) return inRow + "a[href=\"" + CSS.escape(element.getAttribute("href")) + "\"]";
    return null;
  }
  function start() {
    if (source) return;
    source = new EventSource(url);
    source.addEventListener("counts", function (e) { apply(JSON.parse(e.data)); });
    source.addEventListener("unavailable", function () { say("Redis unavailable, retrying"); });
    source.onerror = function () { say("reconnecting"); };
    toggle.setAttribute("aria-pressed", "true");
    toggle.textContent = "Live";
    toggle.title = "Counts update by themselves; click to pause";
  }
  function stop() {
    if (source) { source.close(); source = null; }
    toggle.setAttribute("aria-pressed", "false");
    toggle.textContent = "Paused";
    toggle.title = "Live updates are paused; click to resume";
    say("");
  }
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var on = toggle.getAttribute("aria-pressed") !== "true";
    try { window.localStorage.setItem(KEY, on ? "on" : "off"); } catch (_) { /* private mode */ }
    if (on) { start(); } else { stop(); }
  });
  var saved = null;
  try { saved = window.localStorage.getItem(KEY); } catch (_) { /* private mode */ }
  if (saved === "off") { stop(); } else { start(); }
})();
