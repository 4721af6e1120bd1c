"""Translatable core messages (``core/messages.py``), and a scan of ``core/``
that keeps every client- or admin-visible message translatable.

The calls below go through ``lt``, not ``_lt``: Odoo's translation export
reads every Python file of the addon, tests included, and would otherwise
put these test strings into ``i18n/secure_api.pot``.
"""

import ast
import builtins
import copy
import inspect
import json
import pathlib
import pickle
import re

import pytest

from core import exceptions, hygiene, messages, routing, webhooks
from core.domain import validate
from core.exceptions import BadRequest, InternalError, NotFound, render_error
from core.messages import Message, translate

lt = messages._lt
CORE = pathlib.Path(exceptions.__file__).parent
FRENCH = {
    "Field '%(field)s' takes text": "Le champ '%(field)s' prend du texte",
    "Item %(index)s: %(message)s": "Élément %(index)s : %(message)s",
    "Record not found": "Enregistrement introuvable",
    "%(subject)s %(problem)s": "%(subject)s %(problem)s",
    "A parameter": "Un paramètre",
    "holds a NUL character": "contient un caractère NUL",
}


def test_a_message_is_its_english_text_and_keeps_template_and_params():
    message = lt("Field '%(field)s' takes text", field="name")
    assert isinstance(message, str) and isinstance(message, Message)
    assert message == "Field 'name' takes text"
    assert str(message) == "Field 'name' takes text" and type(str(message)) is str
    assert message.template == "Field '%(field)s' takes text"
    assert message.params == {"field": "name"}
    # Without parameters the template is the text, a % sign included.
    assert lt("100% sure") == "100% sure"


def test_a_message_translates_through_any_gettext():
    message = lt("Field '%(field)s' takes text", field="name")
    assert message.translate(FRENCH.get) == "Le champ 'name' prend du texte"
    assert translate(message, FRENCH.get) == "Le champ 'name' prend du texte"
    # No translation: the English text; plain text passes through.
    assert message.translate({}.get) == "Field 'name' takes text"
    assert translate("plain text", FRENCH.get) == "plain text"
    # A translation that does not fit the parameters falls back to English.
    broken = {message.template: "Le champ %(champ)s"}
    assert message.translate(broken.get) == "Field 'name' takes text"
    # str.translate's own meaning (a character table) still works.
    assert message.translate({ord("'"): '"'}) == 'Field "name" takes text'


def test_messages_nested_as_parameters_are_translated_too():
    error = hygiene.check_json
    with pytest.raises(BadRequest) as caught:
        error({"key": "a\x00b"}, lt("A parameter"))
    message = caught.value.message
    assert message == "A parameter holds a NUL character"
    assert message.translate(FRENCH.get) == "Un paramètre contient un caractère NUL"


def test_a_message_survives_at_index():
    error = BadRequest(lt("Field '%(field)s' takes text", field="name")).at_index(2)
    assert error.message == "Item 2: Field 'name' takes text"
    assert isinstance(error.message, Message) and error.data["index"] == 2
    assert error.message.translate(FRENCH.get) == (
        "Élément 2 : Le champ 'name' prend du texte"
    )
    # An error holding a plain text (Odoo's, already translated) too.
    plain = BadRequest("Déjà traduit").at_index(0)
    assert plain.message == "Item 0: Déjà traduit"
    assert plain.message.translate(FRENCH.get) == "Élément 0 : Déjà traduit"


def test_a_message_serializes_as_plain_text():
    message = lt("Field '%(field)s' takes text", field="name")
    assert json.dumps(message) == "\"Field 'name' takes text\""
    assert json.dumps({"m": message}, ensure_ascii=False) == (
        '{"m": "Field \'name\' takes text"}'
    )
    status, _headers, body = render_error(BadRequest(message).at_index(1))
    assert status == 400
    text = exceptions.dumps(body)
    assert json.loads(text)["error"]["message"] == "Item 1: Field 'name' takes text"
    _status, _headers, body = render_error(NotFound())
    assert exceptions.dumps(body).count('"message":"Record not found"') == 1
    _status, _headers, body = render_error(InternalError(), request_id="abc")
    message = body["error"]["message"]
    assert message == "Internal server error (request id abc)"
    assert isinstance(message, Message)


