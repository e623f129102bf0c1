// Lianxin admin console: small enhancements of its server-rendered pages (our own script,
// no third-party code). Expand / collapse the trees; a picked file fills the import box.
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // ---- Trees: expand or collapse every group. ----------------------------------------
  $$("button[data-tree]").forEach((b) => b.addEventListener("click", () => {
    const open = b.dataset.tree === "open";
    $$("#tree details").forEach((d) => { d.open = open; });
  }));

  // ---- Import: the picked file's text goes into the textarea (nothing is uploaded until
  // Preview or Apply is pressed). ----------------------------------------------------------
  const file = $("#import-file");
  const content = $("#import-content");
  const format = $("#import-format");
  if (file && content) {
    file.addEventListener("change", () => {
      const f = file.files && file.files[0];
      if (!f) return;
      const reader = new FileReader();
      reader.onload = () => {
        content.value = String(reader.result || "").replace(/^\uFEFF/, "");
        if (format) {
          if (/\.json$/i.test(f.name)) format.value = "json";
          else if (/\.csv$/i.test(f.name)) format.value = "csv";
        }
        content.focus();
      };
      reader.readAsText(f, "utf-8");
    });
  }

  // The columns of the chosen kind.
  const kind = $("#import-kind");
  const cols = $("#import-columns-list");
  if (kind && cols) {
    kind.addEventListener("change", () => {
      const o = kind.selectedOptions[0];
      cols.textContent = o ? o.dataset.columns || "" : "";
      if (content) content.placeholder = cols.textContent;
    });
    if (content && cols.textContent) content.placeholder = cols.textContent;
  }
})();
