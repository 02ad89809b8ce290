// Share controls, copyable heading links, and focus for form errors. The page works without this
// file: the share row's plain links need no script, and the buttons it
// enables stay hidden when it does not run.
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

  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
})();
