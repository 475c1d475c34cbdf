"""``opschaal teams-package``: the uploadable zip and its manifest check."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest
from typer.testing import CliRunner

from bots.teams.cli import MANIFEST, build_package, validate_manifest
from bots.teams.icons import png_size

from .conftest import SDK_ENV

APP_ID = "0d4b3c1e-1111-2222-3333-444455556666"


@pytest.fixture
def cli():
    from bots.cli import app

    return app


def test_package_from_env_app_id(cli, tmp_path, monkeypatch, no_sdk_env):
    monkeypatch.setenv(SDK_ENV[0], APP_ID)
    out = tmp_path / "teams.zip"
    result = CliRunner().invoke(
        cli, ["teams-package", "--out", str(out), "--public-url", "https://opschaal.example.nl/"]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        assert png_size(zf.read("color.png")) == (192, 192)
        assert png_size(zf.read("outline.png")) == (32, 32)
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"]["websiteUrl"] == "https://opschaal.example.nl"
    assert manifest["validDomains"] == ["opschaal.example.nl"]
    assert "{{" not in json.dumps(manifest)


def test_package_without_app_id_is_a_clean_error(cli, tmp_path, no_sdk_env):
    result = CliRunner().invoke(
        cli,
        [
            "teams-package",
            "--out",
            str(tmp_path / "x.zip"),
            "--public-url",
            "https://opschaal.example.nl",
        ],
    )
    assert result.exit_code != 0
    assert "App ID" in str(result.exception)
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"app_id": "not-a-guid"}, "GUID"),
        ({"public_url": "http://opschaal.example.nl"}, "https"),
        ({"version": "1.0"}, "x.y.z"),
    ],
)
def test_bad_inputs_are_refused_and_nothing_written(tmp_path, kwargs, needle):
    from bots.teams.cli import PackageError

    args = {"app_id": APP_ID, "public_url": "https://opschaal.example.nl"} | kwargs
    with pytest.raises(PackageError, match=needle):
        build_package(tmp_path / "x.zip", **args)
    assert not (tmp_path / "x.zip").exists()


def good_manifest() -> tuple[dict, dict]:
    from bots.teams.cli import fill

    manifest = fill(
        json.loads(MANIFEST.read_text()),
        {
            "APP_ID": APP_ID,
            "WEBSITE_URL": "https://a.example",
            "PRIVACY_URL": "https://a.example/p",
            "TERMS_URL": "https://a.example/t",
            "PUBLIC_DOMAIN": "a.example",
        },
    )
    files = {n: (MANIFEST.parent / n).read_bytes() for n in ("color.png", "outline.png")}
    return manifest, files


def test_shipped_manifest_is_valid():
    manifest, files = good_manifest()
    assert validate_manifest(manifest, files) == []


def test_the_personal_command_menu_offers_the_plan():
    manifest, files = good_manifest()
    lists = manifest["bots"][0]["commandLists"]
    personal = next(cl for cl in lists if "personal" in cl["scopes"])
    titles = [c["title"] for c in personal["commands"]]
    assert "plan" in titles and "mijn plannen" in titles
    # The plan works in a personal chat only: the team and group menus do not offer it.
    for cl in lists:
        if cl is not personal:
            assert "plan" not in [c["title"] for c in cl["commands"]]


def test_a_bad_command_menu_is_reported():
    manifest, files = good_manifest()
    lists = manifest["bots"][0]["commandLists"]
    lists[0]["commands"].append({"title": "x" * 33, "description": "te lang"})
    lists.append({"scopes": ["personal"], "commands": []})
    problems = validate_manifest(manifest, files)
    assert any("1 tot 32 tekens" in p for p in problems), problems
    assert any("staat al in een andere lijst" in p for p in problems), problems


@pytest.mark.parametrize(
    "field", ["id", "version", "developer", "name", "description", "icons", "accentColor", "bots"]
)
def test_missing_required_field_is_reported(field):
    manifest, files = good_manifest()
    del manifest[field]
    problems = validate_manifest(manifest, files)
    assert problems and any(field in p for p in problems)


def test_wrong_icon_size_is_reported(tmp_path):
    from bots.teams.cli import PackageError

    template = tmp_path / "manifest.json"
    shutil.copy(MANIFEST, template)
    shutil.copy(
        MANIFEST.parent / "outline.png", tmp_path / "color.png"
    )  # 32x32 where 192x192 belongs
    shutil.copy(MANIFEST.parent / "outline.png", tmp_path / "outline.png")
    with pytest.raises(PackageError, match="192x192"):
        build_package(tmp_path / "x.zip", APP_ID, "https://a.example", template=template)


def test_unfilled_placeholder_is_reported():
    manifest, files = good_manifest()
    manifest["developer"]["websiteUrl"] = "{{WEBSITE_URL}}"
    assert any("WEBSITE_URL" in p for p in validate_manifest(manifest, files))
