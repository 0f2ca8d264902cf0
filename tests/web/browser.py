"""A cookie-keeping HTTP client for the web pages, as a browser without JavaScript uses
them: it does not follow redirects, so a test sees each 303 and where it points."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request


class Browser:
    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def fetch(self, path: str, form: dict[str, str] | None = None, timeout: float = 20
              ) -> tuple[int, str, bytes, str]:
        """(status, content type, body, Location) of a GET, or a POST of ``form``."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=timeout) as reply:
                return (reply.status, reply.headers.get_content_type(), reply.read(),
                        reply.headers.get("Location", ""))
        except urllib.error.HTTPError as err:
            return (err.code, err.headers.get_content_type(), err.read(),
                    err.headers.get("Location", ""))

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, body as text, Location)."""
        status, _, body, location = self.fetch(path, form)
        return status, body.decode(errors="replace"), location

    def csrf(self, path: str = "/maintenance") -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.request(path)[1])
        assert match, "no CSRF token on the page: not logged in?"
        return match.group(1)

    def login(self, password: str, user: str = "admin", next_page: str = "/") -> int:
        return self.request("/login", {"user": user, "password": password,
                                       "next": next_page})[0]
