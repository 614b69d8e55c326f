"""Errors the store raises for the API and CLI to translate (409, 404, ...)."""


class Conflict(Exception):
    """The change contradicts what exists (a taken name or domain)."""


class NotFound(Exception):
    """No such thing for this tenant (never says whether another tenant has it)."""
