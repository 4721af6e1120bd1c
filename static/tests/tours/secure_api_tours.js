/** @odoo-module **/
/* Tours that configure an API and a client app through the forms, as an
 * admin would, and run its wizards. They use the standard web_tour step
 * format; where web_tour is not installed, secureApiRunTour() below replays
 * the same steps.
 *
 * secureApiCheckViews() and secureApiVisitTabs() serve the data-driven checks
 * of tests/test_ui.py (every view of every menu's action, every tab of a
 * form): they fail the browser test (console.error) on an error dialog. */
import {registry} from "@web/core/registry";

const tours = registry.category("web_tour.tours");

/**
 * A step that types ``value``: 17.0's web_tour names the helper ``text``,
 * 18.0 and 19.0 name it ``edit``; the helpers come as the argument (or as
 * ``this``), and the replay below passes its own.
 */
function edit(value) {
    return function (helpers) {
        const actions = helpers || this;
        return actions.edit ? actions.edit(value) : actions.text(value);
    };
}

tours.add("secure_api_tour_api", {
    url: "/odoo/action-secure_api.secure_api_action",
    steps: () => [
        // The action opens on the dashboard (kanban).
        {trigger: ".o_kanban_view .o-kanban-button-new, .o_list_button_add", run: "click"},
        {trigger: ".o_field_widget[name=name] input", run: edit("Tour API")},
        {trigger: ".o_field_widget[name=route] input", run: edit("tour/partners")},
        {trigger: ".o_field_widget[name=model_id] input", run: edit("res.partner")},
        {trigger: ".o-autocomplete--dropdown-item a:contains(Contact)", run: "click"},
        {trigger: ".o_form_button_save", run: "click"},
        {trigger: ".o_form_saved", run: () => null},
        {trigger: ".o_field_widget[name=field_ids] .o_field_x2many_list_row_add a", run: "click"},
        {trigger: ".o_field_widget[name=field_ids] .o_selected_row .o_field_widget[name=field_id] input", run: edit("Email")},
        {trigger: ".o-autocomplete--dropdown-item a:contains(Email)", run: "click"},
        {trigger: ".o_form_button_save", run: "click"},
        {trigger: ".o_form_saved", run: () => null},
        {trigger: "button[name=action_publish]", run: "click"},
        // Publishing asks for a confirmation.
        {trigger: ".modal-footer .btn-primary", run: "click"},
        {trigger: ".o_statusbar_status .o_arrow_button_current:contains(Active)", run: () => null},
    ],
});

tours.add("secure_api_tour_client", {
    url: "/odoo/action-secure_api.secure_api_client_action",
    steps: () => [
        {trigger: ".o_list_button_add", run: "click"},
        {trigger: ".o_field_widget[name=name] input", run: edit("Tour App")},
        {trigger: ".o_field_widget[name=user_id] input", run: edit("API Runner")},
        {trigger: ".o-autocomplete--dropdown-item a:contains(API Runner)", run: "click"},
        {trigger: ".o_form_button_save", run: "click"},
        {trigger: ".o_form_saved", run: () => null},
        {trigger: "button[name=action_generate_secret]", run: "click"},
        {trigger: ".modal .o_field_widget[name=client_secret]:contains(-), .modal .o_field_widget[name=client_secret] span", run: () => null},
        {trigger: ".modal-footer button.btn-primary", run: "click"},
        {trigger: "body:not(:has(.modal))", run: () => null},
    ],
});

