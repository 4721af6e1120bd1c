/* "Try it" on the documentation page: runs a GET with the session cookie of
 * the signed-in user (same origin) and shows the JSON answer. */
(function () {
    "use strict";
    for (const form of document.querySelectorAll("form.o_secure_api_try")) {
        form.addEventListener("submit", async (event) => {
            event.preventDefault();
            const output = form.querySelector(".o_secure_api_result");
            const path = form.querySelector("input[name=path]").value;
            if (!path.startsWith("/api/")) {
                output.textContent = "Paths start with /api/";
                return;
            }
            try {
                const response = await fetch(path, {credentials: "same-origin"});
                const text = await response.text();
                let shown = text;
                try {
                    shown = JSON.stringify(JSON.parse(text), null, 2);
                } catch {
                    // not JSON: show it as it is
                }
                output.textContent = `HTTP ${response.status}\n${shown}`;
            } catch (error) {
                output.textContent = String(error);
            }
        });
    }
})();
