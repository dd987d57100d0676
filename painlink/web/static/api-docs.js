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
})();
