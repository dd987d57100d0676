// Starts the vendored Swagger UI on /api/docs. An external file, not an inline script,
// so that the Content-Security-Policy can keep script-src 'self' (see web/api_docs.py).
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec"),
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
  // Swagger UI names some icon buttons only by their title: give them an accessible name.
  new MutationObserver(function () {
    root.querySelectorAll("button[title]:not([aria-label])").forEach(function (b) {
      if (!b.textContent.trim()) b.setAttribute("aria-label", b.getAttribute("title"));
    });
  }).observe(root, { childList: true, subtree: true });
})();
