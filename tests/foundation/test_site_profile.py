"""The site profile: plant IT's defaults under the user's own settings (workbench.services.site)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.services.settings import (
    SettingsError,
    load_settings,
    save_settings,
    settings_path,
)
from workbench.services.site import SITE_PROFILE_ENV, value_origins

SITE = """
cache_path = "/srv/planning/team-cache.sqlite"
[planning]
horizon_weeks = 13
bucket = "day"
[[sources]]
name = "erp"
connector = "tryton"
params = { url = "https://erp.plant.example", database = "plant", user = "planner" }
[[sources]]
name = "plm"
connector = "files"
params = { dir = "/srv/plm", mapping = "/etc/planner-workbench/plm.toml" }
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    profile = tmp_path / "etc" / "site.toml"
    profile.parent.mkdir()
    profile.write_text(SITE)
    monkeypatch.setenv(SITE_PROFILE_ENV, str(profile))
    return profile


def test_site_values_are_defaults_and_the_users_own_override(site: Path) -> None:
    fresh = load_settings()  # no settings.json yet: everything from the site
    assert fresh.cache_path == "/srv/planning/team-cache.sqlite"
    assert (fresh.planning.horizon_weeks, fresh.planning.bucket) == (13, "day")
    assert fresh.planning.consume_backward_days == 30  # not in the profile: the built-in default
    assert [s.name for s in fresh.sources] == ["erp", "plm"]
    assert fresh.source("erp").params["database"] == "plant"  # type: ignore[union-attr]

    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema_version": 1, "planning": {"horizon_weeks": 8},
                                "sources": [{"name": "erp", "connector": "tryton",
                                             "params": {"url": "https://test-erp.example"}}]}))
    mine = load_settings()
    assert mine.planning.horizon_weeks == 8 and mine.planning.bucket == "day"
    assert mine.source("erp").params == {"url": "https://test-erp.example"}  # type: ignore[union-attr]
    assert [s.name for s in mine.sources] == ["plm", "erp"]
    assert mine.cache_path == "/srv/planning/team-cache.sqlite"
    origins = value_origins()
    assert origins["planning.horizon_weeks"] == "user"
    assert origins["planning.bucket"] == str(site)
    assert origins["sources.erp"] == "user" and origins["sources.plm"] == str(site)
    assert origins["cache_path"] == str(site)
    assert "planning.consume_forward_days" not in origins  # built-in default


def test_saving_keeps_site_values_the_sites(site: Path) -> None:
    settings = load_settings()
    settings.planning.risk_adjusted = True  # the user's one change
    save_settings(settings)
    stored = json.loads(settings_path().read_text())
    assert stored["planning"]["risk_adjusted"] is True
    assert "horizon_weeks" not in stored["planning"] and "bucket" not in stored["planning"]
    assert "cache_path" not in stored and stored["sources"] == []
    # plant IT changes the profile later: the user who did not touch the value follows it
    site.write_text(SITE.replace("horizon_weeks = 13", "horizon_weeks = 20"))
    again = load_settings()
    assert again.planning.horizon_weeks == 20 and again.planning.risk_adjusted is True
    assert [s.name for s in again.sources] == ["erp", "plm"]


def test_per_user_override_sits_between_site_and_settings(site: Path) -> None:
    override = settings_path().with_name("site.toml")
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text('cache_path = "/srv/team-b/cache.sqlite"\n[planning]\nbucket = "week"\n')
    settings = load_settings()
    assert settings.cache_path == "/srv/team-b/cache.sqlite"
    assert (settings.planning.horizon_weeks, settings.planning.bucket) == (13, "week")
    assert value_origins()["planning.bucket"] == str(override)


@pytest.mark.parametrize(("text", "named"), [
    ('[[sources]]\nname = "erp"\nconnector = "tryton"\nparams = { password = "x" }\n',
     "sources[erp].params"),
    ('[[sources]]\nname = "erp"\nconnector = "tryton"\nparams = { url = "https://u:pw@h" }\n',
     "sources[erp].params"),
    ('user = "someone"\n', "user: not a site setting"),
    ('[planning]\nhorizon_weeks = 0\n', "planning.horizon_weeks"),
    ('cache_path = \n', "site.toml"),
])
def test_a_bad_profile_is_named_by_file_and_field(site: Path, text: str, named: str) -> None:
    site.write_text(text)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(site) in str(err.value) and named in str(err.value)


def test_a_broken_profile_never_costs_the_users_settings(site: Path) -> None:
    settings = load_settings()
    settings.planning.risk_adjusted = True
    save_settings(settings)
    before = settings_path().read_bytes()
    site.write_text("[planning]\nhorizon_weeks = 'x'\n")
    with pytest.raises(SettingsError):
        save_settings(settings)
    assert settings_path().read_bytes() == before
