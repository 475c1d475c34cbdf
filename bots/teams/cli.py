"""``opschaal teams-package``: the zip an admin uploads to Teams (manifest + two icons).

The manifest in this folder is a template: ``{{APP_ID}}``, ``{{WEBSITE_URL}}``,
``{{PRIVACY_URL}}``, ``{{TERMS_URL}}`` and ``{{PUBLIC_DOMAIN}}`` are filled in here, and the result
is checked against the fields Teams refuses an upload without, so mistakes show up on the
command line instead of as a vague error in the Teams admin center.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from .env import ENV_CLIENT_ID
from .icons import png_size

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}
BOT_SCOPES = {"personal", "team", "groupChat"}


class PackageError(ValueError):
    """The manifest or its inputs are not uploadable; ``str()`` lists what to fix."""


def fill(template, values: dict[str, str]):
    """``template`` with every ``{{KEY}}`` replaced, recursively through lists and dicts."""
    if isinstance(template, str):
        for key, value in values.items():
            template = template.replace("{{" + key + "}}", value)
        return template
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    return template


def _get(manifest: dict, path: str):
    node = manifest
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def validate_manifest(manifest: dict, files: dict[str, bytes]) -> list[str]:
    """Problems that make Teams refuse the package; empty when it is uploadable.

    ``files`` are the other files that go into the zip (the icons), by name.
    """
    problems: list[str] = []
    text = json.dumps(manifest)
    left = sorted(set(re.findall(r"\{\{([A-Z_]+)\}\}", text)))
    if left:
        problems.append("niet ingevulde velden: " + ", ".join(left))
    required = {
        "$schema": str,
        "manifestVersion": str,
        "version": str,
        "id": str,
        "developer.name": str,
        "developer.websiteUrl": str,
        "developer.privacyUrl": str,
        "developer.termsOfUseUrl": str,
        "name.short": str,
        "name.full": str,
        "description.short": str,
        "description.full": str,
        "icons.color": str,
        "icons.outline": str,
        "accentColor": str,
    }
    for path, kind in required.items():
        value = _get(manifest, path)
        if not isinstance(value, kind) or not value.strip():
            problems.append(f"verplicht veld '{path}' ontbreekt of is leeg")
    if left:
        return problems
    version = _get(manifest, "version")
    if isinstance(version, str) and not SEMVER.match(version):
        problems.append(f"'version' moet x.y.z zijn, niet {version!r}")
    app_id = _get(manifest, "id")
    if isinstance(app_id, str) and app_id and not GUID.match(app_id):
        problems.append("'id' moet een GUID zijn (de Microsoft App ID van de Azure Bot)")
    for path in ("developer.websiteUrl", "developer.privacyUrl", "developer.termsOfUseUrl"):
        url = _get(manifest, path)
        if isinstance(url, str) and url and not url.startswith("https://"):
            problems.append(f"'{path}' moet een https-adres zijn")
    for path, limit in (
        ("name.short", 30),
        ("name.full", 100),
        ("description.short", 80),
        ("description.full", 4000),
    ):
        value = _get(manifest, path)
        if isinstance(value, str) and len(value) > limit:
            problems.append(f"'{path}' is te lang ({len(value)} tekens, maximaal {limit})")
    accent = _get(manifest, "accentColor")
    if isinstance(accent, str) and accent and not COLOR.match(accent):
        problems.append("'accentColor' moet #RRGGBB zijn")
    for kind, size in ICON_SIZES.items():
        name = _get(manifest, f"icons.{kind}")
        if not isinstance(name, str) or not name:
            continue
        data = files.get(name)
        if data is None:
            problems.append(f"icoon '{name}' ontbreekt")
        elif png_size(data) != size:
            problems.append(f"icoon '{name}' moet een PNG van {size[0]}x{size[1]} zijn")
    bots = manifest.get("bots")
    if not isinstance(bots, list) or not bots:
        problems.append("'bots' moet precies de Opschaalwijzer-bot bevatten")
    else:
        for i, bot in enumerate(bots):
            bot_id = bot.get("botId") if isinstance(bot, dict) else None
            if not isinstance(bot_id, str) or not GUID.match(bot_id):
                problems.append(f"'bots[{i}].botId' moet een GUID zijn")
            scopes = bot.get("scopes") if isinstance(bot, dict) else None
            if not isinstance(scopes, list) or not scopes or not set(scopes) <= BOT_SCOPES:
                problems.append(f"'bots[{i}].scopes' moet uit {sorted(BOT_SCOPES)} komen")
            problems += _command_problems(
                i, bot.get("commandLists") if isinstance(bot, dict) else None
            )
    return problems


def _command_problems(i: int, lists) -> list[str]:
    """The command menu: Teams refuses a scope listed twice, more than ten commands in a list, a
    title over 32 or a description over 128 characters."""
    if lists is None:
        return []
    if not isinstance(lists, list):
        return [f"'bots[{i}].commandLists' moet een lijst zijn"]
    problems, seen = [], set()
    for j, cl in enumerate(lists):
        where = f"bots[{i}].commandLists[{j}]"
        scopes = cl.get("scopes") if isinstance(cl, dict) else None
        commands = cl.get("commands") if isinstance(cl, dict) else None
        if not isinstance(scopes, list) or not isinstance(commands, list):
            problems.append(f"'{where}' moet 'scopes' en 'commands' hebben")
            continue
        if seen & set(scopes):
            problems.append(
                f"'{where}': scope {sorted(seen & set(scopes))} staat al in een andere lijst"
            )
        seen |= set(scopes)
        if len(commands) > 10:
            problems.append(f"'{where}' heeft {len(commands)} commando's (maximaal 10)")
        for c in commands:
            title = c.get("title") if isinstance(c, dict) else None
            desc = c.get("description") if isinstance(c, dict) else None
            if not isinstance(title, str) or not title or len(title) > 32:
                problems.append(f"'{where}': commandotitel {title!r} moet 1 tot 32 tekens zijn")
            if not isinstance(desc, str) or len(desc) > 128:
                problems.append(
                    f"'{where}': omschrijving van {title!r} moet hooguit 128 tekens zijn"
                )
    return problems


def build_package(
    out: Path,
    app_id: str,
    public_url: str,
    privacy_url: str | None = None,
    terms_url: str | None = None,
    version: str | None = None,
    template: Path = MANIFEST,
) -> dict:
    """Write the zip to ``out`` and return the filled-in manifest; raises ``PackageError``."""
    try:
        raw = json.loads(template.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PackageError(f"manifest-sjabloon {template} is niet te lezen: {exc}") from None
    public_url = public_url.rstrip("/")
    values = {
        "APP_ID": app_id.strip(),
        "WEBSITE_URL": public_url,
        "PRIVACY_URL": privacy_url or public_url,
        "TERMS_URL": terms_url or public_url,
        "PUBLIC_DOMAIN": urlsplit(public_url).hostname or "",
    }
    manifest = fill(raw, values)
    if version:
        manifest["version"] = version
    icon_names = {manifest.get("icons", {}).get(k) for k in ICON_SIZES} - {None}
    files = {}
    for name in icon_names:
        path = template.parent / name
        if path.is_file():
            files[name] = path.read_bytes()
    problems = validate_manifest(manifest, files)
    if problems:
        raise PackageError("; ".join(problems))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
    return manifest


def register(app: typer.Typer) -> None:
    @app.command("teams-package")
    def teams_package(
        out: Annotated[Path, typer.Option("--out", "-o", help="Pad van het zip-bestand.")] = Path(
            "opschaalwijzer-teams.zip"
        ),
        app_id: Annotated[
            str | None,
            typer.Option(
                "--app-id", help=f"Microsoft App ID van de Azure Bot (standaard {ENV_CLIENT_ID})."
            ),
        ] = None,
        public_url: Annotated[
            str | None,
            typer.Option(
                "--public-url", help="https-adres van deze service (standaard OPSCHAAL_PUBLIC_URL)."
            ),
        ] = None,
        privacy_url: Annotated[
            str | None,
            typer.Option("--privacy-url", help="Privacyverklaring (standaard het publieke adres)."),
        ] = None,
        terms_url: Annotated[
            str | None,
            typer.Option("--terms-url", help="Gebruiksvoorwaarden (standaard het publieke adres)."),
        ] = None,
        version: Annotated[
            str | None,
            typer.Option("--version", help="Versie x.y.z; verhoog die bij elke nieuwe upload."),
        ] = None,
        manifest: Annotated[
            Path, typer.Option("--manifest", help="Eigen manifest-sjabloon (iconen ernaast).")
        ] = MANIFEST,
    ) -> None:
        """Bouw het Teams-app-pakket (manifest.json + iconen) om te uploaden in Teams.

        Voorbeeld: opschaal teams-package --app-id 0d4b3c1e-1111-2222-3333-444455556666 --public-url https://opschaal.example.nl
        """
        from bots.cli import CliError, settings_for
        from bots.cli import out as console

        app_id = app_id or os.environ.get(ENV_CLIENT_ID)
        if not app_id:
            raise CliError(
                f"geen App ID: geef --app-id of zet {ENV_CLIENT_ID} (de Microsoft App ID van je Azure Bot)"
            )
        if not public_url:
            configured = getattr(settings_for(), "public_url", None)
            public_url = str(configured) if configured else None
        if not public_url:
            raise CliError(
                "geen publiek adres: geef --public-url https://… of zet OPSCHAAL_PUBLIC_URL"
            )
        try:
            result = build_package(
                out, app_id, public_url, privacy_url, terms_url, version, manifest
            )
        except PackageError as exc:
            raise CliError(f"Teams-pakket niet gebouwd: {exc}") from None
        console.print(
            f"Teams-pakket geschreven: {out} (app {result['id']}, versie {result['version']})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            "Upload het in Teams via Apps → Apps beheren → Een app uploaden (zie docs/teams.md).",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
