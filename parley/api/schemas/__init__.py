"""Request and response bodies, one module per group of routes. Lengths and formats are checked
in `core`, so their errors carry the rule's own code; here only the JSON shape and text safety
are checked."""
