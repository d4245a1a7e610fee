"""Link safety, the pure part: canonicalize URLs, match them against link rules, find them in text.

No I/O here (DESIGN.md, Architecture): following shortener redirects and storing rules belong to
services and store, which call into these modules.
"""
