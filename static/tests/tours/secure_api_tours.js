/** @odoo-module **/
/* Tours that configure an API and a client app through the forms, as an
 * admin would. They use the standard web_tour step format; where web_tour is
 * not installed, secureApiRunTour() below replays the same steps. */
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
        {trigger: ".o_list_button_add", run: "click"},
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

/** Minimal replay of web_tour steps: waits for each trigger, then runs it. */
function find(trigger) {
    for (const alternative of trigger.split(/,\s*(?![^()]*\))/)) {
        const match = alternative.match(/^(.*):contains\((.*)\)$/);
        const selector = match ? match[1] : alternative;
        const text = match ? match[2] : null;
        for (const el of document.querySelectorAll(selector)) {
            const visible = el.offsetParent !== null || el.tagName === "BODY";
            if (visible && (text === null || el.textContent.includes(text))) {
                return el;
            }
        }
    }
    return null;
}

async function waitFor(trigger, timeout = 15000) {
    const start = Date.now();
    while (Date.now() - start < timeout) {
        const el = find(trigger);
        if (el) {
            return el;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`tour step not found: ${trigger}`);
}

window.secureApiRunTour = async function (name) {
    const tour = tours.get(name);
    try {
        for (const step of tour.steps()) {
            const el = await waitFor(step.trigger);
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
            await new Promise((resolve) => setTimeout(resolve, 150));
        }
        console.log("test successful");
    } catch (error) {
        console.error(`tour ${name} failed: ${error.message}`);
    }
};
