"""Replacements for moto methods that are too slow for a store with history, installed in
the server process only (moto itself is never patched in the app or in the tests' process):

- ``scan``: a paged Scan in O(page) instead of O(table) per page;
- ``query``: a Query on a table or a GSI that reads only the matching partition;
- ``transactions``: TransactWriteItems that undoes only the items it touched;
- ``responses``: Scan and Query answers written with ``json.dumps``.

Each gives exactly moto's answers (the tests compare them with moto's own on the same
data) and hands anything it does not cover to moto's method. The server tells ``scan`` and
``query`` which item slots every write request named, so their caches follow every write.
"""
