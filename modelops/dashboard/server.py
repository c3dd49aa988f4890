"""The dashboard's web server: Tornado, serving the page, its static files, one JSON endpoint per
panel, the resolve action, /metrics and /healthz.

Tornado is already here (Flower runs on it), is a production server on its own, and brings what a
small authenticated app needs: XSRF protection, templates with escaping, static files. Database
reads are blocking, so they run on a small thread pool beside the event loop.

Who is asking: a bearer token (scripts, Prometheus), else the session cookie a token started (the
login form, or the button of a one-time sign-in link: modelops.dashboard.sign_in). Without either, a
page request gets the login form with 401, an API request a 401 JSON body. Following a link never
signs a browser in by itself: that takes a POST with the page's XSRF field.
"""
from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
import tornado.web
from sqlalchemy.exc import DBAPIError

from modelops import db
from modelops.config import settings
from modelops.dashboard import access, exposition, logs, sign_in, views
from modelops.dashboard.credentials import Credentials, DatabaseUnavailable
from modelops.dashboard.panels.resources import ResourceSampler
from modelops.dashboard.queues import broker
from modelops.dashboard.widgets import PANELS, PANELS_BY_NAME

HERE = Path(__file__).parent
SESSION_COOKIE = "modelops_session"
# Scripts and styles come from this server only; nothing may frame the page.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The proxies in front of the dashboard, comma-separated: only then are X-Forwarded-For and
# X-Forwarded-Proto taken for the client's address and scheme.
TRUSTED_PROXY_VARIABLE = "MODELOPS_TRUSTED_PROXY"
SIGN_IN_REFUSED = "That sign-in link is wrong, expired or used already: ask for another, or paste a token."


class State:
    """What the handlers share: the thread pool for blocking reads, the credential memory, the sampler."""

    def __init__(self, queues: tuple[str, ...], threads: int = 4):
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dashboard")
        self.credentials = Credentials()
        self.sampler = ResourceSampler(queues)
        self.metrics = exposition.registry(queues)


class Handler(tornado.web.RequestHandler):
    def initialize(self, state: State) -> None:
        self.state = state
        self.principal: access.Principal | None = None

    def set_default_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)

    async def blocking(self, function, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.state.executor, functools.partial(function, *args, **kwargs))

    def bearer(self) -> str | None:
        scheme, _, secret = self.request.headers.get("Authorization", "").partition(" ")
        return secret.strip() or None if scheme.lower() == "bearer" else None

    async def identify(self) -> access.Principal | None:
        """The caller's principal (bearer token first, then session cookie); None when it has neither that is live."""
        if secret := self.bearer():
            return await self.blocking(self.state.credentials.token, secret)
        if secret := self.get_cookie(SESSION_COOKIE):
            return await self.blocking(self.state.credentials.session, secret)
        return None

    def check_xsrf_cookie(self) -> None:
        # A browser never adds an Authorization header by itself, so a bearer request cannot be forged.
        if self.bearer() is None:
            super().check_xsrf_cookie()

    async def start_session(self, principal: access.Principal) -> None:
        def open_session() -> str:
            with db.dashboard_scope() as connection:
                return access.open_session(connection, principal, access.wall_now())

        secret = await self.blocking(open_session)
        self.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="Lax", path="/",
                        secure=self.request.protocol == "https")

    def login_page(self, status: int, message: str | None = None) -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.render("login.html", message=message)

    def unavailable_page(self, error: Exception) -> None:
        self.set_status(503)
        self.set_header("Retry-After", "15")
        self.render("unavailable.html", message=str(error))


