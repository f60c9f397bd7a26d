"""The local trace explorer: pick a scene, type a question, see its trace page.

:class:`Explorer` answers one (scene id, question) pair with a whole page (the same renderer
as ``nsreason ask --html``: :func:`nsreason.trace.html.render_html`, with the form above it) and
an HTTP status; :func:`make_server` puts it behind the standard library's
:class:`~http.server.ThreadingHTTPServer`. ``nsreason serve`` starts it::

    nsreason serve --scenes examples/data/clevr_val_sample_scenes.json      # http://127.0.0.1:PORT/

What it accepts and how it refuses, each time with a message on the page and never a stack
trace: a body over :data:`MAX_BODY` bytes (413), a body that is not a form (415), no scene or
question, a question over :data:`MAX_QUESTION` characters or with control characters (400),
a scene id the file does not have (404), a request that takes over :data:`READ_SECONDS` to
arrive (408; one still sending its head is cut off), a question the parser cannot read (422: the page
shows the parse and why), a path it does not serve (404), a method other than GET/POST (405),
and a ``Host`` header naming another machine while it listens on loopback (421: a web page
elsewhere cannot reach it through DNS rebinding). A question that parses but fails on the
scene (``not_unique``...) is an answer: its page shows where and why (200).

It binds to loopback unless told otherwise (``allow_remote=True``, ``--allow-remote``): the
explorer runs questions through the engine for whoever can reach it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import time
import unicodedata
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import InputError, NSReasonError
from ..scene.graph import SceneGraph
from ..trace.html import esc, page, render_html

__all__ = ["MAX_BODY", "MAX_QUESTION", "Explorer", "Reply", "is_loopback", "make_server"]

MAX_BODY = 16 * 1024
"""The largest request body the explorer reads (bytes)."""
MAX_QUESTION = 500
"""The longest question it accepts (characters)."""
READ_SECONDS = 10.0
"""How long a client has to send one whole request (head and body) and the longest it may
stay silent on an open connection: a client trickling bytes gets 408 (or, still sending its
head, the connection closed) when it runs out, so it holds a thread for no longer."""
_LISTED = 500  # scene ids offered in the picker (any id of the file can be typed)

Reply = tuple[int, str]
"""An HTTP status and the page's HTML."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host.lower() in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Explorer:
    """Answers questions about the scenes of one file with a reasoner, as pages.

    ``reasoner``: a :class:`~nsreason.api.Reasoner` (or anything with its ``ask``);
    ``image_dir``: where the scenes' images are looked up (embedded when found)."""

    def __init__(self, scenes: Sequence[SceneGraph], reasoner: Any, *, source: str = "",
                 image_dir: str | None = None) -> None:
        if not scenes:
            raise InputError("the scene file has no scenes", source=source or None)
        self.scenes = list(scenes)
        self.by_id = {str(s.id if s.id is not None else k): s for k, s in enumerate(self.scenes)}
        self.reasoner = reasoner
        self.source = source
        self.image_dir = image_dir
        self._lock = threading.Lock()  # one question at a time: the reasoner's models are shared

    # -- pages ----------------------------------------------------------------------------------
    def form(self, scene_id: str = "", question: str = "", message: str = "") -> str:
        """The form: a scene picker (every id of the file can be typed), the question, a button."""
        ids = list(self.by_id)
        options = "".join(f"<option value='{esc(i)}'>{esc(self._describe(i))}</option>" for i in ids[:_LISTED])
        more = (f" <span class='note'>(the first {_LISTED} of {len(ids)} listed; type any id)</span>"
                if len(ids) > _LISTED else "")
        chosen = scene_id or ids[0]
        note = f"<p class='error' role='alert' id='message'>{esc(message)}</p>" if message else ""
        return (
            "<form class='ask' method='post' action='/ask' accept-charset='utf-8'>"
            f"<h1>nsreason explorer</h1><p class='note'>{esc(len(ids))} scene(s) from {esc(self.source)}</p>"
            f"{note}<p><label>Scene <input name='scene' id='scene' list='scene-ids' value='{esc(chosen)}' "
            f"required size='16'></label>{more}<datalist id='scene-ids'>{options}</datalist></p>"
            f"<p><label>Question <input name='question' id='question' value='{esc(question)}' required "
            f"maxlength='{MAX_QUESTION}' size='70' autofocus></label> <button type='submit' id='ask'>Ask</button></p>"
            "</form>"
        )

    def _describe(self, scene_id: str) -> str:
        s = self.by_id[scene_id]
        return f"{scene_id} ({len(s.objects)} objects)"

    def home(self) -> Reply:
        return HTTPStatus.OK, page("nsreason explorer", self.form(), extra_css=_CSS, form_action=True)

    def refuse(self, status: int, message: str, scene_id: str = "", question: str = "") -> Reply:
        """A page with the form and ``message`` (the status says what kind of refusal)."""
        body = self.form(scene_id, question, message)
        return status, page(f"nsreason explorer: {message}", body, extra_css=_CSS, form_action=True)

    # -- answering ------------------------------------------------------------------------------
    def ask(self, scene_id: str, question: str) -> Reply:
        """The trace page of ``question`` on scene ``scene_id``, or a refusal."""
        scene_id, question = scene_id.strip(), question.strip()
        if not scene_id:
            return self.refuse(HTTPStatus.BAD_REQUEST, "Choose a scene.", scene_id, question)
        if not question:
            return self.refuse(HTTPStatus.BAD_REQUEST, "Type a question.", scene_id, question)
        if len(question) > MAX_QUESTION:
            return self.refuse(HTTPStatus.BAD_REQUEST,
                               f"The question is {len(question)} characters long; at most {MAX_QUESTION}.",
                               scene_id, question[:MAX_QUESTION])
        if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in question):
            return self.refuse(HTTPStatus.BAD_REQUEST, "The question holds control or unassigned characters.",
                               scene_id, "")
        scene = self.by_id.get(scene_id)
        if scene is None:
            return self.refuse(HTTPStatus.NOT_FOUND,
                               f"No scene {scene_id!r} in {self.source or 'the scene file'}: pick one of the list.",
                               "", question)
        try:
            with self._lock:
                answer = self.reasoner.ask(scene, question)
        except NSReasonError as err:  # bad input the engine names (an op it cannot run...)
            return self.refuse(HTTPStatus.UNPROCESSABLE_ENTITY, f"The engine refused the question: {err}",
                               scene_id, question)
        trace = answer.trace
        if trace is None:
            return self.refuse(HTTPStatus.INTERNAL_SERVER_ERROR, "The reasoner gave no trace.", scene_id, question)
        status = HTTPStatus.OK
        if trace.parse is not None and trace.parse.status == "failed":
            status = HTTPStatus.UNPROCESSABLE_ENTITY  # the question itself could not be read
        html = render_html(trace, scene, title=question, image_dir=self.image_dir,
                           prelude=self.form(scene_id, question), form_action=True, extra_css=_CSS)
        return status, html


