"""The Starlette application: the store and the token keys on start, `/sync/`, `/api/`, the PWA."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from server import __version__
from server import backup as backups
from server.accounts import Accounts
from server.alarms import Alarms
from server.api.alarms import routes as alarm_routes
from server.api.auth import routes as auth_routes
from server.api.dashboard import routes as dashboard_routes
from server.api.device_exports import routes as device_exports_routes
from server.api.devices import routes as devices_routes
from server.api.exports import routes as exports_routes
from server.api.followups import routes as followups_routes
from server.api.office import routes as office_routes
from server.api.openapi import routes as openapi_routes
from server.api.public import routes as public_routes
from server.api.qr import routes as qr_routes
from server.api.registry_admin import routes as registry_admin_routes
from server.api.rewards import routes as rewards_routes
from server.api.rules import routes as rules_routes
from server.api.users import routes as user_routes
from server.auth import Tokens, load_secret
from server.errors import CouchError, couch_error_handler, disk_full, json_error_response, not_found, storage_full
from server.http import fallback
from server.import_jobs import ImportJobs
from server.migrations import migrate
from server.registry import Registry
from server.settings import Settings
from server.store import open_store
from server.store.protocol import Store
from server.store.sqlite import SqliteStore
from server.sync.auth import Authenticator
from server.sync.routes import routes as sync_routes
from server.validators.lease import Validators
from server.webhook import Webhook

PWA_DIST = Path(__file__).resolve().parent.parent / "pwa" / "dist"


log = logging.getLogger(__name__)


async def _server_error(request: Request, exc: Exception) -> Response:
    full = disk_full(exc)
    if full is not None:
        log.error("%s %s refused: the server's storage is full (%s)", request.method, request.url.path, full)
        return json_error_response(storage_full())
    body = {"error": "internal_server_error", "reason": "The server could not complete the request."}
    return JSONResponse(body, status_code=500)


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = store if store is not None else await open_store(settings)
        await migrate(app.state.store)
        app.state.tokens = Tokens(await load_secret(app.state.store, settings.secret))
        app.state.authenticator = Authenticator(app.state.tokens, app.state.store)
        app.state.accounts = Accounts(app.state.store, app.state.tokens)
        app.state.registry = Registry(app.state.store)
        app.state.imports = ImportJobs(app.state.store, app.state.registry, app.state.authenticator.forget)
        # The follower is there even when it does not run here, so the alarm API can register its hooks alike.
        app.state.validators = Validators(app.state.store)
        app.state.follower = app.state.validators.follower
        app.state.alarms = Alarms(app.state.store)
        app.state.webhook = Webhook(app.state.store, settings, app.state.alarms)  # it listens to the alarm index
        app.state.follower.on_alarm.append(app.state.alarms.notify)
        await app.state.alarms.start()
        await app.state.webhook.start()
        if settings.run_validators:
            app.state.validators.start()
        await app.state.imports.resume()
        app.state.imports.watch()
        app.state.backups = None
        if settings.backup_dir is not None and isinstance(app.state.store, SqliteStore):
            app.state.backups = backups.Schedule(
                app.state.store,
                app.state.store.data_dir,
                settings.backup_dir,
                settings.backup_every_hours,
                settings.backup_keep,
            )
            app.state.backups.start()
        try:
            yield
        finally:
            office_facts = getattr(app.state, "office_facts", None)  # made at the office's first request
            if office_facts is not None:
                with contextlib.suppress(Exception):  # a snapshot is a shortcut for the next start, not a duty
                    await office_facts.save()
            if app.state.backups is not None:
                await app.state.backups.stop()
            await app.state.imports.stop()
            await app.state.validators.stop()
            await app.state.webhook.stop()
            await app.state.alarms.stop()
            if owned:
                await app.state.store.close()

    async def root(request: Request) -> Response:
        index = PWA_DIST / "index.html"
        if request.headers.get("accept", "").startswith("application/json") or not index.exists():
            return JSONResponse({"couchdb": "Welcome", "vendor": {"name": "Mashang", "version": __version__}})
        return FileResponse(index)

    async def spa(request: Request) -> Response:
        index = PWA_DIST / "index.html"
        if not index.exists():
            raise not_found("The PWA is not built; run `make install`.")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    routes: list[Route | Mount] = [
        Route("/", root),
        *sync_routes,
        *auth_routes,
        *user_routes,
        *device_exports_routes,
        *office_routes,
        *alarm_routes,
        *public_routes,
        *devices_routes,
        *dashboard_routes,
        *followups_routes,
        *rules_routes,
        *registry_admin_routes,
        *qr_routes,
        *exports_routes,
        *rewards_routes,
        *openapi_routes,
        fallback("/api/"),
        fallback("/sync/"),
    ]
    if (PWA_DIST / "assets").exists():
        routes.append(Mount("/assets", StaticFiles(directory=PWA_DIST / "assets"), name="assets"))

    async def service_worker(request: Request) -> Response:
        # Phones must see a new version at once: the service worker script is never cached.
        script = PWA_DIST / "sw.js"
        if not script.exists():  # a rebuild in progress, or the PWA was removed: a 404, not a 500
            raise not_found("No service worker: the PWA is not built.")
        return FileResponse(script, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    routes += [
        Route("/s/{code:path}", spa),
        Route("/login", spa),
        Route("/grid{rest:path}", spa),
        Route("/office{rest:path}", spa),
    ]
    if (PWA_DIST / "sw.js").exists():
        routes.append(Route("/sw.js", service_worker))
    if PWA_DIST.exists():
        routes.append(Mount("/", StaticFiles(directory=PWA_DIST, html=True), name="pwa"))

    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={CouchError: couch_error_handler, Exception: _server_error}
    )
    app.state.settings = settings
    return app
