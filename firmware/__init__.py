"""Printbridge: network printer firmware for a single-board computer and a dumb printer."""

__version__ = "0.1.0"