class PageHandler(Handler):
    async def get(self) -> None:
        try:
            principal = await self.identify()
        except DatabaseUnavailable as error:
            return self.unavailable_page(error)
        if principal is None:
            return self.login_page(401, self.why_signed_out())
        self.set_header("Cache-Control", "no-store")
        self.xsrf_token  # noqa: B018  (sets the cookie the page's resolve action sends back)
        self.render("dashboard.html", principal=principal, panels=PANELS,
                    panel_config=json.dumps([{"name": p.name, "title": p.title, "interval": p.refresh_interval} for p in PANELS]))


    def why_signed_out(self) -> str | None:
        if self.get_query_argument("token", None):
            return "A link with a token does not sign in: paste the token here, or ask for a sign-in link."
        return "Your session ended; sign in again." if self.get_cookie(SESSION_COOKIE) else None


class SignInHandler(Handler):
    """A one-time sign-in link: GET shows whom the code signs in as and a button; the button's POST
    (XSRF-checked, as every POST here) spends the code and starts the session."""

    async def get(self) -> None:
        code = self.get_query_argument("code", "")
        try:
            principal = await self.blocking(self.redeem, code, spend=False)
        except DatabaseUnavailable as error:
            return self.unavailable_page(error)
        if principal is None:
            return self.login_page(401, SIGN_IN_REFUSED)
        self.set_header("Cache-Control", "no-store")
        self.render("sign_in.html", principal=principal, code=code)

    async def post(self) -> None:
        try:
            principal = await self.blocking(self.redeem, self.get_body_argument("code", ""), spend=True)
        except DatabaseUnavailable as error:
            return self.unavailable_page(error)
        if principal is None:
            return self.login_page(401, SIGN_IN_REFUSED)
        await self.start_session(principal)
        self.redirect(self.reverse_url("page"))

    def redeem(self, code: str, spend: bool) -> access.Principal | None:
        """The principal a live, unused code signs in as (spending the code when ``spend``), else None;
        DatabaseUnavailable when the database or the broker, which records the codes used, does not answer."""
        now = time.time()
        try:
            granted = sign_in.read(code, now)
        except sign_in.InvalidCode:
            return None
        principal = self.state.credentials.token_digest(granted.token_digest)
        if principal is None:
            return None
        try:
            client = broker(settings().redis_url)
            unused = sign_in.spend(client, granted, now) if spend else not sign_in.spent(client, granted)
        except redis.RedisError as error:
            raise DatabaseUnavailable(f"broker unreachable ({type(error).__name__}): sign in with a token instead") from None
        return principal if unused else None


class LoginHandler(Handler):
    def get(self) -> None:
        self.login_page(200)

    async def post(self) -> None:
        token = self.get_body_argument("token", "").strip()
        if not token:
            return self.login_page(401, "Paste the token `modelops token create` printed.")
        try:
            principal = await self.blocking(self.state.credentials.token, token)
        except DatabaseUnavailable as error:
            return self.unavailable_page(error)
        if principal is None:
            return self.login_page(401, "That token is wrong, expired or revoked.")
        await self.start_session(principal)
        self.redirect(self.reverse_url("page"))


class LogoutHandler(Handler):
    async def post(self) -> None:
        if secret := self.get_cookie(SESSION_COOKIE):
            def close() -> None:
                with db.dashboard_scope() as connection:
                    access.close_session(connection, secret)

            self.state.credentials.forget("session", secret)
            try:
                await self.blocking(close)
            except DBAPIError:
                pass  # the cookie goes below; the row expires by itself
        self.clear_cookie(SESSION_COOKIE, path="/")
        self.redirect(self.reverse_url("login"))


class ApiHandler(Handler):
    """JSON in and out; 401 without a live principal, 503 while the database does not answer."""

    async def prepare(self) -> None:
        self.set_header("Cache-Control", "no-store")
        try:
            self.principal = await self.identify()
        except DatabaseUnavailable as error:
            return self.fail(503, str(error))
        if self.principal is None:
            return self.fail(401, "sign in: the token or session is missing, wrong, expired or revoked")

    def fail(self, status: int, message: str) -> None:
        self.set_status(status)
        if status == 503:
            self.set_header("Retry-After", "15")
        self.finish({"error": message})

    async def answer(self, function, *args) -> None:
        try:
            self.finish(await self.blocking(function, *args))
        except DBAPIError as error:
            self.fail(503, f"database unreachable ({type(error.orig or error).__name__})")


