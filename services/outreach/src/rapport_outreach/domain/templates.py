"""Message templates: sandboxed Jinja2 with strict variables, rendered and validated here."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.runtime import new_context
from jinja2.sandbox import SandboxedEnvironment

from rapport_outreach.domain import sms
from rapport_outreach.domain.errors import SmsTooLong, TemplateInvalid

PARTS = ("subject", "text", "html", "sms")
EMAIL_PARTS = ("subject", "text", "html")


@dataclass(frozen=True)
class TemplateSource:
    subject: str
    text: str
    html: str
    sms: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str
    sms_length: sms.SmsLength


_MISSING = object()


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with a fast path for the plain dicts the message context is made of.

    ``invoice.number`` on a dict makes Jinja try the attribute first; Python raises AttributeError
    before the key is read, about 3 us per lookup and some 36 lookups per message. A key of a plain
    dict is exactly what the sandbox would return after that failure, so it is returned directly;
    anything else (a missing key, a method such as ``items``, other objects) takes the sandbox's own
    checked path.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            value = obj.get(attribute, _MISSING)
            if value is not _MISSING:
                return value
        return super().getattr(obj, attribute)


# Two sandboxes: HTML escapes every variable, plain text and SMS must not.
_TEXT_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_HTML_ENV = _Sandbox(undefined=StrictUndefined, autoescape=True)
# The environment's globals (range, dict, namespace, ...) merged into each message's variables once:
# Template.render copies them from a ChainMap for every part it renders.
_GLOBALS = dict(_TEXT_ENV.globals)


@lru_cache(maxsize=4096)
def _compile(part: str, source: str):  # noqa: ANN202 - a jinja2 Template
    env = _HTML_ENV if part == "html" else _TEXT_ENV
    return env.from_string(source)


def render(source: TemplateSource, context: dict[str, Any], parts: tuple[str, ...] = PARTS) -> Rendered:
    """Render the asked parts (all by default); raises TemplateInvalid naming the part and the problem."""
    out = dict.fromkeys(PARTS, "")
    scope = {**_GLOBALS, **context}
    out.update({part: _render_part(part, getattr(source, part), scope) for part in parts})
    # A header cannot span lines; non-breaking spaces inside amounts stay.
    out["subject"] = " ".join(out["subject"].replace("\t", " ").splitlines()).strip()
    out["sms"] = sms.smart_encode(out["sms"].strip()) if "sms" in parts else ""
    return Rendered(**out, sms_length=sms.measure(out["sms"]))


def _render_part(part: str, source: str, scope: dict[str, Any]) -> str:
    """What ``Template.render`` does, minus copying the variables: the context reads ``scope`` (shared,
    never written: ``{% set %}`` goes to the part's own context)."""
    try:
        template = _compile(part, source)
        context = new_context(template.environment, template.name, template.blocks, scope, True)
        return "".join(template.root_render_func(context))
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(f"syntax error on line {exc.lineno}: {exc.message}", field=part) from None
    except TemplateError as exc:
        raise TemplateInvalid(f"{type(exc).__name__}: {exc.message or exc}", field=part) from None
    except (TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        raise TemplateInvalid(f"{type(exc).__name__}: {exc}", field=part) from None


def validate(source: TemplateSource, samples: list[dict[str, Any]], max_sms_segments: int) -> Rendered:
    """Reject at save time what would fail at send time: every sample must render, SMS must fit."""
    rendered = None
    for context in samples:
        rendered = render(source, context)
        check_sms(rendered, max_sms_segments)
        if not rendered.subject:
            raise TemplateInvalid("renders to an empty subject", field="subject")
    assert rendered is not None, "validate needs at least one sample"
    return rendered


def check_sms(rendered: Rendered, max_segments: int) -> None:
    length = rendered.sms_length
    if length.segments > max_segments:
        raise SmsTooLong(
            f"{length.units} {length.encoding} units make {length.segments} segments; at most {max_segments} allowed",
            field="sms")
