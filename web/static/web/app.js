/* Stockroom console behaviour. No inline scripts anywhere (Content-Security-Policy). */
(function () {
  "use strict";

  // "/" focuses the search box (unless typing in a field already).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var search = document.querySelector("[data-hotkey='/']");
    if (search) {
      event.preventDefault();
      search.focus();
    }
  });

  // The first field with an error gets focus, so a keyboard or screen-reader user lands on it.
  function focusFirstError(root) {
    var invalid = (root || document).querySelector(".is-invalid");
    if (invalid && typeof invalid.focus === "function") invalid.focus();
  }

  // Toasts go away on their own after a while; the close button works at once.
  function armToasts(root) {
    (root || document).querySelectorAll(".toast[data-autohide='true']").forEach(function (toast) {
      window.setTimeout(function () { toast.classList.remove("show"); }, 6000);
      var close = toast.querySelector("[data-bs-dismiss='toast']");
      if (close) close.addEventListener("click", function () { toast.classList.remove("show"); });
    });
  }

  // Buttons that ask first: data-confirm="Cancel SO-000042?" on a submit button.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    focusFirstError(document);
    armToasts(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    focusFirstError(event.target);
    armToasts(event.target);
  });
})();
