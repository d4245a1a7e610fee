"""Media: the WebRTC edge and the per-space mixer (DESIGN.md, "Media")."""
