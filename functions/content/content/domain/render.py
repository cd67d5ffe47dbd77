"""Co-brand templates: the placeholders a kit template may use, and rendering one partner's values into the vendor's
HTML with every value escaped for where it lands (text, attribute, email subject, plain text for the PDF).

The vendor's markup is trusted but sanitised anyway, in the same pass that fills it: scripts, frames, objects and
other active elements are dropped with their content, `on*` event attributes and `javascript:`/`vbscript:`/non-image
`data:` URLs are removed, CSS with `expression(` or script URLs is dropped. A placeholder inside a URL attribute is
checked after it is filled, so a partner value can never become a script URL either. `{{partner.logo}}` becomes an
<img> the renderer builds (a data: URI of the sanitised logo) and is only allowed between tags.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

from shared.errors import FieldError, ValidationFailed
from shared.text import for_display, header_safe

MAX_TEMPLATE_BYTES = 100 * 1024
PLACEHOLDERS = (
    "name",
    "logo",
    "website",
    "contact_name",
    "contact_email",
    "phone",
    "address",
)
ALLOWED = tuple(f"partner.{name}" for name in PLACEHOLDERS)
_TOKEN = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_LOGO = "partner.logo"

# Elements dropped with everything inside them (active content, or a way to load some).
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "iframe",
        "frame",
        "frameset",
        "noframes",
        "object",
        "embed",
        "applet",
        "noscript",
        "noembed",
        "template",
        "xml",
        "xmp",
        "plaintext",
        "svg",  # foreign content parses <style> as markup in browsers (mutation XSS): no inline SVG or MathML
        "math",
    }
)
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "frame", "hr", "img", "input", "link", "meta", "param", "source", "wbr"}
)
# Elements dropped, their content kept (they change where links go or reload the page).
DROPPED_TAGS = frozenset({"base", "form", "input", "button", "textarea", "select", "option", "link", "portal"})
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "background",
        "poster",
        "cite",
        "longdesc",
        "usemap",
        "data",
        "codebase",
        "xlink:href",
        "dynsrc",
        "lowsrc",
        "manifest",
        "ping",
    }
)
DROPPED_ATTRIBUTES = frozenset({"srcdoc", "srcset", "http-equiv", "formaction"})
_SAFE_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[a-z0-9+/=]*$")
_UNSAFE_CSS = ("expression(", "javascript:", "vbscript:", "behavior:", "-moz-binding", "@import", "url(", "<", "\\")
_SAFE_CSS_URL = re.compile(r"""url\((["']?)(#[a-z0-9_-]+|https://[^\s"'()<>\\]+)\1\)""")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]")


@dataclass(frozen=True)
class LogoImage:
    """A partner's sanitised logo (PNG or SVG bytes, already checked by domain.logo)."""

    content_type: str
    data: bytes

    def data_uri(self) -> str:
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class PartnerValues:
    """What fills a template: the partner's brand profile as plain text (escaping is the renderer's job)."""

    name: str
    website: str = ""
    contact_name: str = ""
    contact_email: str = ""
    phone: str = ""
    address: Sequence[str] = field(default_factory=tuple)  # one line each
    logo: LogoImage | None = None

    def text(self, placeholder: str) -> str:
        """The plain-text value of one placeholder (a website only if it is an http(s) URL)."""
        name = placeholder.removeprefix("partner.")
        if placeholder not in ALLOWED:  # never met: templates are checked when saved
            return ""
        if name == "address":
            return ", ".join(line for line in self.address if line)
        if name == "logo":
            return self.name
        if name == "website":
            return self.website if _is_web_url(self.website) else ""
        return str(getattr(self, name))


def _is_web_url(value: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s\"'<>`]+", value, flags=re.IGNORECASE))


# ------------------------------------------------------------------ checks (kit create/patch)
def placeholders_in(text: str) -> list[str]:
    """The placeholder names a text uses, in order (`{{ partner.name }}` -> `partner.name`)."""
    return [token.strip() for token in _TOKEN.findall(text)]


def _placeholder_problem(text: str, *, allow_logo: bool) -> str | None:
    for name in placeholders_in(text):
        if name not in ALLOWED:
            return f"unknown placeholder {{{{{name}}}}}; use one of " + ", ".join(f"{{{{{a}}}}}" for a in ALLOWED)
        if name == _LOGO and not allow_logo:
            return "{{partner.logo}} is an image: it cannot be used here"
    rest = _TOKEN.sub("", text)
    if "{{" in rest or "}}" in rest:
        return "a placeholder is not closed: write it as {{partner.name}}"
    return None


def template_problems(html: str, subject: str | None, pdf_texts: Iterable[tuple[str, str]] = ()) -> list[FieldError]:
    """Every problem of a kit template, each naming its field (`template.html`, `template.subject`, `template.pdf.*`)."""
    problems: list[FieldError] = []
    if len(html.encode("utf-8")) > MAX_TEMPLATE_BYTES:
        problems.append(FieldError("template.html", f"must be at most {MAX_TEMPLATE_BYTES // 1024} KB"))
    elif problem := _placeholder_problem(html, allow_logo=True):
        problems.append(FieldError("template.html", problem))
    else:
        problems.extend(FieldError("template.html", message) for message in _Renderer.check(html))
    if subject is not None and (problem := _placeholder_problem(subject, allow_logo=False)):
        problems.append(FieldError("template.subject", problem))
    for field_name, text in pdf_texts:
        if problem := _placeholder_problem(text, allow_logo=False):
            problems.append(FieldError(field_name, problem))
    return problems


def check_template(html: str, subject: str | None, pdf_texts: Iterable[tuple[str, str]] = ()) -> None:
    """Raise ValidationFailed naming each field of the template with a problem."""
    if problems := template_problems(html, subject, pdf_texts):
        raise ValidationFailed("The kit template is not valid.", problems)


# ------------------------------------------------------------------ rendering
def render_html(html: str, values: PartnerValues) -> str:
    """The vendor's HTML, sanitised, with each placeholder filled by the partner's escaped value."""
    check_template(html, None)
    return _Renderer.render(html, values)


def render_subject(subject: str, values: PartnerValues) -> str:
    """An email subject line: placeholders filled, then made a safe one-line header."""
    filled = _TOKEN.sub(lambda match: values.text(match.group(1).strip()), subject)
    return header_safe(filled)


def render_text(text: str, values: PartnerValues) -> str:
    """Plain text (the PDF's headline and body): placeholders filled, controls other than line feeds removed."""
    return for_display(_TOKEN.sub(lambda match: values.text(match.group(1).strip()), text))


def _fill_text(text: str, values: PartnerValues) -> str:
    """Text between tags: every value escaped; the logo an <img> of its data: URI; the address one line each."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name == _LOGO:
            if values.logo is None:
                return ""
            alt = escape(values.name, quote=True)
            return f'<img src="{values.logo.data_uri()}" alt="{alt}" class="partner-logo">'
        if name == "partner.address":
            return "<br>".join(escape(line, quote=True) for line in values.address if line)
        return escape(values.text(name), quote=True)

    return _TOKEN.sub(fill, escape(text, quote=False))


def _fill_attribute(value: str, values: PartnerValues) -> str:
    return _TOKEN.sub(lambda match: values.text(match.group(1).strip()), value)


def _safe_url(name: str, value: str) -> bool:
    """Whether a URL attribute's value may stay: no script schemes; data: only as an image's src."""
    compact = _INVISIBLE.sub("", value).lower()
    compact = re.sub(r"&(tab|newline|colon);?", lambda m: ":" if m.group(1) == "colon" else "", compact)
    scheme = compact.split(":", 1)[0] if ":" in compact else ""
    if scheme in ("javascript", "vbscript", "livescript", "mocha", "file"):
        return False
    if scheme == "data":
        return name == "src" and bool(_SAFE_DATA_IMAGE.match(compact))
    return True


def _safe_css(value: str) -> bool:
    """CSS with no script, no markup, no escapes and no URL other than a fragment or an https image."""
    compact = re.sub(r"/\*.*?\*/", "", _INVISIBLE.sub("", value).lower(), flags=re.DOTALL)
    compact = _SAFE_CSS_URL.sub("", compact)
    return not any(marker in compact for marker in _UNSAFE_CSS)


class _Renderer(HTMLParser):
    """One pass over the vendor's HTML: what is kept is re-emitted from parsed tokens (never copied raw)."""

    def __init__(self, values: PartnerValues | None) -> None:
        super().__init__(convert_charrefs=False)
        self.values = values
        self.out: list[str] = []
        self.problems: list[str] = []
        self.skipping: list[str] = []  # open elements dropped with their content
        self.raw: str | None = None  # inside <style> (CSS, not HTML text)

    @classmethod
    def check(cls, html: str) -> list[str]:
        renderer = cls(None)
        renderer.feed(html)
        renderer.close()
        return list(dict.fromkeys(renderer.problems))

    @classmethod
    def render(cls, html: str, values: PartnerValues) -> str:
        renderer = cls(values)
        renderer.feed(html)
        renderer.close()
        return "".join(renderer.out)

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        kept: list[str] = []
        for raw_name, raw_value in attrs:
            name = raw_name.lower()
            value = raw_value or ""
            if not re.fullmatch(r"[a-z_:][a-z0-9_:.-]*", name) or name.startswith("on") or name in DROPPED_ATTRIBUTES:
                continue
            if tag == "meta" and name == "http-equiv":
                continue
            if _LOGO in placeholders_in(value):
                self.problems.append("{{partner.logo}} is an image: place it between tags, not inside an attribute")
                continue
            if self.values is not None:
                value = _fill_attribute(value, self.values)
            if name in URL_ATTRIBUTES and not _safe_url(name, value):
                continue
            if name == "style" and not _safe_css(value):
                continue
            kept.append(f' {name}="{escape(value, quote=True)}"' if raw_value is not None else f" {name}")
        return "".join(kept)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closing: str) -> None:
        opens_content = not closing and tag not in VOID_ELEMENTS
        if self.skipping or tag in DROPPED_WITH_CONTENT:
            if tag in DROPPED_WITH_CONTENT and opens_content:
                self.skipping.append(tag)
            return
        if tag in DROPPED_TAGS or not re.fullmatch(r"[a-z][a-z0-9-]*", tag):
            return
        self.out.append(f"<{tag}{self._attributes(tag, attrs)}{closing}>")
        if tag == "style" and not closing:
            self.raw = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, " /")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag == "style" and self.raw is not None:
            css, self.raw = self.raw, None
            if placeholders_in(css):
                self.problems.append("placeholders cannot be used inside <style>")
            elif _safe_css(css):
                self.out.append(css)
        if tag in DROPPED_WITH_CONTENT or tag in DROPPED_TAGS or not re.fullmatch(r"[a-z][a-z0-9-]*", tag):
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.raw is not None:
            self.raw += data
            return
        self.out.append(_fill_text(data, self.values) if self.values is not None else escape(data, quote=False))

    def handle_entityref(self, name: str) -> None:
        if not self.skipping and self.raw is None and re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,31}", name):
            self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self.skipping and self.raw is None and re.fullmatch(r"[xX]?[0-9A-Fa-f]{1,8}", name):
            self.out.append(f"&#{name};")

    def handle_decl(self, decl: str) -> None:
        if not self.skipping and decl.lower().startswith("doctype html"):
            self.out.append("<!DOCTYPE html>")

    def handle_comment(self, data: str) -> None:
        """Comments are dropped (conditional comments could hide markup from this pass)."""

    def handle_pi(self, data: str) -> None:
        """Processing instructions are dropped."""

    def unknown_decl(self, data: str) -> None:
        """CDATA sections and other declarations are dropped."""
