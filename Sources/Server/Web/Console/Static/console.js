// Custody console: no inline script (the CSP forbids it). The pages work without it; it adds
// hiding a revealed password, copying it, the password generator, confirmations, and
// refreshing a running task's page.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll(".filters select")) {
    select.addEventListener("change", () => select.form.submit());
  }
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  for (const button of document.querySelectorAll("[data-confirm]")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
  const secret = document.getElementById("password") || document.querySelector("code.candidate");
  if (secret) {
    const seconds = Number(secret.dataset.hideAfter) || 10;
    setTimeout(() => {
      secret.textContent = "••••••••";
      secret.classList.add("hidden-secret");
      const copy = document.getElementById("copy-password");
      if (copy) copy.remove();
      const note = document.getElementById("hide-note");
      if (note) note.textContent = "Hidden. Show it again from the account page.";
      for (const c of document.querySelectorAll("code.candidate")) {
        c.textContent = "••••••••";
        c.classList.add("hidden-secret");
      }
    }, seconds * 1000);
    const copy = document.getElementById("copy-password");
    if (copy && navigator.clipboard) {
      const value = secret.textContent;
      copy.addEventListener("click", async () => {
        await navigator.clipboard.writeText(value);
        copy.textContent = "Copied (cleared in 30 s)";
        // Clear the clipboard after 30 s where the browser allows it (the page must still have focus).
        setTimeout(() => { navigator.clipboard.writeText("").catch(() => {}); }, 30000);
      });
    }
  }
  const generate = document.getElementById("generate");
  const field = document.getElementById("newPassword");
  if (generate && field) {
    generate.addEventListener("click", async () => {
      try {
        const answer = await fetch(generate.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        const type = answer.headers.get("Content-Type") || "";
        // A lapsed session answers with the sign-in page, not JSON.
        if (!answer.ok || answer.redirected || !type.startsWith("application/json")) throw new Error("no password");
        field.value = (await answer.json()).password;
        field.type = "text";
      } catch (e) {
        generate.textContent = "Generate (failed: reload the page)";
      }
    });
  }
  const refresh = document.getElementById("refresh");
  if (refresh) setTimeout(() => location.reload(), (Number(refresh.dataset.seconds) || 2) * 1000);
});

// Times: read as "3 minutes ago" in the viewer's language, the exact local and UTC time on hover.
document.addEventListener("DOMContentLoaded", () => {
  const rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
  const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  for (const t of document.querySelectorAll("time[datetime]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (isNaN(d.getTime())) continue;
    t.title = d.toLocaleString() + " (" + d.toISOString().replace(".000Z", "Z") + ")";
    if (!rtf) { t.textContent = d.toLocaleString(); continue; }
    const seconds = (d.getTime() - Date.now()) / 1000;
    const [unit, size] = units.find(([, s]) => Math.abs(seconds) >= s) || ["second", 1];
    t.textContent = rtf.format(Math.round(seconds / size), unit);
  }
});
