/* Starts ReDoc on the API docs page (core/templates/core/redoc.html): a file, not an inline
   script, so the page runs under the site's Content-Security-Policy. */
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  var settings = container.getAttribute("data-settings");
  window.Redoc.init(container.getAttribute("data-spec-url"), settings ? JSON.parse(settings) : {}, container);
})();
