"""Use cases shared by the HTML pages and the JSON API: each combines the pure rules of
`cloudstore.domain` with the stores, so neither web layer repeats the other."""