/* The live-test and export wizards, from the form of an active API. */
tours.add("secure_api_tour_wizards", {
    url: "/odoo/action-secure_api.secure_api_action",
    steps: () => [
        {trigger: ".o_form_view button[name=action_open_test]", run: "click"},
        {trigger: ".modal .o_field_widget[name=endpoint_id] input", run: () => null},
        {trigger: ".modal-footer button[name=action_run]", run: "click"},
        // The answer of the real engine, shown in the same dialog.
        {trigger: ".modal .o_field_widget[name=response_status]:contains(200)", run: () => null},
        {trigger: ".modal .o_field_widget[name=response_body]:contains(result)", run: () => null},
        {trigger: ".modal-footer button.btn-secondary", run: "click"},
        {trigger: "body:not(:has(.modal))", run: () => null},
        {trigger: ".o_form_view button[name=action_open_export]", run: "click"},
        {trigger: ".modal .o_field_widget[name=export_format] input[data-value=postman]", run: "click"},
        {trigger: ".modal .o_field_widget[name=file_type] input[data-value=json]", run: "click"},
        // The browser test denies downloads: the file request is made, the
        // page stays.
        {trigger: ".modal-footer button[name=action_export]", run: "click"},
        {
            trigger: ".modal-footer button.btn-secondary",
            // The download blocks the page for a moment, and a click on a
            // blocked page is lost: close the dialog once the page takes it.
            run: async () => {
                for (let tries = 0; tries < 100 && document.querySelector(".modal"); tries++) {
                    const cancel = document.querySelector(".modal-footer button.btn-secondary");
                    if (cancel && !document.querySelector(".o_blockUI")) {
                        cancel.click();
                    }
                    await new Promise((resolve) => setTimeout(resolve, 200));
                }
            },
        },
        {trigger: "body:not(:has(.modal))", run: () => null},
    ],
});

/** The text of an error dialog shown in ``doc``, or null. */
function errorDialog(doc = document) {
    const dialog = doc.querySelector(".o_error_dialog");
    if (dialog) {
        return dialog.textContent.trim();
    }
    for (const title of doc.querySelectorAll(".o_dialog .modal-title")) {
        if (/Odoo (Server |Client |Network )?Error|Client Error/.test(title.textContent)) {
            return title.closest(".modal-content").textContent.trim();
        }
    }
    return null;
}

function failOnErrorDialog(where, doc = document) {
    const error = errorDialog(doc);
    if (error) {
        throw new Error(`error dialog ${where}: ${error.slice(0, 500)}`);
    }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Minimal replay of web_tour steps: waits for each trigger, then runs it. */
function find(trigger, doc = document) {
    for (const alternative of trigger.split(/,\s*(?![^()]*\))/)) {
        const match = alternative.match(/^(.*):contains\((.*)\)$/);
        const selector = match ? match[1] : alternative;
        const text = match ? match[2] : null;
        for (const el of doc.querySelectorAll(selector)) {
            const visible = el.offsetParent !== null || el.tagName === "BODY";
            if (visible && (text === null || el.textContent.includes(text))) {
                return el;
            }
        }
    }
    return null;
}

async function waitFor(trigger, {timeout = 15000, checkErrors = false, doc = document} = {}) {
    const start = Date.now();
    while (Date.now() - start < timeout) {
        if (checkErrors) {
            failOnErrorDialog(`while waiting for ${trigger}`, doc);
        }
        const el = find(trigger, doc);
        if (el) {
            return el;
        }
        await sleep(100);
    }
    throw new Error(`not found: ${trigger}`);
}

/* What a rendered view of each type shows, with data or without. */
const RENDERED = {
    list: ".o_list_renderer",
    kanban: ".o_kanban_renderer",
    form: ".o_form_renderer, .o_form_view .o_setting_container, .o_form_view .settings",
    graph: ".o_graph_renderer canvas, .o_graph_view .o_view_nocontent",
    pivot: ".o_pivot table, .o_pivot_view .o_view_nocontent",
};

/**
 * Opens ``url`` in the running web client as the browser's back and forward
 * buttons do: the web client loads the action of the URL, without reloading
 * the page (one browser session for every URL: fast). 17.0's URLs differ by
 * their hash (``/web#action=...``), later ones by their path (``/odoo/...``).
 */
function goTo(url) {
    const target = new URL(url, window.location.href);
    if (target.pathname === window.location.pathname && target.search === window.location.search) {
        window.location.hash = target.hash; // hashchange: 17.0's router
    } else {
        window.history.pushState({}, "", target.href);
        window.dispatchEvent(new PopStateEvent("popstate", {state: {}}));
    }
}

