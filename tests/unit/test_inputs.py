"""site/inputs.py and site/page_types.py: every page type names a template and an input builder that exist; an
input is keyed by what it holds and refuses what cannot be keyed; a template that reaches beyond its context fails
with one line naming the template file, the line and the name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from policy_site.errors import UserError
from policy_site.settings import builtin_templates
from policy_site.site.inputs import Keyed, canonical, input_key
from policy_site.site.page_inputs import Page
from policy_site.site.page_types import LIBRARY_PAGE_TYPES, PAGE_TYPES
from policy_site.site.render import environment, render_template


@pytest.mark.parametrize("kind", [*PAGE_TYPES, *LIBRARY_PAGE_TYPES], ids=lambda t: t.key)
def test_each_page_type_names_its_template_and_input_builder(kind) -> None:  # type: ignore[no-untyped-def]
    assert (builtin_templates() / "pages" / kind.template).is_file()
    assert callable(kind.input)
    owner = kind.input.__self__  # a classmethod of an input class
    assert issubclass(owner, Page), kind.builder


@dataclass(frozen=True)
class Part(Keyed):
    name: str
    day: date


@dataclass(frozen=True)
class Given:
    part: Part
    items: tuple[str, ...]
    options: dict[str, object]


def test_an_input_is_keyed_by_what_it_holds() -> None:
    part = Part("a", date(2024, 1, 2))
    given = Given(part, ("x", "y"), {"b": 1, "a": None})
    assert canonical(given) == ["Given", {"part": part.key, "items": ["x", "y"], "options": {"b": 1, "a": None}}]
    assert input_key(given) == input_key(Given(Part("a", date(2024, 1, 2)), ("x", "y"), {"a": None, "b": 1}))
    assert input_key(given) != input_key(Given(Part("a", date(2024, 1, 3)), ("x", "y"), {"a": None, "b": 1}))
    with pytest.raises(TypeError, match="cannot be part of a template's input"):
        canonical(Given(part, (), {"f": object()}))


def test_a_name_a_template_does_not_receive_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages/_m.j2").write_text("{% macro shown(p) %}\n{{ p.missing }}\n{% endmacro %}\n")
    (tmp_path / "pages/page.md.j2").write_text('{% import "pages/_m.j2" as m %}\n{{ m.shown(entry) }}\n')
    env = environment([tmp_path])
    with pytest.raises(UserError) as raised:
        render_template(env, "pages/page.md.j2", {"entry": Part("a", date(2024, 1, 2))})
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'pages/_m.j2'}:2: 'Part object' has no attribute 'missing'"), message
    assert "\n" not in message and "receives only: entry" in message