def make_server(explorer: Explorer, host: str = "127.0.0.1", port: int = 0, *,
                allow_remote: bool = False, log: Any = None,
                read_seconds: float = READ_SECONDS) -> ThreadingHTTPServer:
    """An HTTP server for ``explorer`` (not yet serving: call ``serve_forever()``);
    ``port=0`` picks a free port (``server.server_address[1]``). A host other than
    loopback raises an :class:`~nsreason.errors.InputError` unless ``allow_remote``.
    ``read_seconds``: the time a client has to send a request (:data:`READ_SECONDS`)."""
    if not allow_remote and not is_loopback(host):
        raise InputError(f"refusing to listen on {host!r}: the explorer answers anyone who can reach it; "
                         "use a loopback host (127.0.0.1, ::1, localhost) or pass --allow-remote")
    handler = type("Handler", (_Handler,), {"explorer": explorer, "log": staticmethod(log) if log else None,
                                            "loopback_only": is_loopback(host), "timeout": read_seconds})
    server_class = ThreadingHTTPServer
    if ":" in host:  # an IPv6 address
        import socket

        server_class = type("ThreadingHTTPServer6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
    server = server_class((host, port), handler)
    server.daemon_threads = True
    return server


class _Handler(BaseHTTPRequestHandler):
    explorer: Explorer
    log: Any
    loopback_only: bool
    server_version = "nsreason-explorer"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = READ_SECONDS  # socketserver sets it on the connection: no read waits longer
    _deadline = 0.0
    _watchdog: threading.Timer | None = None

    def handle_one_request(self) -> None:
        """One request, whose head must arrive within :data:`READ_SECONDS` (a watchdog
        shuts the connection otherwise: a trickle of bytes never times one read out)."""
        self._deadline = time.monotonic() + self.timeout
        self._watchdog = threading.Timer(self.timeout, self._cut_off)
        self._watchdog.daemon = True
        self._watchdog.start()
        try:
            super().handle_one_request()
        finally:
            self._request_read()

    def _cut_off(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _request_read(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _read_body(self, length: int) -> bytes | None:
        """The body's ``length`` bytes, read by the request's deadline (None: too late)."""
        self._request_read()  # from here each read has the time left, not the watchdog
        chunks: list[bytes] = []
        got = 0
        while got < length:
            left = self._deadline - time.monotonic()
            if left <= 0:
                return None
            self.connection.settimeout(left)
            try:
                chunk = self.rfile.read1(length - got)
            except TimeoutError:
                return None
            if not chunk:
                raise ConnectionError("the client closed the connection mid-request")
            chunks.append(chunk)
            got += len(chunk)
        self.connection.settimeout(self.timeout)
        return b"".join(chunks)

    def _send(self, reply: Reply) -> None:
        status, html = reply
        body = html.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _host_ok(self) -> bool:
        if not self.loopback_only:
            return True
        host = urlsplit("//" + (self.headers.get("Host") or "")).hostname or ""
        if is_loopback(host):
            return True
        self._send(self.explorer.refuse(HTTPStatus.MISDIRECTED_REQUEST,
                                        "This explorer answers on this machine only (loopback)."))
        return False

    def _guarded(self, handle: Any) -> None:
        if self.command != "POST":
            self._request_read()  # the whole request is in
        try:
            if self._host_ok():
                handle()
        except (ConnectionError, TimeoutError):  # the client went away
            return
        except Exception as err:  # noqa: BLE001 - a server must answer, never die or leak a stack trace
            print(f"nsreason serve: internal error on {self.command} {self.path}: {err!r}", file=sys.stderr)
            self._send(self.explorer.refuse(HTTPStatus.INTERNAL_SERVER_ERROR,
                                            "Internal error: the explorer could not answer (see its console)."))

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_HEAD(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def _other(self) -> None:
        method = self.command if self.command.isascii() and self.command.isprintable() else "This method"
        self._send(self.explorer.refuse(HTTPStatus.METHOD_NOT_ALLOWED, f"{method[:20]} is not supported here."))

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's error page, except that a method it does not know (501
        Not Implemented: ``TRACE``, ``FOO``) is refused like any other: 405."""
        if code == HTTPStatus.NOT_IMPLEMENTED and self.command:
            self.close_connection = True
            self._other()
            return
        super().send_error(code, message, explain)

    def _get(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            self._send(self.explorer.home())
        elif path == "/ask":  # a reload of an answer page: back to the form
            self._send(self.explorer.refuse(HTTPStatus.METHOD_NOT_ALLOWED, "Ask with the form (POST)."))
        else:
            self._send(self.explorer.refuse(HTTPStatus.NOT_FOUND, f"There is no page {path!r} here."))

    def _post(self) -> None:
        if urlsplit(self.path).path != "/ask":
            self._send(self.explorer.refuse(HTTPStatus.NOT_FOUND, "Post questions to /ask."))
            return
        length_text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length_text is None:
            self.close_connection = True
            self._send(self.explorer.refuse(HTTPStatus.LENGTH_REQUIRED, "The request needs a Content-Length."))
            return
        try:
            length = int(length_text)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True  # the body is not read: the connection cannot be reused
            self._send(self.explorer.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                            f"The request is too large: at most {MAX_BODY} bytes."))
            return
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        raw = self._read_body(length)
        if raw is None:
            self.close_connection = True
            self._send(self.explorer.refuse(HTTPStatus.REQUEST_TIMEOUT,
                                            f"The request took over {self.timeout:g} s to arrive."))
            return
        if kind != "application/x-www-form-urlencoded":
            self._send(self.explorer.refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                                            "Send the form (application/x-www-form-urlencoded)."))
            return
        try:
            fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, errors="strict",
                              max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            self._send(self.explorer.refuse(HTTPStatus.BAD_REQUEST, "The form is not valid UTF-8 form data."))
            return
        scene_id = (fields.get("scene") or [""])[0]
        question = (fields.get("question") or [""])[0]
        self._send(self.explorer.ask(scene_id, question))

    def log_message(self, format: str, *args: Any) -> None:
        if self.log is not None:
            self.log(f"{self.address_string()} {format % args}")


_CSS = """
.ask{background:#fff;border:1px solid var(--line);padding:8px 14px;margin-bottom:12px;border-radius:6px}
.ask h1{font-size:17px}.ask input{font:inherit;padding:3px 6px}.ask button{font:inherit;padding:3px 14px}
.error{color:var(--bad);font-weight:600}
"""
