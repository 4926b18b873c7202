/* coursegate: starts Swagger UI on /api/docs, from the files beside it (no CDN: the page works
 * offline). An external file because the page's Content-Security-Policy refuses inline scripts;
 * the OpenAPI document's address comes from the page (data-openapi-url). */
(function () {
  "use strict";
  var box = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: box.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();
