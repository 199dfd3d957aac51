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

  // Copy buttons: data-copy="#field" copies that field's value (the API key shown once).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var done = function () {
      button.textContent = button.getAttribute("data-copied") || "Copied";
    };
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        if (document.execCommand("copy")) done();
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });

  // A page shown once in answer to a form (a new API key): the address becomes the list's,
  // so reloading shows the list (without the key) instead of sending the form again.
  function replaceAddress(root) {
    var marked = (root || document).querySelector("[data-replace-url]");
    if (marked && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", marked.getAttribute("data-replace-url"));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    replaceAddress(document);
    focusFirstError(document);
    armToasts(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    focusFirstError(event.target);
    armToasts(event.target);
  });
})();
