// Fields that depend on a choice (the address fields on the country, the kinds of tax ID on
// the country) are re-rendered by the server. Without script, a button next to the select
// asks for them (a form post that changes nothing). With script, the button goes and
// choosing refreshes the fields in place: the same post, sent in the background, and the
// form's other fields taken from its answer. Nothing navigates and focus stays on the select,
// so arrow keys in a closed select do not submit anything (WCAG 3.2.2: no change of context
// on input). Any failure leaves the button, which works as before.
"use strict";

(function () {
  function fieldOf(node) {
    return node.closest(".field") || node;
  }

  function refresh(form, select, button) {
    const body = new FormData(form);
    body.set(button.name, button.value);
    form.setAttribute("aria-busy", "true");
    // Not `form.action`: a control named "action" (the button) shadows the property.
    const target = form.getAttribute("action");
    return fetch(target, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("refresh answered " + response.status);
        return response.text();
      })
      .then(function (text) {
        const page = new DOMParser().parseFromString(text, "text/html");
        const fresh = page.querySelector('form[action="' + target + '"]');
        const freshSelect = fresh && fresh.querySelector("#" + select.id);
        if (!freshSelect) throw new Error("refresh found no form");
        // What was typed while the answer was on its way wins over what the answer kept.
        const typed = {};
        form.querySelectorAll("input[name]:not([type=hidden]):not([type=radio]), textarea[name]")
          .forEach(function (input) {
            typed[input.name] = input.value;
          });
        const focused = document.activeElement && document.activeElement.id;
        const keep = fieldOf(select);
        const freshKeep = fieldOf(freshSelect);
        Array.from(form.children).forEach(function (child) {
          if (child !== keep) child.remove();
        });
        let before = true;
        Array.from(fresh.children).forEach(function (child) {
          if (child === freshKeep) {
            before = false;
            return;
          }
          const node = document.importNode(child, true);
          if (before) form.insertBefore(node, keep);
          else form.appendChild(node);
        });
        form.querySelectorAll("input[name]:not([type=hidden]):not([type=radio]), textarea[name]")
          .forEach(function (input) {
            if (Object.prototype.hasOwnProperty.call(typed, input.name)) input.value = typed[input.name];
          });
        const again = focused && document.getElementById(focused);
        if (again && again !== document.activeElement) again.focus();
        enhance(form);
      })
      .catch(function () {
        button.hidden = false;
      })
      .finally(function () {
        form.removeAttribute("aria-busy");
      });
  }

  function enhance(root) {
    root.querySelectorAll("button[data-refresh]").forEach(function (button) {
      const select = document.getElementById(button.dataset.refresh);
      const form = button.form;
      if (!select || !form || button.disabled || button.dataset.enhanced) return;
      button.dataset.enhanced = "1";
      button.hidden = true;
      select.addEventListener("change", function () {
        refresh(form, select, button);
      });
    });
  }

  enhance(document);
})();
