"""A real OpenID Connect provider on loopback (``oidc-provider-mock``), the app's ``[auth]``
pointed at it, and signing in and out in the browser the way a person does.

The mock accepts any client id and secret and signs in whichever predefined subject is typed
on its form; its pages load a stylesheet from a CDN, which ``offline`` refuses.
"""
from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

import requests
from playwright.sync_api import BrowserContext, Page, expect

from tests.support.app_server import free_port, stop_child
from tests.support.browser import wait_for_app

MOCK = Path(sys.executable).parent / "oidc-provider-mock"


class OidcProvider:
    """``oidc-provider-mock`` in a child process, with one predefined user per e-mail."""

    def __init__(self, emails: dict[str, str], log_path: Path, timeout: float = 30.0):
        """``emails``: subject → e-mail address, e.g. ``{"alice": "alice@example.com"}``."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        claims = [arg for sub, email in emails.items()
                  for arg in ("--user-claims", json.dumps({"sub": sub, "email": email}))]
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([str(MOCK), "-p", str(self.port), *claims],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready(timeout)

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def _wait_ready(self, timeout: float) -> None:
        """Until the discovery document answers; fail at once if the provider died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"oidc-provider-mock exited with {self.proc.returncode}")
            try:
                if requests.get(self.metadata_url, timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("oidc-provider-mock did not answer in time")

    def stop(self) -> None:
        stop_child(self.proc, self.log)


def write_secrets(folder: Path, app_port: int, provider: OidcProvider,
                  allow: list[str] | None = None) -> Path:
    """A secrets.toml turning team mode on against ``provider`` (127.0.0.1 throughout:
    ``localhost`` in one place and an address in another loses the sign-in's state)."""
    lines = ["[auth]",
             f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"',
             f'cookie_secret = "{secrets.token_hex(32)}"',
             'client_id = "playground-tests"', 'client_secret = "any"',
             f'server_metadata_url = "{provider.metadata_url}"']
    if allow is not None:
        lines += ["[team]", f"allow = {json.dumps(allow)}"]
    path = folder / "secrets.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def offline(context: BrowserContext) -> BrowserContext:
    """Refuse every request that leaves loopback (the mock's CDN stylesheet)."""
    context.route(lambda url: not url.startswith(("http://127.0.0.1", "ws://127.0.0.1")),
                  lambda route: route.abort())
    return context


def sign_in(page: Page, sub: str) -> None:
    """From the signed-out screen: "Sign in", the provider's form, back in the app."""
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=30_000)
    wait_for_app(page)


def sign_out(page: Page) -> None:
    """The sidebar's "Sign out", then the provider's end-session page."""
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(lambda url: "127.0.0.1" in url)
