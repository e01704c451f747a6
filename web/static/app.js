// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const button = event.submitter;
  // Ask before a final verdict.
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  // One click, one workflow: a second click while the first is on its way would only wait for it.
  if (form.method.toLowerCase() === "post") {
    for (const b of form.querySelectorAll("button")) {
      b.disabled = true;
    }
  }
});
// Picking the second version of a notebook diff shows the difference at once.
document.addEventListener("change", (event) => {
  const input = event.target;
  const form = input.closest("form.diff-pick");
  if (form && input.name === "b" && form.querySelector("input[name=a]:checked")) {
    form.submit();
  }
});
