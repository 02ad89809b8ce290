// The staff page editor: live preview, line numbers, the formatting
// toolbar and the description's character count. The form works without
// any of it (the Preview button asks the server); this only makes it
// quicker. No framework and nothing from elsewhere: the same rules (CSP)
// as every page.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) return;
  var text = document.getElementById("page-text") || document.getElementById("whole-text");
  var firstLine = text ? Number(text.getAttribute("data-first-line")) || 1 : 1;
  var gutter = document.querySelector(".line-numbers");
  var frame = document.getElementById("preview-frame");
  var checks = document.getElementById("checks");
  var state = document.getElementById("preview-state");
  var sizeWarning = document.getElementById("size-warning");
  var maxBytes = Number(form.getAttribute("data-max-bytes")) || 0;
  var dirty = false;
  var sending = false;

  // Description: a live count against the 50-160 characters search
  // results and link previews show.
  var description = document.getElementById("field-description");
  var count = document.getElementById("description-count");
  function countDescription() {
    var n = Array.from(description.value.trim()).length;
    var advice = n < 50 ? " Aim for at least 50." : n > 160 ? " That is more than 160: search results will cut it short." : " Good length.";
    count.textContent = n + " characters." + advice;
  }
  if (description && count) {
    description.addEventListener("input", countDescription);
    countDescription();
  }

  // Line numbers beside the text, one per line of the file, as tall as
  // the line is once wrapped, so they match `check`'s line numbers.
  var mirror = null;
  function drawLineNumbers() {
    if (!text || !gutter) return;
    if (!mirror) {
      mirror = document.createElement("div");
      mirror.setAttribute("aria-hidden", "true");
      mirror.className = "line-mirror";
      document.body.appendChild(mirror);
    }
    var style = getComputedStyle(text);
    mirror.style.width = text.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) + "px";
    ["fontFamily", "fontSize", "lineHeight", "letterSpacing", "tabSize"].forEach(function (p) {
      mirror.style[p] = style[p];
    });
    var lines = text.value.split("\n");
    mirror.textContent = "";
    lines.forEach(function (line) {
      var div = document.createElement("div");
      div.textContent = line === "" ? "\u200b" : line;
      mirror.appendChild(div);
    });
    var numbers = document.createDocumentFragment();
    Array.prototype.forEach.call(mirror.children, function (div, i) {
      var n = document.createElement("div");
      n.textContent = String(firstLine + i);
      n.style.height = div.getBoundingClientRect().height + "px";
      numbers.appendChild(n);
    });
    gutter.textContent = "";
    gutter.appendChild(numbers);
    gutter.style.paddingTop = style.paddingTop;
    gutter.scrollTop = text.scrollTop;
  }

  // "Line 12, column 4" for where the cursor is, to match the problems.
  var place = document.getElementById("cursor-place");
  function showPlace() {
    if (!text || !place) return;
    var before = text.value.slice(0, text.selectionStart).split("\n");
    place.textContent = "Line " + (firstLine + before.length - 1) + ", column " + (before[before.length - 1].length + 1) + " of the file.";
  }

  function lineStart(line) {
    var lines = text.value.split("\n");
    var index = Math.max(0, Math.min(lines.length - 1, line - firstLine));
    var offset = 0;
    for (var i = 0; i < index; i++) offset += lines[i].length + 1;
    return offset;
  }

  // A problem's link puts the cursor on its line.
  checks.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-target]");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("data-target"));
    if (!target) return;
    event.preventDefault();
    if (target === text) {
      var at = lineStart(Number(link.getAttribute("data-line")) || firstLine);
      text.focus();
      text.setSelectionRange(at, at);
      // Scroll the line into view: put it a third of the way down.
      var share = text.value.slice(0, at).split("\n").length / Math.max(1, text.value.split("\n").length);
      text.scrollTop = Math.max(0, share * text.scrollHeight - text.clientHeight / 3);
      showPlace();
    } else if (target.tagName === "A") {
      target.click();
    } else {
      target.focus();
    }
  });

  // The preview, refreshed as the text changes: the server renders the
  // page exactly as it would publish it.
  var timer = null;
  var asked = 0;
  function schedulePreview() {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, 250);
  }
  function refreshPreview() {
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    var bytes = new TextEncoder().encode(text ? text.value : "").length;
    if (maxBytes && bytes > maxBytes) {
      sizeWarning.textContent = "The text is " + Math.ceil(bytes / 1024) + " KiB: a page may be at most " + maxBytes / 1024 + " KiB. Split it into sections before saving.";
    } else {
      sizeWarning.textContent = "";
    }
    var mine = ++asked;
    state.textContent = "Updating the preview…";
    fetch(form.getAttribute("data-preview"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (answer) {
        if (mine !== asked) return;
        checks.innerHTML = answer.checks;
        if (answer.html) {
          var doc = frame.contentDocument;
          keepScroll = doc && doc.scrollingElement ? doc.scrollingElement.scrollTop : 0;
          frame.srcdoc = answer.html;
          state.textContent = "How the page will look.";
        } else {
          state.textContent = "The preview shows the last version that could be read: fix the problems to update it.";
        }
      })
      .catch(function () {
        if (mine !== asked) return;
        state.textContent = "The preview could not be updated. Your text is safe: use the Preview button.";
      });
  }

  // A new preview opens where the last one was being read. Its links open
  // in a new tab: the site's pages refuse to be shown inside another page.
  var keepScroll = 0;
  function prepareFrame() {
    var doc = frame.contentDocument;
    if (!doc || doc.__prepared) return;
    doc.__prepared = true;
    if (doc.scrollingElement) doc.scrollingElement.scrollTop = keepScroll;
    doc.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[href]");
      if (!link || link.getAttribute("href").charAt(0) === "#") return;
      event.preventDefault();
      window.open(link.href, "_blank", "noopener");
    });
  }
  frame.addEventListener("load", prepareFrame);
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") prepareFrame();

  form.addEventListener("input", function (event) {
    if (event.target === text) drawLineNumbers();
    schedulePreview();
  });
  form.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT" || event.target.type === "checkbox") schedulePreview();
  });
  form.addEventListener("submit", function () {
    sending = true;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !sending) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  if (text) {
    text.addEventListener("scroll", function () {
      if (gutter) gutter.scrollTop = text.scrollTop;
    });
    ["keyup", "click", "select", "focus"].forEach(function (name) {
      text.addEventListener(name, showPlace);
    });
    window.addEventListener("resize", drawLineNumbers);
    drawLineNumbers();
  }

  // The toolbar puts plain markdown around the selection, or an example
  // to type over, and selects what is to be replaced.
  function insert(before, after, example, block) {
    var start = text.selectionStart;
    var end = text.selectionEnd;
    var value = text.value;
    var chosen = value.slice(start, end) || example;
    var lead = "";
    if (block && start > 0 && value[start - 1] !== "\n") lead = "\n\n";
    else if (block && start > 1 && value[start - 2] !== "\n") lead = "\n";
    var tail = block && value[end] !== "\n" ? "\n" : "";
    var inserted = lead + before + chosen + after + tail;
    text.focus();
    text.setRangeText(inserted, start, end, "end");
    var from = start + lead.length + before.length;
    text.setSelectionRange(from, from + chosen.length);
    text.dispatchEvent(new Event("input", { bubbles: true }));
  }
  var toolbar = document.querySelector(".toolbar");
  if (toolbar && text) {
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      if (button.hasAttribute("data-image")) {
        var address = window.prompt("The picture's address, from the Pictures page (like /static/images/name.jpg):");
        if (!address) return;
        var alt = "";
        while (!alt) {
          alt = window.prompt("Describe the picture for people who cannot see it (required), like \u201cTherapist placing a thin needle in a patient's upper back\u201d:");
          if (alt === null) return;
          alt = alt.trim();
        }
        insert("![" + alt.replace(/[\[\]]/g, "") + "](" + address.trim() + ")", "", "", true);
        return;
      }
      insert(
        button.getAttribute("data-before"),
        button.getAttribute("data-after"),
        button.getAttribute("data-example"),
        button.hasAttribute("data-block")
      );
    });
    // Arrow keys move between the toolbar's buttons (one tab stop).
    var buttons = Array.prototype.slice.call(toolbar.querySelectorAll("button"));
    buttons.forEach(function (b, i) {
      b.tabIndex = i === 0 ? 0 : -1;
    });
    toolbar.addEventListener("keydown", function (event) {
      var i = buttons.indexOf(document.activeElement);
      if (i < 0) return;
      var next = event.key === "ArrowRight" ? i + 1 : event.key === "ArrowLeft" ? i - 1 : event.key === "Home" ? 0 : event.key === "End" ? buttons.length - 1 : null;
      if (next === null) return;
      event.preventDefault();
      next = (next + buttons.length) % buttons.length;
      buttons[i].tabIndex = -1;
      buttons[next].tabIndex = 0;
      buttons[next].focus();
    });
  }

  // The conflict view: either version into the box to save.
  var theirs = document.getElementById("conflict-theirs");
  var yours = text ? text.value : "";
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      text.value = button.getAttribute("data-copy") === "theirs" ? theirs.value : yours;
      text.dispatchEvent(new Event("input", { bubbles: true }));
      text.focus();
    });
  });

  var error = document.getElementById("editor-error");
  if (error) error.focus();
})();