def test_a_message_survives_copy_and_pickle():
    message = lt("Item %(index)s: %(message)s", index=1, message=lt("Bad request"))
    for clone in (copy.copy(message), copy.deepcopy(message)):
        assert clone == message and clone.template == message.template
    clone = pickle.loads(pickle.dumps(message))
    assert clone == "Item 1: Bad request" and clone.params["message"].template
    error = pickle.loads(pickle.dumps(BadRequest(message)))
    assert str(error) == "Item 1: Bad request"


def test_core_messages_are_messages():
    for klass in (exceptions.ApiError, *exceptions.ERROR_CLASSES):
        assert isinstance(klass.default_message, Message), klass
    for _error, _name, message in exceptions.FOREIGN_ERRORS.values():
        assert message in (None, ...) or isinstance(message, Message)
    assert isinstance(routing.check_route("Bad Route"), Message)
    assert isinstance(routing.check_route("oauth2/x"), Message)
    assert isinstance(webhooks.destination_problem("http://x", ["8.8.8.8"]), Message)
    assert isinstance(webhooks.destination_problem("https://x", []), Message)
    problem = webhooks.destination_problem("https://x", ["10.0.0.1"])
    assert problem == "the host resolves to a non-public address (10.0.0.1)"
    assert isinstance(problem, Message)
    assert isinstance(hygiene.value_problem(float("inf")), Message)
    with pytest.raises(BadRequest) as caught:
        validate(
            [["name", "<", True]], {"name": {"name": "name", "type": "char"}}, None, "m"
        )
    assert caught.value.message == "Field 'name' takes text values"
    assert caught.value.message.template == "Field '%(field)s' takes text values"


# ----------------------------------------------------------------------
# The scan of core/: no literal message outside _lt
# ----------------------------------------------------------------------

# Programming errors no client or administrator reads (turned into a generic
# 500 or caught and replaced by the caller): (file, text).
INTERNAL = {
    ("hashid.py", "an obfuscating codec needs a secret salt"),
    ("hashid.py", "record ids are integers"),
    ("sync.py", "a derived key needs a server secret"),
    ("tokens.py", "unsupported JWT algorithm"),
    ("webhooks.py", "no event"),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _message_positions():
    """Exception class name -> (position, keyword) of its message argument."""
    positions = {}
    for name, klass in vars(exceptions).items():
        if isinstance(klass, type) and issubclass(klass, exceptions.ApiError):
            params = list(inspect.signature(klass.__init__).parameters)[1:]
            if "message" in params:
                positions[name] = (params.index("message"), "message")
    for name, klass in vars(builtins).items():
        if isinstance(klass, type) and issubclass(klass, BaseException):
            positions[name] = (0, None)
    return positions


def _callee(call):
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _is_lt(node):
    return isinstance(node, ast.Call) and _callee(node) == "_lt"


def _literals(node, translators=("_lt",)):
    """String literals and f-strings in ``node``, outside ``_lt`` calls
    (or those of ``translators``)."""
    if isinstance(node, ast.Call) and _callee(node) in translators:
        return
    if isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    ):
        yield node
        return
    for child in ast.iter_child_nodes(node):
        yield from _literals(child, translators)


def _message_args(call, positions):
    position, keyword = positions[_callee(call)]
    if len(call.args) > position:
        yield call.args[position]
    yield from (kw.value for kw in call.keywords if keyword and kw.arg == keyword)


def _sinks(tree, positions):
    """Functions of a module that pass a parameter as an exception's message
    (``_invalid(message)``, ``refuse(message)``): name -> positions."""
    sinks = {}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        params = [arg.arg for arg in function.args.args]
        for call in ast.walk(function):
            if isinstance(call, ast.Call) and _callee(call) in positions:
                for arg in _message_args(call, positions):
                    if isinstance(arg, ast.Name) and arg.id in params:
                        sinks[function.name] = (params.index(arg.id), arg.id)
    return sinks


def _core_files():
    files = sorted(path for path in CORE.glob("*.py") if path.name != "messages.py")
    assert len(files) > 10
    return files


