"""The local trace explorer (``nsreason serve``): a page to pick a scene, type a question and
see its trace page, served on loopback by the standard library's HTTP server."""

from .explorer import MAX_BODY, MAX_QUESTION, Explorer, is_loopback, make_server

__all__ = ["MAX_BODY", "MAX_QUESTION", "Explorer", "is_loopback", "make_server"]
