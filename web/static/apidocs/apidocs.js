// Starts Swagger UI on the service's own OpenAPI document (a file, not an inline script:
// the page's CSP allows scripts from this origin only).
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  // eslint-disable-next-line no-undef
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
});