/** Resolves once a new view of ``viewType`` is rendered in place of the
 * ``previous`` controller; throws on an error dialog or when none comes. */
async function checkView(viewType, previous) {
    const type = viewType === "tree" ? "list" : viewType;
    const options = {timeout: 20000, checkErrors: true};
    const controller = await waitFor(
        `.o_action_manager .o_view_controller.o_${type}_view:not([data-secure-api-seen])`,
        options
    );
    if (controller === previous) {
        throw new Error("the previous view is still shown");
    }
    await waitFor(RENDERED[type] || `.o_${type}_view`, options);
    // Let late renderings (charts, lazy fields, the search panel) finish.
    await sleep(500);
    failOnErrorDialog(`in the ${type} view`);
    return controller;
}

/**
 * Opens each ``[url, viewType]`` in turn and checks its view. A console
 * error fails the browser test at once (the log names the URL just opened);
 * error dialogs and views that never render are reported with their URL.
 */
window.secureApiCheckViews = async function (targets) {
    const failures = [];
    let previous = document.querySelector(".o_action_manager .o_view_controller");
    for (const [url, viewType] of targets) {
        console.log(`secure_api: opening ${url}`);
        if (previous) {
            previous.dataset.secureApiSeen = "1";
        }
        try {
            goTo(url);
            previous = await checkView(viewType, previous);
        } catch (error) {
            failures.push(`${url}: ${error.message}`);
            // Start the next one from a clean page.
            for (const button of document.querySelectorAll(".o_error_dialog .btn-primary")) {
                button.click();
            }
            previous = document.querySelector(".o_action_manager .o_view_controller");
        }
    }
    if (failures.length) {
        console.error(`views that failed:\n${failures.join("\n")}`);
    } else {
        console.log("test successful");
    }
};

/** Opens each named tab of the form's notebook in turn. */
window.secureApiVisitTabs = async function (names) {
    try {
        const options = {timeout: 20000, checkErrors: true};
        await waitFor(".o_form_view .o_notebook", options);
        for (const name of names) {
            const link = await waitFor(`.o_notebook .nav-link[name=${name}]`, options);
            link.click();
            await waitFor(`.o_notebook .nav-link.active[name=${name}]`, options);
            await sleep(300);
            failOnErrorDialog(`on the ${name} tab`);
        }
        console.log("test successful");
    } catch (error) {
        console.error(`form tabs: ${error.message}`);
    }
};

window.secureApiRunTour = async function (name) {
    const tour = tours.get(name);
    try {
        for (const step of tour.steps()) {
            const el = await waitFor(step.trigger, {checkErrors: true});
            const type = (value) => {
                el.focus();
                el.value = value;
                el.dispatchEvent(new Event("input", {bubbles: true}));
                el.dispatchEvent(new Event("change", {bubbles: true}));
            };
            if (step.run === "click") {
                el.click();
            } else if (typeof step.run === "function") {
                await step.run({edit: type, text: type, click: () => el.click()});
            }
            await sleep(150);
        }
        failOnErrorDialog("at the end");
        console.log("test successful");
    } catch (error) {
        console.error(`tour ${name} failed: ${error.message}`);
    }
};

/* "API access to this record": from a record's form, the Action menu opens
 * the access-log rows of the requests that touched it. */
tours.add("secure_api_tour_log_for_record", {
    url: "/odoo/action-base.action_country",
    steps: () => [
        {trigger: ".o_form_view .o_cp_action_menus button, .o_form_view .o_cp_action_menus .dropdown-toggle, .o_control_panel .o_cp_action_menus .dropdown-toggle", run: "click"},
        {trigger: ".o-dropdown--menu .dropdown-item:contains(API access to this record), .dropdown-menu .dropdown-item:contains(API access to this record), .o_menu_item:contains(API access to this record)", run: "click"},
        {trigger: ".o_list_view .o_data_row", run: () => null},
    ],
});
