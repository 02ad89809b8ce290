// Share controls, copyable heading links, focus for form errors, and
// "Was this page helpful?" answered in place. The page works without this
// file: the share row's plain links need no script, the buttons it
// enables stay hidden when it does not run, and the feedback buttons open
// the reader's own feedback page.
(function () {
  "use strict";

  var status = document.getElementById("share-status");
  var canonical = document.querySelector('link[rel="canonical"]');
  var pageUrl = canonical ? canonical.href : location.href.split("#")[0];

  // Clearing first makes screen readers announce the same message again.
  function announce(message) {
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function copy(text) {
    if (!navigator.clipboard || !window.isSecureContext) return Promise.reject(new Error("no clipboard"));
    return navigator.clipboard.writeText(text);
  }

  // Tells the site a share control was used, for its reading figures: the
  // page and which control, nothing about the reader. Sent without waiting,
  // so leaving for the email app or another site does not lose it.
  var pagePath = canonical ? new URL(canonical.href).pathname : location.pathname;
  function counted(channel) {
    var body = new URLSearchParams({ page: pagePath, channel: channel });
    if (navigator.sendBeacon) {
      navigator.sendBeacon("/share-beacon", body);
    } else if (window.fetch) {
      fetch("/share-beacon", { method: "POST", body: body, keepalive: true, credentials: "omit" }).catch(function () {});
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-share-channel]") : null;
    if (link) counted(link.getAttribute("data-share-channel"));
  });

  var copyButton = document.querySelector("[data-copy-link]");
  if (copyButton && navigator.clipboard && window.isSecureContext) {
    copyButton.hidden = false;
    copyButton.addEventListener("click", function () {
      copy(copyButton.getAttribute("data-copy-link")).then(
        function () { announce("Link copied"); counted("copy"); },
        function () { announce("Sorry, the link could not be copied. Copy it from the address bar instead."); }
      );
    });
  }

  var shareButton = document.querySelector("[data-share]");
  if (shareButton && navigator.share) {
    shareButton.hidden = false;
    shareButton.addEventListener("click", function () {
      navigator.share({ title: document.title, url: pageUrl }).then(
        function () { counted("native"); },
        function () { /* the reader closed the share sheet */ }
      );
    });
  }

  // A heading's # link still jumps to the heading; it also copies the link
  // to that part, so "the side effects part" can be shared directly.
  document.addEventListener("click", function (event) {
    var anchor = event.target.closest ? event.target.closest("a.heading-anchor") : null;
    if (!anchor) return;
    copy(pageUrl + anchor.hash).then(
      function () { announce("Link to this part copied"); },
      function () { /* copying is a bonus here; the link itself still works */ }
    );
  });

  // After a form comes back with problems, start the reader at the list of
  // them, as the GOV.UK and NHS patterns do.
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // "Was this page helpful?": the article page is the same for everyone,
  // so Yes and No fetch the reader's own form (with its one-time token)
  // and show it here; sending it shows the thanks here too. Any failure
  // falls back to the page the form would have opened without script.
  var feedback = document.querySelector("[data-feedback]");
  function showPanel(html) {
    var panel = new DOMParser().parseFromString(html, "text/html").getElementById("feedback-panel");
    if (!panel) return false;
    // On its own page the title is the page's h1; here it is a part of the
    // article, under the article's h1, and keeps labelling this section.
    var title = panel.querySelector("h1.feedback-title");
    if (title) {
      var heading = document.createElement("h2");
      heading.className = title.className;
      heading.id = "feedback-heading";
      heading.tabIndex = -1;
      heading.textContent = title.textContent;
      title.parentNode.replaceChild(heading, title);
    }
    feedback.innerHTML = "";
    feedback.appendChild(document.importNode(panel, true));
    var focus = feedback.querySelector(".error-summary") || feedback.querySelector(".feedback-title");
    if (focus) focus.focus();
    return true;
  }
  function read(response) {
    // 400 (a mistake to fix) and 429 (wait) come back as the form with a message.
    if (!response.ok && response.status !== 400 && response.status !== 429) throw new Error(String(response.status));
    return response.text();
  }
  if (feedback && window.fetch && window.DOMParser) {
    feedback.addEventListener("submit", function (event) {
      var form = event.target;
      var button = event.submitter;
      if (form.hasAttribute("data-feedback-ask")) {
        if (!button || !button.value) return;
        event.preventDefault();
        var url = form.action + "?helpful=" + encodeURIComponent(button.value);
        fetch(url, { credentials: "same-origin" }).then(read).then(function (html) {
          if (!showPanel(html)) location.href = url;
        }).catch(function () { location.href = url; });
      } else if (form.hasAttribute("data-feedback-send")) {
        event.preventDefault();
        var data = new URLSearchParams(new FormData(form));
        if (button && button.name) data.append(button.name, button.value);
        fetch(form.action, { method: "POST", credentials: "same-origin", body: data }).then(read).then(function (html) {
          if (!showPanel(html)) form.submit();
        }).catch(function () { form.submit(); });
      }
    });
  }

  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
})();
