// Preview only (`serve --dev`): reload this page when the content changes.
// The server sends a "reload" event after every rebuild, good or bad.
(function () {
  "use strict";
  if (!window.EventSource) return;
  var source = new EventSource("/_dev/events");
  source.addEventListener("reload", function () {
    source.close();
    window.location.reload();
  });
})();
