// /docs: Swagger UI over the server's own OpenAPI schema. A file of its own (not an inline
// script) so the page runs under the same Content-Security-Policy as the web client.
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // The default validator is a third-party service that would be sent the schema.
  validatorUrl: null,
});
