"""A flight tracker bot for Parley: watches aircraft in ADS-B data (readsb/dump1090
`aircraft.json`), detects their take-offs and landings and posts them through Parley's public
API with an API token, obeying the server's location policy. See README.md."""
