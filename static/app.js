// bullring: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // The page's texts in the reader's language: the server writes them into <body data-texts>
  // (locales/*.toml); "{n}" is filled with a count written as the language writes numbers.
  var TEXTS = {};
  try { TEXTS = JSON.parse(document.body.getAttribute("data-texts") || "{}"); } catch (_) { /* none */ }
  function count(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, document.body.getAttribute("data-thousands") || "");
  }
  function tr(key, n) {
    return (TEXTS[key] || key).replace("{n}", count(n));
  }
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
      if (value === undefined || count(value) === el.textContent) return;
      el.textContent = count(value);
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
      var link = news.querySelector("a");
      if (!link.hasAttribute("data-first")) link.setAttribute("data-first", link.getAttribute("href"));
      if (delta > 0) {
        news.querySelector("span").textContent = tr(delta === 1 ? "new_one" : "new_many", delta);
        link.setAttribute("href", link.getAttribute("data-first"));
        link.textContent = tr("show_them");
      } else {
        news.querySelector("span").textContent = tr(delta === -1 ? "left_one" : "left_many", -delta);
        link.setAttribute("href", list.getAttribute("data-src"));
        link.textContent = tr("show_again");
      }
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
    source.addEventListener("unavailable", function () { say(tr("unavailable")); });
    source.onerror = function () { say(tr("reconnecting")); };
    toggle.setAttribute("aria-pressed", "true");
    toggle.textContent = tr("live");
    toggle.title = tr("live_title");
  }
  function stop() {
    if (source) { source.close(); source = null; }
    toggle.setAttribute("aria-pressed", "false");
    toggle.textContent = tr("paused");
    toggle.title = tr("paused_title");
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

// Keyboard: `/` search or jump to a job, `j` / `k` rows, `x` tick, Enter open, `r` retry,
// `p` promote, `d` remove (its confirmation is asked as a click asks it), `g q` / `g s` / `g w`
// queues, schedulers, workers, `?` this list. Every key does what a click on a visible control
// does, so nothing here is out of reach without it.
(function () {
  "use strict";
  var current = null; // the id (data-id) or index of the current row
  var pendingG = 0;
  function typing(target) {
    if (!target) return false;
    if (target.tagName === "INPUT") return !/^(checkbox|radio|button|submit|reset)$/.test(target.type);
    return target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName);
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("main table tbody tr"));
  }
  function currentRow() {
    var all = rows();
    if (current === null) return null;
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-id") === current || String(i) === current) return all[i];
    }
    return null;
  }
  function mark(row, index) {
    document.querySelectorAll("tr.kb-current").forEach(function (r) { r.classList.remove("kb-current"); });
    if (!row) { current = null; return; }
    current = row.getAttribute("data-id") || String(index);
    row.classList.add("kb-current");
    var link = row.querySelector("a[href]") || row.querySelector("input, button");
    if (link) link.focus();
    row.scrollIntoView({ block: "nearest" });
  }
  function move(by) {
    var all = rows();
    if (!all.length) return;
    var row = currentRow();
    var index = row ? all.indexOf(row) + by : (by > 0 ? 0 : all.length - 1);
    index = Math.max(0, Math.min(all.length - 1, index));
    mark(all[index], index);
  }
  // The button of `action` on the current row, else the page's own (a job's page).
  function actionButton(action) {
    var selector = "form[action$=\"/" + action + "\"] button";
    var row = currentRow();
    if (row) return row.querySelector(selector);
    var buttons = document.querySelectorAll("main .actions " + selector);
    return buttons.length === 1 ? buttons[0] : null;
  }
  function press(action) {
    var button = actionButton(action);
    if (button) { button.focus(); button.click(); }
  }
  function search() {
    var box = document.querySelector("main input[type=search], main form.jump input[name=job], main input[name=q]");
    if (box) { box.focus(); if (box.select) box.select(); }
  }
  function go(key) {
    var link = document.querySelector("header a[data-go=\"" + key + "\"]");
    if (link) link.click();
  }
  function help() {
    var dialog = document.getElementById("keys");
    if (dialog && dialog.showModal && !dialog.open) dialog.showModal();
  }
  var help_button = document.getElementById("keys-open");
  if (help_button) {
    help_button.hidden = false;
    help_button.addEventListener("click", help);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    var key = event.key;
    if (pendingG && Date.now() - pendingG < 1500) {
      pendingG = 0;
      if (key === "q" || key === "s" || key === "w") { event.preventDefault(); go(key); }
      return;
    }
    pendingG = 0;
    switch (key) {
      case "/": event.preventDefault(); search(); break;
      case "j": event.preventDefault(); move(1); break;
      case "k": event.preventDefault(); move(-1); break;
      case "x": {
        var row = currentRow();
        var box = row && row.querySelector("input[type=checkbox]");
        if (box) { event.preventDefault(); box.click(); }
        break;
      }
      case "Enter": {
        var open = currentRow();
        if (open && document.activeElement === document.body) {
          var link = open.querySelector("a[href]");
          if (link) { event.preventDefault(); link.click(); }
        }
        break;
      }
      case "r": press("retry"); break;
      case "p": press("promote"); break;
      case "d": press("remove"); break;
      case "g": pendingG = Date.now(); break;
      case "?": event.preventDefault(); help(); break;
      default: break;
    }
  });
  // A new page or list: the current row is found again by its id, if it is still there.
  function refind() {
    var row = currentRow();
    document.querySelectorAll("tr.kb-current").forEach(function (r) { r.classList.remove("kb-current"); });
    if (row) row.classList.add("kb-current");
  }
  document.addEventListener("bullring:list-swapped", refind);
  document.body.addEventListener("htmx:afterSettle", function () { current = null; });
})();
