"""docs/settings.md is the settings tree (regenerate: ``python -m base.settings_doc --write``)."""

from __future__ import annotations

from base.settings import Settings
from base.settings_doc import DOC, render


def test_settings_reference_is_in_step_with_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/settings.md is out of step with base/settings.py: "
        "run `.venv/bin/python -m base.settings_doc --write`"
    )


def test_every_setting_is_in_the_reference() -> None:
    text = render()
    for name, section in Settings.model_fields.items():
        assert f"## `[{name}]`" in text
        for key in section.annotation.model_fields:  # type: ignore[union-attr]
            assert f"`LITRAG_{name.upper()}__{key.upper()}`" in text
