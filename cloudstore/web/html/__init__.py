"""The HTML toolkit that the `pages` and `admin` blueprints share: they take their HTML
plumbing from here, never from each other.

- `install.py`: what `create_app` registers app-wide: template filters, the page context,
  Jinja globals (the `ui` macros among them), the CSRF cookie and notice clean-up.
- `rendering.py`: the synchronous Jinja overlay, whole templates or some of their blocks.
- `responses.py`: a page or its htmx fragment, `go`, notices, safe `next`, session cookie.
- `csrf.py`: the double-submit token (pages and cookie-authenticated API calls).
- `forms.py`: the `Form` that carries values and per-field messages back to a template.
- `listing.py`: the filter bar's values, sort labels and the one listing-URL builder.
- `catalog_answers.py` (+ `snapshot_cache.py`): answers computed once per catalog snapshot
  and shared, HTML rendered in a neutral context.

Kept free of imports so that `web.session` can import `csrf` without a cycle.
"""
