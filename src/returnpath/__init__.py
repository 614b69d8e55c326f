"""returnpath: bounce, complaint and auto-reply processing.

This package only wires the parts together (settings, CLI, logging, the
service); nothing imports it back.
"""
