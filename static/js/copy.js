// A copy button next to each value a bank transfer needs (IBAN, reference, amount): the value
// is in the page as text, so without script (or without a clipboard) it is selected and copied
// by hand as before. The buttons' words come from the page (`data-copy-label`, `-done`), in the
// reader's language; the confirmation is announced to screen readers (a live region).
"use strict";

(function () {
  const section = document.querySelector("[data-copy-label]");
  if (!section || !navigator.clipboard) return;
  const label = section.getAttribute("data-copy-label");
  const done = section.getAttribute("data-copy-done");
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  section.appendChild(status);

  section.querySelectorAll("[data-copy]").forEach(function (value) {
    const name = value.previousElementSibling ? value.previousElementSibling.textContent : "";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button--small button--secondary copy";
    button.textContent = label;
    button.setAttribute("aria-label", label + ": " + name);
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(value.getAttribute("data-copy")).then(function () {
        button.textContent = done;
        status.textContent = done + ": " + name;
        setTimeout(function () {
          button.textContent = label;
        }, 2000);
      });
    });
    value.appendChild(document.createTextNode(" "));
    value.appendChild(button);
  });
})();
