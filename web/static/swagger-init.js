// Starts Swagger UI on the page's #swagger-ui element; a file, not an inline script, so the CSP allows it.
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: container.getAttribute("data-spec-url"),
    domNode: container,
    deepLinking: true,
    // No call to the public validator service: the docs work offline and leak nothing.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
