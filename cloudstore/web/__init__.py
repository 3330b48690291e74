"""Quart blueprints: parse and validate input, call the shop, answer JSON or HTML."""
