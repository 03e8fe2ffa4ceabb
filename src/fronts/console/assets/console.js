// novakeys web console: the automatic private key download, copy buttons and small
// conveniences. Every form works without this file; it only makes them quicker.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  // The create result: the private key downloads at once (the form answers with an
  // attachment, so the page stays). The button below it is the one "Download again".
  for (const form of document.querySelectorAll("form[data-auto-submit]")) {
    form.submit();
  }

  // Copy buttons: the text of the element they name.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = source.textContent.trim();
      const label = button.textContent;
      try {
        await navigator.clipboard.writeText(text);
      } catch (_) {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      button.textContent = button.dataset.copied || label;
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }

  // The project switch submits itself.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }

  // Select all rows.
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll('#keypairs tbody input[type="checkbox"]')) {
        box.checked = all.checked;
      }
    });
  }

  // Inline validation before submit (the server checks again).
  for (const form of document.querySelectorAll("form[data-validate]")) {
    const show = (field) => {
      const out = document.getElementById(field.id + "-error");
      if (!out || !field.dataset.msgMissing) return true;
      let msg = "";
      if (field.validity.valueMissing) msg = field.dataset.msgMissing;
      else if (!field.validity.valid) msg = field.dataset.msgInvalid;
      out.textContent = msg;
      field.closest(".field")?.classList.toggle("invalid", msg !== "");
      return msg === "";
    };
    const fields = form.querySelectorAll("input[data-msg-missing]");
    for (const field of fields) {
      field.addEventListener("input", () => show(field));
      field.addEventListener("blur", () => show(field));
    }
    form.addEventListener("submit", (event) => {
      let ok = true;
      for (const field of fields) ok = show(field) && ok;
      if (!ok) event.preventDefault();
    });
  }

  // Import: "load from file" fills the text area (at most 16 KiB).
  const file = document.getElementById("public_key_file");
  const area = document.getElementById("public_key");
  if (file && area) {
    file.addEventListener("change", async () => {
      const out = document.getElementById("key-error");
      const chosen = file.files[0];
      if (!chosen) return;
      if (chosen.size > Number(area.dataset.maxBytes)) {
        out.textContent = area.dataset.msgTooLarge;
        file.value = "";
        return;
      }
      out.textContent = "";
      area.value = await chosen.text();
    });
  }
});