def _untranslatable(path, positions, translators=("_lt",)):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    known = {**positions, **_sinks(tree, positions)}
    found = []
    for node in ast.walk(tree):
        args = []
        if isinstance(node, ast.Call) and _callee(node) in known:
            args = list(_message_args(node, known))
        elif (
            isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and _callee(node.exc) not in known
        ):
            # raise helper(...): whatever text it is given is its message.
            args = list(node.exc.args)
        elif isinstance(node, ast.Assign) and any(
            getattr(target, "id", None) == "default_message" for target in node.targets
        ):
            args = [node.value]
        for arg in args:
            for literal in _literals(arg, translators):
                text = ast.unparse(literal)
                value = literal.value if isinstance(literal, ast.Constant) else text
                if (path.name, value) not in INTERNAL:
                    found.append(f"{path.name}:{literal.lineno}: {text}")
    return found


def test_no_literal_message_remains_in_core():
    positions = _message_positions()
    assert positions["BadRequest"] == (0, "message")
    assert positions["OAuthError"] == (1, "message")
    assert positions["ValueError"] == (0, None)
    found = []
    for path in _core_files():
        found += _untranslatable(path, positions)
    assert not found, "write these messages as _lt(...):\n" + "\n".join(found)


def test_the_scan_finds_what_it_must(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "def refuse(message):\n"
        "    raise BadRequest(message, name='x')\n"
        "def check(value):\n"
        "    refuse('takes text')\n"
        "    raise BadRequest(f'Field {value} is bad', name='invalid')\n"
        "    raise OAuthError('invalid_scope', 'Unknown scope')\n"
        "    raise ValueError('bad' if value else _lt('ok'))\n"
        "    raise BadRequest(_lt('Field %(f)s', f=value), name='fine')\n"
        "class E(ApiError):\n"
        "    default_message = 'Oops'\n",
        encoding="utf-8",
    )
    found = _untranslatable(source, _message_positions())
    assert sorted(line.split(": ", 1)[1] for line in found) == sorted(
        [
            "'takes text'",
            "f'Field {value} is bad'",
            "'Unknown scope'",
            "'bad'",
            "'Oops'",
        ]
    )


def test_every_template_is_a_constant_with_its_parameters():
    count = 0
    for path in _core_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not _is_lt(node):
                continue
            where = f"{path.name}:{node.lineno}"
            assert len(node.args) == 1, where
            template = node.args[0]
            # Odoo's export (Babel) only extracts a literal first argument.
            assert isinstance(template, ast.Constant), where
            assert isinstance(template.value, str), where
            names = {kw.arg for kw in node.keywords}
            assert None not in names, where
            assert set(PLACEHOLDER.findall(template.value)) == names, where
            if names:
                template.value % dict.fromkeys(names, "x")
            count += 1
    assert count > 100


@pytest.mark.parametrize(
    ("code", "tag"),
    [
        ("en_US", "en-US"),
        ("sr@latin", "sr-Latn"),
        ("sr@Cyrl", "sr-Cyrl"),
        ("es_419", "es-419"),
        ("ar_001", "ar-001"),
        ("sw", "sw"),
        (None, "en-US"),
    ],
)
def test_html_lang_is_bcp_47(code, tag):
    assert messages.html_lang(code) == tag


ODOO_LAYER = ("models", "controllers", "wizards")
ODOO_ERRORS = ("UserError", "ValidationError", "AccessError", "MissingError")


def _odoo_layer_positions():
    """The API's errors and Odoo's user-facing ones; builtins there are
    internal (never shown as such)."""
    positions = {
        name: position
        for name, position in _message_positions().items()
        if name not in vars(builtins)
    }
    positions.update(dict.fromkeys(ODOO_ERRORS, (0, None)))
    for name, klass in vars(exceptions).items():
        if isinstance(klass, type) and issubclass(klass, exceptions.ApiError):
            # Errors that make their own message (InsufficientScope("create")).
            positions.setdefault(name, (len(ODOO_LAYER) * 100, None))
    return positions


def test_no_literal_message_remains_in_the_odoo_layer():
    """``Accept-Language`` translates what the models raise too: each
    message there is ``_lt(...)`` (an API error) or ``_(...)`` (Odoo's)."""
    positions = _odoo_layer_positions()
    found = []
    for folder in ODOO_LAYER:
        for path in sorted((CORE.parent / folder).glob("*.py")):
            found += [
                f"{folder}/{line}"
                for line in _untranslatable(path, positions, translators=("_lt", "_"))
            ]
    assert not found, "write these messages as _lt(...) or _(...):\n" + "\n".join(found)
