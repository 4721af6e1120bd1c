"""Translatable messages, without a translation framework.

``core`` never imports Odoo, yet what it tells a client or an administrator
must be translatable. Every such text is written ``_lt(template, **params)``:

- the result is a :class:`Message`, a ``str`` holding the English text, so
  logs, comparisons, JSON bodies and everything else that reads it as text
  see exactly what they saw before;
- it also keeps the constant ``template`` and its ``params``, so the Odoo
  layer translates the template into the reader's language and formats it
  again (``i18n_messages.translate``).

Odoo's translation export reads the ``_lt("...")`` calls of every Python file
of the addon, ``core/`` included, into ``i18n/secure_api.pot``; the templates
use Odoo's ``%(name)s`` placeholders, like the addon's own ``_()`` strings.
A parameter that is itself a :class:`Message` is translated with it.
"""


def _format(template, params):
    return template % params if params else template


class Message(str):
    """English text that remembers its template and parameters."""

    def __new__(cls, template, params=None):
        params = dict(params or {})
        message = super().__new__(cls, _format(template, params))
        message.template = template
        message.params = params
        return message

    def __getnewargs__(self):
        # copy and pickle rebuild it from the template, not from the text.
        return (self.template, self.params)

    def translate(self, gettext):
        """The text in another language, as a plain ``str``.

        ``gettext(source)`` returns the translation of a template, or a false
        value when there is none. Parameters that are messages are translated
        too; a translation that does not fit the parameters falls back to the
        English text.

        Given a character table instead (``str.translate``'s argument),
        it does what ``str.translate`` does.
        """
        if not callable(gettext):
            return str.translate(self, gettext)
        translation = gettext(self.template) or self.template
        params = {
            key: value.translate(gettext) if isinstance(value, Message) else value
            for key, value in self.params.items()
        }
        try:
            return _format(translation, params)
        except (TypeError, ValueError, KeyError):
            return _format(self.template, params)


def _lt(template, **params):
    """A translatable message: ``template`` (a constant, ``%(name)s``
    placeholders) formatted with ``params``."""
    return Message(template, params)


def translate(text, gettext):
    """``text`` translated through ``gettext`` when it is a :class:`Message`;
    any other text is returned as it is."""
    return text.translate(gettext) if isinstance(text, Message) else text


def negotiate_language(header, installed):
    """The code (``fr_BE``) among ``installed`` that an ``Accept-Language``
    header prefers, or ``None``: an exact language-region match first, else
    the first installed language of the same language. ``q=0`` refuses."""
    if not header or len(header) > 512:
        return None
    by_language = {}
    for code in installed:
        by_language.setdefault(code.split("_")[0].lower(), code)
    exact = {code.lower().replace("_", "-"): code for code in installed}
    ranges = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params:
            name, _sep, value = params.strip().partition("=")
            if name.strip() != "q":
                return None
            try:
                quality = float(value)
            except ValueError:
                return None
        if tag and quality > 0:
            ranges.append((-quality, position, tag.strip().lower()))
    for _quality, _position, tag in sorted(ranges):
        if tag in exact:
            return exact[tag]
        if tag.split("-")[0] in by_language:
            return by_language[tag.split("-")[0]]
    return None


# Odoo's script variants (``sr@latin``) as BCP 47 script subtags.
_SCRIPTS = {"latin": "Latn", "cyrl": "Cyrl"}


def html_lang(code):
    """The BCP 47 tag (``en-US``, ``sr-Latn``) of an Odoo language code
    (``en_US``, ``sr@latin``), for the ``lang`` attribute of a page."""
    language, _at, script = (code or "en_US").partition("@")
    words = language.split("_")
    tag = [words[0].lower()]
    if script.lower() in _SCRIPTS:
        tag.append(_SCRIPTS[script.lower()])
    tag.extend(words[1:])
    return "-".join(tag)