class PanelHandler(ApiHandler):
    async def get(self, name: str) -> None:
        if name not in PANELS_BY_NAME:
            return self.fail(404, f"no panel {name!r}; the panels are {', '.join(PANELS_BY_NAME)}")
        await self.answer(views.panel, name, self.principal, self.get_query_argument("agent", None),
                          self.get_query_argument("tenant", None), self.state.sampler)


class FiltersHandler(ApiHandler):
    async def get(self) -> None:
        await self.answer(views.choices, self.principal)


class ResolveHandler(ApiHandler):
    async def post(self, alert_id: str) -> None:
        note = self.get_body_argument("note", None)
        if note is None and self.request.headers.get("Content-Type", "").startswith("application/json"):
            try:
                note = json.loads(self.request.body or b"{}").get("note")
            except (ValueError, AttributeError):
                return self.fail(400, "the body must be a JSON object such as {\"note\": \"...\"}")
        try:
            await self.answer(views.resolve_alert, self.principal, alert_id, note or "")
        except views.Refused as refusal:
            self.fail(403, str(refusal))
        except ValueError as error:
            self.fail(400, str(error))


class MetricsHandler(ApiHandler):
    """Prometheus's scrape: an operator's bearer token (bearer_token in the scrape config)."""

    async def get(self) -> None:
        if not self.principal.is_operator:
            return self.fail(403, "/metrics spans every tenant: use an operator's token")
        body = await self.blocking(exposition.scrape, self.state.metrics)
        self.set_header("Content-Type", exposition.CONTENT_TYPE)
        self.finish(body)


class HealthHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.finish({"status": "ok"})


def make_app(queues: tuple[str, ...]) -> tornado.web.Application:
    state = State(queues)
    routes = [
        tornado.web.url(r"/", PageHandler, {"state": state}, name="page"),
        tornado.web.url(r"/login", LoginHandler, {"state": state}, name="login"),
        tornado.web.url(r"/sign-in", SignInHandler, {"state": state}, name="sign_in"),
        tornado.web.url(r"/logout", LogoutHandler, {"state": state}, name="logout"),
        tornado.web.url(r"/api/panels/([a-z_]+)", PanelHandler, {"state": state}),
        tornado.web.url(r"/api/filters", FiltersHandler, {"state": state}),
        tornado.web.url(r"/api/alerts/([^/]+)/resolve", ResolveHandler, {"state": state}),
        tornado.web.url(r"/metrics", MetricsHandler, {"state": state}),
        tornado.web.url(r"/healthz", HealthHandler),
    ]
    return tornado.web.Application(
        routes, template_path=str(HERE / "templates"), static_path=str(HERE / "static"),
        xsrf_cookies=True, xsrf_cookie_kwargs={"samesite": "Strict", "path": "/"},
        log_function=logs.log_request,
    )


def trusted_proxies(env: dict[str, str]) -> list[str]:
    """The addresses of MODELOPS_TRUSTED_PROXY; ValueError naming one that is not an IP address."""
    proxies = [address.strip() for address in env.get(TRUSTED_PROXY_VARIABLE, "").split(",") if address.strip()]
    for address in proxies:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ValueError(f"{TRUSTED_PROXY_VARIABLE}: {address!r} is not an IP address") from None
    return proxies


def serve(host: str, port: int, queues: tuple[str, ...], proxies: list[str], ready=None) -> None:
    """Serve until SIGINT or SIGTERM; ``ready`` (if given) is called once the port is open. The
    X-Forwarded-* headers are read only when ``proxies`` (the trusted proxies' addresses) names some:
    without a proxy in front, any client could set them to another address or to https."""

    async def main() -> None:
        server = make_app(queues).listen(port, address=host, xheaders=bool(proxies), trusted_downstream=proxies)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for request in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(request, stop.set)
        if ready:
            ready()
        await stop.wait()
        server.stop()

    asyncio.run(main())
    db.dispose_engines()
